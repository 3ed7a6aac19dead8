#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MSGW_NET_STREAM_IMPL   /* may see the fields of struct stream */
#include "net/stream-internal.h"
#include "net/tls.h"
#include "util/wipe.h"

long long stream_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

struct stream *stream_new(int rfd, int wfd, int timeout_ms)
{
	struct stream *s = calloc(1, sizeof *s);

	if (s == NULL)
		return NULL;
	s->rfd = rfd;
	s->wfd = wfd;
	s->timeout_ms = timeout_ms;
	set_nonblock(rfd);
	if (wfd != rfd)
		set_nonblock(wfd);
	return s;
}

void stream_free(struct stream *s)
{
	if (s == NULL)
		return;
	if (s->tls)
		tls_end(s, 0);
	wipe(s, sizeof *s);
	free(s);
}

void stream_set_timeout(struct stream *s, int timeout_ms) { s->timeout_ms = timeout_ms; }

void stream_set_session_limit(struct stream *s, int seconds)
{
	s->deadline_ms = stream_now_ms() + (long long)seconds * 1000;
}

void stream_set_login_limit(struct stream *s, int seconds)
{
	s->login_deadline_ms = stream_now_ms() + (long long)seconds * 1000;
}

void stream_login_done(struct stream *s) { s->login_deadline_ms = 0; }

long long stream_deadline(const struct stream *s)
{
	long long a = s->deadline_ms, b = s->login_deadline_ms;

	return a && b ? (a < b ? a : b) : a ? a : b;
}

void stream_set_error(struct stream *s, enum stream_err e, const char *fmt, ...)
{
	va_list ap;

	if (s->err != STREAM_OK)   /* keep the first, root cause */
		return;
	s->err = e;
	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
	va_end(ap);
}

const char *stream_strerror(const struct stream *s)
{
	return s->err == STREAM_OK ? "no error" : s->errmsg;
}

/* Milliseconds to wait for the next event: the per-op timeout, cut short
 * by the session deadline. */
static int wait_budget(const struct stream *s)
{
	long long t = s->timeout_ms > 0 ? s->timeout_ms : 24LL * 3600 * 1000;

	long long end = stream_deadline(s);

	if (end) {
		long long left = end - stream_now_ms();
		if (left < t)
			t = left > 0 ? left : 0;
	}
	return (int)t;
}

static int wait_fd(struct stream *s, int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int rc;

	for (;;) {
		rc = poll(&p, 1, wait_budget(s));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			stream_set_error(s, STREAM_IO, "poll: %s", strerror(errno));
			return -1;
		}
		if (rc == 0) {
			stream_set_error(s, STREAM_TIMEOUT, "timed out");
			return -1;
		}
		return 0;
	}
}

ssize_t stream_raw_read(struct stream *s, void *buf, size_t n)
{
	for (;;) {
		ssize_t r = read(s->rfd, buf, n);

		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			stream_set_error(s, STREAM_IO, "read: %s", strerror(errno));
			return -1;
		}
		if (wait_fd(s, s->rfd, POLLIN) < 0)
			return -1;
	}
}

ssize_t stream_raw_write(struct stream *s, const void *buf, size_t n)
{
	for (;;) {
		ssize_t w = write(s->wfd, buf, n);

		if (w >= 0)
			return w;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			stream_set_error(s, STREAM_IO, "write: %s", strerror(errno));
			return -1;
		}
		if (wait_fd(s, s->wfd, POLLOUT) < 0)
			return -1;
	}
}

static ssize_t transport_write(struct stream *s, const void *p, size_t n)
{
	return s->tls ? tls_write(s, p, n) : stream_raw_write(s, p, n);
}

int stream_flush(struct stream *s)
{
	size_t off = 0;

	if (s->err != STREAM_OK)
		return -1;
	while (off < s->wlen) {
		ssize_t w = transport_write(s, s->wbuf + off, s->wlen - off);
		if (w <= 0) {
			stream_set_error(s, STREAM_IO, "write failed");
			s->wlen = 0;
			return -1;
		}
		off += (size_t)w;
		s->bytes_out += (uint64_t)w;
	}
	s->wlen = 0;
	return 0;
}

int stream_write(struct stream *s, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n > 0) {
		size_t room = sizeof s->wbuf - s->wlen, k = n < room ? n : room;

		memcpy(s->wbuf + s->wlen, c, k);
		s->wlen += k;
		c += k;
		n -= k;
		if (s->wlen == sizeof s->wbuf && stream_flush(s) < 0)
			return -1;
	}
	return s->err == STREAM_OK ? 0 : -1;
}

int stream_puts(struct stream *s, const char *str)
{
	return stream_write(s, str, strlen(str));
}

int stream_printf(struct stream *s, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof line) {
		stream_set_error(s, STREAM_IO, "internal error: reply line too long");
		return -1;
	}
	return stream_write(s, line, (size_t)n);
}

/* Refill the read buffer; flushes pending output first, since the peer
 * may be waiting for our replies before it sends more. */
static int fill(struct stream *s)
{
	ssize_t r;

	if (s->err != STREAM_OK)
		return -1;
	if (s->wlen && (!s->tls || !tls_pending(s)) && stream_flush(s) < 0)
		return -1;
	if (s->rpos == s->rlen)
		s->rpos = s->rlen = 0;
	r = s->tls ? tls_read(s, s->rbuf + s->rlen, sizeof s->rbuf - s->rlen)
		   : stream_raw_read(s, s->rbuf + s->rlen, sizeof s->rbuf - s->rlen);
	if (r < 0)
		return -1;
	if (r == 0) {
		stream_set_error(s, STREAM_EOF, "connection closed by peer");
		return 0;
	}
	s->rlen += (size_t)r;
	s->bytes_in += (uint64_t)r;
	return 1;
}

enum line_result stream_getline(struct stream *s, char *line, size_t max, size_t *len)
{
	size_t have = 0;
	int too_long = 0;

	*len = 0;
	/* Past a deadline no further line is taken, even one that is
	 * already buffered: a client cannot outrun the limit by pipelining. */
	if (wait_budget(s) == 0) {
		stream_set_error(s, STREAM_TIMEOUT, "session time limit reached");
		return LINE_ERROR;
	}
	for (;;) {
		unsigned char *start = s->rbuf + s->rpos;
		size_t avail = s->rlen - s->rpos;
		unsigned char *nl = memchr(start, '\n', avail);
		size_t take = nl ? (size_t)(nl - start) + 1 : avail;

		if (!too_long) {
			if (have + take > max - 1) {
				too_long = 1;
			} else {
				memcpy(line + have, start, take);
				have += take;
			}
		}
		s->rpos += take;
		if (nl) {
			line[too_long ? 0 : have] = '\0';
			*len = too_long ? 0 : have;
			return too_long ? LINE_TOO_LONG : LINE_OK;
		}
		if (s->rpos == s->rlen)
			s->rpos = s->rlen = 0;
		int r = fill(s);
		if (r <= 0) {
			line[too_long ? 0 : have] = '\0';
			*len = too_long ? 0 : have;
			return r == 0 ? LINE_EOF : LINE_ERROR;
		}
	}
}

ssize_t stream_read(struct stream *s, void *buf, size_t n)
{
	size_t avail;

	if (s->rpos == s->rlen) {
		int r = fill(s);
		if (r <= 0)
			return r;
	}
	avail = s->rlen - s->rpos;
	if (n > avail)
		n = avail;
	memcpy(buf, s->rbuf + s->rpos, n);
	s->rpos += n;
	return (ssize_t)n;
}

enum stream_err stream_error(const struct stream *s)
{
	return s->err;
}

long long stream_time_left(const struct stream *s)
{
	long long end = stream_deadline(s);

	if (end == 0)
		return -1;
	return end > stream_now_ms() ? end - stream_now_ms() : 0;
}

void stream_wipe_consumed(struct stream *s)
{
	wipe(s->rbuf, s->rpos);
}

void stream_wipe_input(struct stream *s)
{
	wipe(s->rbuf, s->rpos);
	wipe(s->rbuf + s->rlen, sizeof s->rbuf - s->rlen);
}

void stream_clear_error(struct stream *s)
{
	s->err = STREAM_OK;
}

void stream_wipe_output(struct stream *s)
{
	wipe(s->wbuf, sizeof s->wbuf);
}

int stream_wfd(const struct stream *s)
{
	return s->wfd;
}

void chomp(char *line, size_t *len)
{
	while (*len > 0 && (line[*len - 1] == '\n' || line[*len - 1] == '\r'))
		line[--*len] = '\0';
}

ssize_t stream_peek(struct stream *s, const unsigned char **p)
{
	if (s->rpos == s->rlen) {
		int r = fill(s);
		if (r <= 0)
			return r;
	}
	*p = s->rbuf + s->rpos;
	return (ssize_t)(s->rlen - s->rpos);
}

void stream_consume(struct stream *s, size_t n)
{
	if (n > s->rlen - s->rpos)
		abort(); /* more than stream_peek offered: a caller bug */
	s->rpos += n;
}

int stream_read_exact(struct stream *s, void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t r = stream_read(s, p, n);
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

size_t stream_pending(const struct stream *s)
{
	return s->rlen - s->rpos;
}

void stream_discard_pending(struct stream *s)
{
	s->rpos = s->rlen = 0;
}

int stream_input_ready(struct stream *s, int timeout_ms)
{
	struct pollfd p = { .fd = s->rfd, .events = POLLIN };

	if (stream_pending(s) || (s->tls && tls_pending(s)))
		return 1;
	return poll(&p, 1, timeout_ms) > 0;
}

void stream_shutdown(struct stream *s)
{
	if (s->err == STREAM_OK)
		(void)stream_flush(s);
	if (s->tls)
		tls_end(s, s->err == STREAM_OK);
}
