/* The proxy session over one connection. */
#ifndef MSGW_PROXY_SESSION_H
#define MSGW_PROXY_SESSION_H

#include "net/frontend.h"

int proxy_session(const struct conn *c, const struct frontend *fe);

#endif
