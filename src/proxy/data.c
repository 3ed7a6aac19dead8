/* The client's DATA in the SMTP proxy: read with msgw-smtp's own
 * end-of-data reader (smtp/data.h: only CRLF "." CRLF ends it, a bare LF
 * or CR is content), teed un-stuffed, and sent upstream dot-stuffed again
 * by the proxy itself. The upstream therefore gets exactly the recorded
 * content: a "." is stuffed at the start of every line, a line after a
 * bare LF included, so an upstream that ends lines at LF cannot find an
 * end of data (or a command) inside it. */
#include "config.h"

#include <string.h>

#include "proxy/proxy.h"
#include "smtp/data.h"

struct restuff {
	struct stream *up; /* NULL: read and tee only */
	int bol;           /* the next byte starts a line */
	struct data_relay_result *r;
};

static void fwd(struct restuff *x, const unsigned char *p, size_t n)
{
	if (x->up != NULL && !x->r->fwd_err && n > 0 && stream_write(x->up, p, n) < 0)
		x->r->fwd_err = 1;
}

static void restuff(struct restuff *x, const unsigned char *p, size_t n)
{
	size_t seg = 0;

	for (size_t i = 0; i < n; i++) {
		if (x->bol && p[i] == '.') {
			fwd(x, p + seg, i - seg);
			fwd(x, (const unsigned char *)".", 1);
			seg = i;
		}
		x->bol = p[i] == '\n';
	}
	fwd(x, p + seg, n - seg);
}

void proxy_data_relay(struct stream *in, struct stream *up, struct tee *tee,
                      struct data_relay_result *r)
{
	struct restuff x = {up, 1, r};
	struct data_reader dr;
	unsigned char out[STREAM_BUFSIZE + 1];

	memset(r, 0, sizeof *r);
	data_reader_init(&dr);
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
		if (tee != NULL && tee_active(tee) && !r->tee_err && outlen > 0 &&
		    tee_write(tee, out, outlen) < 0)
			r->tee_err = 1;
		restuff(&x, out, outlen);
	}
	/* the content ends in CRLF (the reader keeps the CRLF before the
	 * dot), so the caller's "." CRLF, once it decides to send it, ends it */
	r->too_long = dr.line_too_long;
}
