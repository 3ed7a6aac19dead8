/* Recipient checks for the journal target: <id>@<domain> (domain in any
 * case, id exactly as stored, "+tag" allowed), the mailbox's status, and
 * the allowed networks (global and per mailbox). */
#ifndef MSGW_SMTP_RCPT_H
#define MSGW_SMTP_RCPT_H

#include "conf/conf.h"
#include "store/store.h"

enum rcpt_result {
	RCPT_OK = 0,
	RCPT_OTHER_DOMAIN,   /* 550 5.7.1: no relaying */
	RCPT_UNKNOWN,        /* 550 5.1.1 */
	RCPT_SUSPENDED,      /* 450 4.2.1 */
	RCPT_NETWORK,        /* 554 5.7.1: peer outside the mailbox's networks */
	RCPT_TEMPFAIL,       /* 451 4.3.0: the store could not be read */
};

/* Is peer in one of the n networks? (n == 0: no restriction.) */
int networks_allow(const struct cidr *nets, size_t n, const char *peer);

/* Checks addr (a forward-path without <>); on RCPT_OK mb is loaded. */
enum rcpt_result rcpt_lookup(const struct store *st, const struct config *cfg, const char *peer,
			     const char *addr, struct mailbox *mb);

#endif
