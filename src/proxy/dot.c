/* Dot-terminated bodies (RFC 5321 4.5.2, RFC 1939 3): SMTP DATA from the
 * client, POP3 RETR from the upstream. Bytes are forwarded verbatim and
 * teed un-dot-stuffed, in place in the stream's buffer: memory stays
 * constant whatever the message size. A line ends at LF (a bare LF too, as
 * Postfix and Dovecot accept it), so the terminator is "." CR LF or "." LF
 * at the start of a line. */
#include "config.h"

#include <string.h>

#include "proxy/proxy.h"

enum dstate { D_BOL, D_MID, D_DOT, D_DOTCR };

struct dot {
	enum dstate st;
	int hold_end;
	sink_fn fwd, tee;
	void *fctx, *tctx;
	struct dot_result *r;
};

static void out_fwd(struct dot *d, const void *p, size_t n)
{
	if (n && !d->r->fwd_err && d->fwd(d->fctx, p, n) < 0)
		d->r->fwd_err = 1;
}

static void out_tee(struct dot *d, const void *p, size_t n)
{
	if (n && d->tee && !d->r->tee_err && d->tee(d->tctx, p, n) < 0)
		d->r->tee_err = 1;
}

static size_t finish(struct dot *d, const char *term, size_t tlen, size_t used, int *done)
{
	if (!d->hold_end)
		out_fwd(d, term, tlen);
	*done = 1;
	return used;
}

/* Scan buf[0..n) and pass it on; returns how many bytes belong to the
 * body (terminator included), *done once the terminator was seen. A dot
 * at the start of a line (and a CR after it) is held back, even across
 * buffers, until the next byte tells stuffing from the terminator. */
static size_t scan(struct dot *d, const unsigned char *buf, size_t n, int *done)
{
	size_t i, tseg = 0, fseg = 0;

	*done = 0;
	for (i = 0; i < n; i++) {
		unsigned char c = buf[i];

		switch (d->st) {
		case D_MID: {
			/* most bytes are inside lines: jump to the line's end */
			const unsigned char *nl = memchr(buf + i, '\n', n - i);
			if (nl == NULL) {
				i = n - 1;
				break;
			}
			i = (size_t)(nl - buf);
			d->st = D_BOL;
			break;
		}
		case D_BOL:
			if (c == '.') {
				out_tee(d, buf + tseg, i - tseg);
				out_fwd(d, buf + fseg, i - fseg);
				tseg = fseg = i + 1;
				d->st = D_DOT;
			} else {
				d->st = c == '\n' ? D_BOL : D_MID;
			}
			break;
		case D_DOT:
			if (c == '\n')
				return finish(d, ".\n", 2, i + 1, done);
			if (c == '\r') {
				tseg = fseg = i + 1;
				d->st = D_DOTCR;
				break;
			}
			out_fwd(d, ".", 1); /* a stuffing dot: forwarded, not content */
			d->st = D_MID;
			break;
		case D_DOTCR:
			if (c == '\n')
				return finish(d, ".\r\n", 3, i + 1, done);
			out_fwd(d, ".\r", 2);
			out_tee(d, "\r", 1);
			d->st = D_MID;
			break;
		}
	}
	out_tee(d, buf + tseg, n - tseg);
	out_fwd(d, buf + fseg, n - fseg);
	return n;
}

void dot_relay(struct stream *in, sink_fn fwd, void *fctx, sink_fn tee, void *tctx, int hold_end,
               struct dot_result *r)
{
	struct dot d = {D_BOL, hold_end, fwd, tee, fctx, tctx, r};
	int done = 0;

	memset(r, 0, sizeof *r);
	while (!done) {
		size_t used;

		if (stream_pending(in) == 0) {
			char none;
			(void)stream_read(in, &none, 0); /* fills the buffer, consumes nothing */
			if (stream_pending(in) == 0) {
				r->in_err = 1;
				return;
			}
		}
		used = scan(&d, in->rbuf + in->rpos, stream_pending(in), &done);
		in->rpos += used;
		r->raw += used;
	}
}
