/* Dot-terminated bodies through the proxy, in both directions: the SMTP
 * client's DATA (strict: only CRLF "." CRLF ends it, as msgw-smtp reads
 * it) and an upstream's POP3 RETR/TOP/list replies (upstream mode: LF
 * ends lines too). Both are read by smtp/data.c's one end-of-data reader,
 * the content goes to the tee, and the far side gets that same content
 * dot-stuffed again by the proxy itself: a "." is stuffed at the start of
 * every line, a line after a bare LF included, so a reader that ends
 * lines at LF cannot find an end of data (or a command) inside it, and
 * what is forwarded is exactly what is recorded. Memory stays constant. */
#include "config.h"

#include <string.h>

#include "proxy/proxy.h"

struct restuff {
	sink_fn fwd; /* NULL: read and tee only */
	void *fctx;
	int bol;     /* the next byte starts a line */
	struct body_result *r;
};

static void fwd(struct restuff *x, const unsigned char *p, size_t n)
{
	if (x->fwd != NULL && !x->r->fwd_err && n > 0 && x->fwd(x->fctx, p, n) < 0)
		x->r->fwd_err = 1;
}

/* Line by line (memchr to each LF): a "." starting a line gets another. */
static void restuff(struct restuff *x, const unsigned char *p, size_t n)
{
	size_t seg = 0, i = 0;

	while (i < n) {
		const unsigned char *nl;

		if (x->bol && p[i] == '.') {
			fwd(x, p + seg, i - seg);
			fwd(x, (const unsigned char *)".", 1);
			seg = i;
		}
		nl = memchr(p + i, '\n', n - i);
		if (nl == NULL) {
			x->bol = 0;
			break;
		}
		i = (size_t)(nl - p) + 1;
		x->bol = 1;
	}
	fwd(x, p + seg, n - seg);
}

int sink_stream(void *ctx, const void *p, size_t n)
{
	return stream_write(ctx, p, n);
}

int sink_tee(void *ctx, const void *p, size_t n)
{
	return tee_write(ctx, p, n);
}

void body_relay(struct stream *in, enum data_mode mode, sink_fn fwd_fn, void *fctx, sink_fn tee,
                void *tctx, struct body_result *r)
{
	struct restuff x = {fwd_fn, fctx, 1, r};
	struct data_reader dr;
	unsigned char out[STREAM_BUFSIZE + 1];

	memset(r, 0, sizeof *r);
	data_reader_init_mode(&dr, mode);
	while (dr.st != DS_END) {
		const unsigned char *p;
		ssize_t got = stream_peek(in, &p);
		size_t used, outlen;

		if (got <= 0) {
			r->in_err = 1;
			return;
		}
		used = data_reader_feed(&dr, p, (size_t)got, out, &outlen);
		stream_consume(in, used);
		r->raw += used;
		r->content += outlen;
		if (tee != NULL && !r->tee_err && outlen > 0 && tee(tctx, out, outlen) < 0)
			r->tee_err = 1;
		restuff(&x, out, outlen);
	}
	/* The caller's "." CRLF, once it decides to send it, ends the body:
	 * content that does not end in a line end gets one first. */
	if (!x.bol && x.fwd != NULL)
		fwd(&x, (const unsigned char *)"\r\n", 2);
	r->too_long = mode == DATA_STRICT && dr.line_too_long;
}
