/* SMTP as a client speaks it (the proxy's upstream side): replies and
 * EHLO capabilities. */
#ifndef MSGW_SMTP_CLIENT_H
#define MSGW_SMTP_CLIENT_H

#include <stddef.h>

#include "net/stream.h"

#define SMTP_REPLY_MAX 8192
#define SMTP_REPLY_LINES 100

struct smtp_reply {
	int code;
	size_t len;
	char text[SMTP_REPLY_MAX]; /* verbatim, every line ending in CR LF */
};

/* One reply, all its lines (the same code on each, at most
 * SMTP_REPLY_LINES, SMTP_REPLY_MAX bytes): 0, or -1 when the stream
 * failed or the reply is malformed. */
int smtp_reply_read(struct stream *s, struct smtp_reply *r);

struct smtp_caps {
	int chunking, starttls, auth_plain, auth_login;
};

/* The capabilities an EHLO reply announces. */
void smtp_caps_parse(const struct smtp_reply *r, struct smtp_caps *c);

#endif
