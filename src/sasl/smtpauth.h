/* Reading an SMTP AUTH PLAIN or LOGIN exchange from a client (RFC 4954,
 * RFC 4616; LOGIN as deployed): the 334 prompts are sent here, the final
 * reply is the caller's. Shared by msgw-smtp and msgw-proxy's front end,
 * so both read credentials the same way and wipe them the same way. */
#ifndef MSGW_SASL_SMTPAUTH_H
#define MSGW_SASL_SMTPAUTH_H

#include <stddef.h>

#include "net/stream.h"

#define SMTPAUTH_LINE 1024

enum smtpauth_result {
	SMTPAUTH_OK = 0,          /* c->user, c->pass, c->plen are set */
	SMTPAUTH_BAD_MECH,        /* not PLAIN or LOGIN: 504 5.5.4 */
	SMTPAUTH_CANCELLED,       /* the client sent "*": 501 5.0.0 */
	SMTPAUTH_MALFORMED,       /* bad base64 or PLAIN message: 501 5.5.2 */
	SMTPAUTH_LOST,            /* EOF, timeout or an overlong line: end the session */
};

struct smtpauth {
	const char *user, *pass;  /* point into the buffers below */
	size_t plen;
	char line[SMTPAUTH_LINE];
	char name[SMTPAUTH_LINE];
	unsigned char dec[SMTPAUTH_LINE];
	size_t dlen;
};

/* args: what follows "AUTH " ("PLAIN", "PLAIN <b64>", "LOGIN", ...). */
enum smtpauth_result smtpauth_read(struct stream *s, const char *args, struct smtpauth *a);
/* Wipe every copy of the credentials: ours and the consumed part of the
 * stream's input buffer. */
void smtpauth_wipe(struct smtpauth *a, struct stream *s);

#endif
