/* Shared pieces of src/acme: error reports, base64url, file helpers. */
#ifndef MSGW_ACME_INTERNAL_H
#define MSGW_ACME_INTERNAL_H

#include <stddef.h>
#include <time.h>

#include "util/buf.h"

/* The one message a failed step reports; its caller adds what it was doing. */
struct acme_err {
	char msg[1024];
};
/* Sets e->msg (if e is not NULL) and returns -1. */
int aerr(struct acme_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefixes e->msg with "PREFIX: " and returns -1. */
int aerr_prefix(struct acme_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* base64url without padding, appended to out. */
int b64url_append(struct buf *out, const void *data, size_t len);
/* Decode base64url (padding allowed) into out (at most size bytes); -1 on
 * bad input or overflow, else the decoded length in *n. */
int b64url_decode(const char *s, size_t len, unsigned char *out, size_t size, size_t *n);

/* "2026-11-23T05:56:33Z" for t (UTC). */
const char *fmt_time(time_t t, char *out, size_t size);
/* Parse RFC 3339 (UTC "Z" or a numeric offset, fractional seconds ignored). */
int parse_time(const char *s, time_t *t);

/* Small files: certificates, keys, JSON state. */
#define ACME_FILE_MAX (1024 * 1024)
int read_small(const char *path, struct buf *out, struct acme_err *e);

#endif
