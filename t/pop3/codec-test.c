/* Unit tests of src/pop3/codec.c: byte-stuffing with CRLF conversion and
 * TOP limits (fed whole and byte by byte, so chunk boundaries cannot
 * matter), base64 for AUTH PLAIN, numeric arguments. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pop3/pop3.h"
#include "t/tap.h"
#include "util/buf.h"

static int emit_buf(void *ctx, const void *p, size_t n)
{
	return buf_append(ctx, p, n);
}

/* Stuff in in pieces of step bytes (0: all at once). */
static void stuff(const char *in, int top, uint64_t lines, size_t step, struct buf *out,
		  uint64_t *octets)
{
	struct pop3_stuffer f;
	size_t len = strlen(in), i = 0;

	buf_reset(out);
	pop3_stuffer_init(&f, top, lines);
	if (step == 0)
		step = len ? len : 1;
	for (; i < len; i += step)
		if (pop3_stuff(&f, (const unsigned char *)in + i, len - i < step ? len - i : step,
			       emit_buf, out) < 0)
			bail("stuff: out of memory");
	if (pop3_stuff_end(&f, emit_buf, out) < 0)
		bail("stuff_end: out of memory");
	*octets = f.out_bytes;
}

static void check(const char *name, const char *in, int top, uint64_t lines, const char *want,
		  long long want_octets)
{
	struct buf out;
	uint64_t octets;

	buf_init(&out, 0);
	stuff(in, top, lines, 0, &out, &octets);
	is_mem(out.data, out.len, want, strlen(want), "%s", name);
	if (want_octets >= 0)
		is_int((long long)octets, want_octets, "%s: octet count before stuffing", name);
	stuff(in, top, lines, 1, &out, &octets);
	is_mem(out.data, out.len, want, strlen(want), "%s, one byte at a time", name);
	buf_free(&out);
}

static void test_stuffing(void)
{
	check("CRLF message unchanged", "A: b\r\n\r\nbody\r\n", 0, 0, "A: b\r\n\r\nbody\r\n.\r\n", 14);
	check("bare LF becomes CRLF", "A: b\n\nbody\n", 0, 0, "A: b\r\n\r\nbody\r\n.\r\n", 14);
	check("leading dots doubled", "A: b\r\n\r\n.\r\n..x\r\n.y\n", 0, 0,
	      "A: b\r\n\r\n..\r\n...x\r\n..y\r\n.\r\n", 20);
	check("dot only at a line start", "a.b\r\n", 0, 0, "a.b\r\n.\r\n", 5);
	check("no final line end: one is added", "A: b\r\n\r\nx", 0, 0, "A: b\r\n\r\nx\r\n.\r\n", -1);
	check("empty message", "", 0, 0, ".\r\n", 0);
	check("bare CR kept", "a\rb\r\n", 0, 0, "a\rb\r\n.\r\n", 5);
	check("TOP 0: header and blank line", "A: b\r\nC: d\r\n\r\nl1\r\nl2\r\n", 1, 0,
	      "A: b\r\nC: d\r\n\r\n.\r\n", 14);
	check("TOP 1: one body line", "A: b\n\nl1\nl2\n", 1, 1, "A: b\r\n\r\nl1\r\n.\r\n", 12);
	check("TOP beyond the body: whole message", "A: b\n\n.l1\nl2\n", 1, 99999999,
	      "A: b\r\n\r\n..l1\r\nl2\r\n.\r\n", 17);
	check("TOP of a header-only message", "A: b\r\nC: d\r\n", 1, 0, "A: b\r\nC: d\r\n.\r\n", 12);
	check("TOP: a CR-only line ends the header", "A: b\r\n\r\nl1\r\n", 1, 0,
	      "A: b\r\n\r\n.\r\n", 8);
}

static void test_base64(void)
{
	unsigned char out[64];

	is_int(pop3_base64_decode("AHVzZXIAcGFzcw==", 16, out, sizeof out), 10, "base64 with ==");
	ok(memcmp(out, "\0user\0pass", 10) == 0, "base64 decodes NULs");
	is_int(pop3_base64_decode("YWJj", 4, out, sizeof out), 3, "base64 without padding");
	is_int(pop3_base64_decode("YWI=", 4, out, sizeof out), 2, "base64 with =");
	is_int(pop3_base64_decode("", 0, out, sizeof out), 0, "empty base64");
	is_int(pop3_base64_decode("YWJ", 3, out, sizeof out), -1, "length not a multiple of 4");
	is_int(pop3_base64_decode("Y=Jj", 4, out, sizeof out), -1, "padding inside");
	is_int(pop3_base64_decode("YW==YWJj", 8, out, sizeof out), -1, "padding before the end");
	is_int(pop3_base64_decode("YW*j", 4, out, sizeof out), -1, "bad character");
	is_int(pop3_base64_decode("YWJjYWJj", 8, out, 5), -1, "output that does not fit");
}

static void test_uint(void)
{
	uint64_t v = 7;

	ok(pop3_parse_uint("42", 100, &v) == 0 && v == 42, "42");
	ok(pop3_parse_uint("0", 100, &v) == 0 && v == 0, "0");
	ok(pop3_parse_uint("", 100, &v) < 0, "empty refused");
	ok(pop3_parse_uint("-1", 100, &v) < 0, "sign refused");
	ok(pop3_parse_uint("1 ", 100, &v) < 0, "trailing space refused");
	ok(pop3_parse_uint("12a", 100, &v) < 0, "trailing letter refused");
	ok(pop3_parse_uint("99999999999999999999999", UINT64_MAX, &v) == 0 && v == UINT64_MAX,
	   "overflow saturates");
	ok(pop3_parse_uint("500", 100, &v) == 0 && v == 100, "capped at max");
}

static int status_of(const char *in)
{
	struct stream *s;
	char line[64];
	size_t len;
	int pfd[2], rc;

	if (pipe(pfd) < 0 || write(pfd[1], in, strlen(in)) != (ssize_t)strlen(in))
		bail("pipe");
	close(pfd[1]);
	if ((s = stream_new(pfd[0], pfd[0], 2000)) == NULL)
		bail("stream_new: %s", strerror(errno));
	rc = pop3_status_read(s, line, sizeof line, &len);
	stream_free(s);
	close(pfd[0]);
	return rc;
}

static void test_client(void)
{
	is_int(status_of("+OK ready\r\n"), 1, "status: +OK");
	is_int(status_of("+OK\n"), 1, "status: bare +OK with LF");
	is_int(status_of("-ERR no\r\n"), 0, "status: -ERR");
	is_int(status_of("+OKAY\r\n"), -1, "status: +OKAY is garbled");
	is_int(status_of("* BYE\r\n"), -1, "status: anything else is garbled");
	is_int(status_of("+OK no end"), -1, "status: EOF before the line end");
	ok(pop3_multiline("CAPA") && pop3_multiline("top 1 0") && pop3_multiline("LIST") &&
	       pop3_multiline("uidl  ") && !pop3_multiline("LIST 1") && !pop3_multiline("UIDL 2") &&
	       !pop3_multiline("STAT") && !pop3_multiline("TOPX"),
	   "multi-line answers: CAPA, TOP, LIST and UIDL without an argument");
}

int main(void)
{
	plan_lazy();
	test_stuffing();
	test_base64();
	test_uint();
	test_client();
	return done_testing();
}
