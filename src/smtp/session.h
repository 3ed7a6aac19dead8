/* The smtp session over one connection. */
#ifndef MSGW_SMTP_SESSION_H
#define MSGW_SMTP_SESSION_H

#include "net/frontend.h"

int smtp_session(const struct conn *c, const struct frontend *fe);

#endif
