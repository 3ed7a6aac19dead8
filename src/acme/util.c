#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/internal.h"
#include "util/path.h"

int aerr(struct acme_err *e, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

int aerr_prefix(struct acme_err *e, const char *fmt, ...)
{
	char pre[512], old[sizeof e->msg];
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof pre, fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof old);
	old[sizeof old - 1] = '\0';
	if (snprintf(e->msg, sizeof e->msg, "%s: %s", pre, old) < 0)
		e->msg[0] = '\0';
	return -1;
}

static const char b64u[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int b64url_append(struct buf *out, const void *data, size_t len)
{
	const unsigned char *p = data;
	char q[4];
	size_t i;

	for (i = 0; i + 3 <= len; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		q[0] = b64u[v >> 18];
		q[1] = b64u[(v >> 12) & 63];
		q[2] = b64u[(v >> 6) & 63];
		q[3] = b64u[v & 63];
		if (buf_append(out, q, 4) < 0)
			return -1;
	}
	if (len - i == 1) {
		unsigned v = (unsigned)p[i] << 16;
		q[0] = b64u[v >> 18];
		q[1] = b64u[(v >> 12) & 63];
		return buf_append(out, q, 2);
	}
	if (len - i == 2) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
		q[0] = b64u[v >> 18];
		q[1] = b64u[(v >> 12) & 63];
		q[2] = b64u[(v >> 6) & 63];
		return buf_append(out, q, 3);
	}
	return 0;
}

static int b64u_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-' || c == '+')
		return 62;
	if (c == '_' || c == '/')
		return 63;
	return -1;
}

int b64url_decode(const char *s, size_t len, unsigned char *out, size_t size, size_t *n)
{
	unsigned acc = 0;
	int bits = 0;
	size_t o = 0;

	while (len > 0 && s[len - 1] == '=')
		len--;
	for (size_t i = 0; i < len; i++) {
		int v = b64u_val((unsigned char)s[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= size)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	*n = o;
	return 0;
}

const char *fmt_time(time_t t, char *out, size_t size)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, size, "@%lld", (long long)t);
	return out;
}

int parse_time(const char *s, time_t *t)
{
	struct tm tm;
	const char *p;
	long off = 0;
	time_t v;

	memset(&tm, 0, sizeof tm);
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		return -1;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int hh, mm;
		if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
			return -1;
		off = (hh * 60L + mm) * 60L * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	v = timegm(&tm);
	if (v == (time_t)-1)
		return -1;
	*t = v - off;
	return 0;
}

int read_small(const char *path, struct buf *out, struct acme_err *e)
{
	char *data = NULL;
	size_t len = 0;
	int rc;

	if (read_file_bounded(path, ACME_FILE_MAX, &data, &len) < 0) {
		int saved = errno;
		aerr(e, "%s: %s", path, saved == EFBIG ? "file too large" : strerror(saved));
		errno = saved;
		return -1;
	}
	buf_reset(out);
	rc = buf_append(out, data, len);
	explicit_bzero(data, len);
	free(data);
	if (rc < 0)
		return aerr(e, "%s: %s", path, strerror(errno));
	return 0;
}
