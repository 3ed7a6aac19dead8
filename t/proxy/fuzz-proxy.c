/* libFuzzer target for the proxy's parsers. The first byte picks one:
 *   0  the log-in name remote_user%target%mailbox and the allow-list check
 *   1  base64 decoding and SASL PLAIN splitting
 *   2  the dot-terminated body relay: forwarded bytes must be exactly a
 *      prefix of the input, the content never longer than it. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy/proxy.h"
#include "smtp/data.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sink_buf(void *ctx, const void *p, size_t n)
{
	return buf_append(ctx, p, n);
}

static void fuzz_login(const uint8_t *d, size_t n)
{
	char *s = malloc(n + 1);
	char *v[] = {"*.example.com", "mail.example.org"};
	struct strlist l = {v, 2};
	struct proxy_target t;
	const char *why;

	if (s == NULL)
		return;
	memcpy(s, d, n);
	s[n] = '\0';
	if (proxy_login_parse(s, &t, &why) == 0) {
		if (t.user[0] == '\0' || t.host[0] == '\0' || strlen(t.mailbox) != MAILBOX_ID_LEN)
			abort();
		(void)proxy_target_match(&l, t.host, t.port[0] ? t.port : "25", proxy_smtp.std_ports);
	}
	free(s);
}

static void fuzz_sasl(const uint8_t *d, size_t n)
{
	unsigned char out[1024];
	size_t olen, plen;
	const char *u, *p;
	char back[1500];

	if (b64_decode((const char *)d, n, out, sizeof out, &olen) < 0)
		return;
	if (b64_encode(out, olen, back, sizeof back) < 0 || strlen(back) != n ||
	    memcmp(back, d, n) != 0) {
		/* only canonical padding bits may differ: decode again must agree */
		unsigned char again[1024];
		size_t alen;
		if (b64_decode(back, strlen(back), again, sizeof again, &alen) < 0 ||
		    alen != olen || memcmp(again, out, olen) != 0)
			abort();
	}
	if (sasl_plain_split(out, olen, &u, &p, &plen) == 0 &&
	    ((const unsigned char *)p + plen > out + olen || (const unsigned char *)u < out))
		abort();
}

/* A stream over a pipe already holding d[0..n) (closed for writing). */
static struct stream *pipe_stream(const void *d, size_t n, int *rfd)
{
	struct stream *s;
	int pfd[2];

	if (pipe(pfd) < 0)
		return NULL;
	if (n && write(pfd[1], d, n) != (ssize_t)n) {
		close(pfd[0]);
		close(pfd[1]);
		return NULL;
	}
	close(pfd[1]);
	if ((s = stream_new(pfd[0], pfd[0], 1000)) == NULL) {
		close(pfd[0]);
		return NULL;
	}
	*rfd = pfd[0];
	return s;
}

static void fuzz_dot(const uint8_t *d, size_t n)
{
	struct stream *s;
	struct buf f, c;
	struct body_result r;
	int rfd;

	/* the whole input fits the pipe, so one process can write then read */
	if (n > 60000 || (s = pipe_stream(d, n, &rfd)) == NULL)
		return;
	buf_init(&f, 0);
	buf_init(&c, 0);
	body_relay(s, DATA_UPSTREAM, sink_buf, &f, sink_buf, &c, &r);
	if (c.len != r.content || c.len > n || f.len > 2 * n + 2 ||
	    (!r.in_err && r.raw > n))
		abort();
	buf_free(&f);
	buf_free(&c);
	stream_free(s);
	close(rfd);
}

/* The client's DATA as the proxy relays it: what an LF-lenient upstream
 * reads from the re-stuffed bytes (plus the final dot) is exactly what
 * msgw-smtp's strict reader found in the input: no end of data, and no
 * command, can hide in a message. */
static void fuzz_data(const uint8_t *d, size_t n)
{
	struct stream *in, *up, *back;
	struct body_result r;
	struct data_reader dr;
	struct body_result dres;
	struct buf want, got, fwd;
	unsigned char *out;
	size_t outlen, used;
	int ifd, ufd[2], bfd;

	/* input and re-stuffed output (at most twice as long) fit the pipes */
	if (n > 20000 || (out = malloc(n + 1)) == NULL)
		return;
	data_reader_init(&dr);
	used = data_reader_feed(&dr, d, n, out, &outlen);
	buf_init(&want, 0);
	(void)buf_append(&want, out, outlen);
	free(out);
	if ((in = pipe_stream(d, n, &ifd)) == NULL || pipe(ufd) < 0) {
		buf_free(&want);
		return;
	}
	if ((up = stream_new(ufd[0], ufd[1], 1000)) == NULL)
		abort();
	body_relay(in, DATA_STRICT, sink_stream, up, NULL, NULL, &r);
	if (r.in_err != (dr.st != DS_END) || (!r.in_err && r.raw != used))
		abort(); /* the relay ends where the strict reader ends */
	(void)stream_puts(up, ".\r\n");
	(void)stream_flush(up);
	close(ufd[1]);
	buf_init(&fwd, 0);
	for (;;) {
		char blk[4096];
		ssize_t k = read(ufd[0], blk, sizeof blk);
		if (k <= 0)
			break;
		(void)buf_append(&fwd, blk, (size_t)k);
	}
	if (!r.in_err && (back = pipe_stream(fwd.data, fwd.len, &bfd)) != NULL) {
		struct buf copy;

		buf_init(&got, 0);
		buf_init(&copy, 0);
		body_relay(back, DATA_UPSTREAM, sink_buf, &copy, sink_buf, &got, &dres);
		/* the LF-lenient reader sees the recorded content, then the end
		 * exactly where the proxy put it */
		if (dres.in_err || dres.raw != fwd.len || got.len != want.len ||
		    (got.len && memcmp(got.data, want.data, got.len) != 0))
			abort();
		buf_free(&copy);
		buf_free(&got);
		close(bfd);
		stream_free(back);
	}
	buf_free(&fwd);
	buf_free(&want);
	close(ufd[0]);
	close(ifd);
	stream_free(in);
	stream_free(up);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 4) {
	case 0:
		fuzz_login(data + 1, size - 1);
		break;
	case 1:
		fuzz_sasl(data + 1, size - 1);
		break;
	case 2:
		fuzz_dot(data + 1, size - 1);
		break;
	default:
		fuzz_data(data + 1, size - 1);
		break;
	}
	return 0;
}
