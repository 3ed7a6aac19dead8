/* The trace fields prepended to each accepted message (RFC 5321 4.4):
 * Return-Path with the envelope sender, then Received. */
#ifndef MSGW_SMTP_RECEIVED_H
#define MSGW_SMTP_RECEIVED_H

#include <stddef.h>
#include <time.h>

struct trace_info {
	const char *from;       /* envelope sender, "" for <> */
	const char *helo;       /* the client's HELO/EHLO name, or "" */
	const char *peer;       /* numeric address */
	const char *hostname;   /* ours */
	const char *tls;        /* tls_describe() text, or NULL without TLS */
	const char *id;         /* the message's id */
	const char *rcpt;       /* for <...> when there is exactly one; else NULL */
	int esmtp, smtputf8;
	time_t when;
};

/* The header block into out; its length, or -1 when it does not fit. */
int trace_format(char *out, size_t size, const struct trace_info *t);

#endif
