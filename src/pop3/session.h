/* The pop3 session over one connection. */
#ifndef MSGW_POP3_SESSION_H
#define MSGW_POP3_SESSION_H

#include "net/frontend.h"

int pop3_session(const struct conn *c, const struct frontend *fe);

#endif
