/* Unit tests of the SMTP parsers: command lines, MAIL/RCPT/BDAT
 * arguments, the DATA reader (dot-unstuffing and the SMTP smuggling
 * cases), the trace header and the reply table. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "smtp/client.h"
#include "smtp/command.h"
#include "smtp/data.h"
#include "smtp/received.h"
#include "smtp/reply.h"
#include "t/tap.h"

static void test_line_check(void)
{
	char a[] = "NOOP\r\n", b[] = "NOOP\n", c[] = "NO\0OP\r\n", d[] = "NO\rOP\r\n", e[] = "NO\nOP\r\n";

	is_int(cmd_check_line(a, sizeof a - 1), CMD_OK, "CRLF line accepted");
	is_str(a, "NOOP", "CRLF cut off");
	is_int(cmd_check_line(b, sizeof b - 1), CMD_NO_CRLF, "bare LF line refused");
	is_int(cmd_check_line(c, sizeof c - 1), CMD_BAD_CHAR, "NUL refused");
	is_int(cmd_check_line(d, sizeof d - 1), CMD_BAD_CHAR, "bare CR inside refused");
	is_int(cmd_check_line(e, sizeof e - 1), CMD_BAD_CHAR, "LF inside refused");
}

static void test_split(void)
{
	char verb[SMTP_VERB_MAX + 1];
	const char *args;

	ok(cmd_split("mail FROM:<a@b>", verb, &args) == 0 && strcmp(verb, "MAIL") == 0 &&
		   strcmp(args, "FROM:<a@b>") == 0,
	   "verb upper-cased, args split");
	ok(cmd_split("QUIT", verb, &args) == 0 && *args == '\0', "no args");
	ok(cmd_split("", verb, &args) < 0, "empty line refused");
	ok(cmd_split("VERYLONGVERBNAME x", verb, &args) < 0, "overlong verb refused");
	ok(cmd_split("MA1L x", verb, &args) < 0, "non-letter verb refused");
}

static void test_mail(void)
{
	struct mail_params p;

	is_int(cmd_parse_mail("FROM:<a@b.example>", &p), PATH_OK, "plain MAIL");
	is_str(p.path, "a@b.example", "sender path");
	is_int(p.size, -1, "no SIZE");
	is_int(cmd_parse_mail("from: <> SIZE=1000 BODY=8BITMIME SMTPUTF8", &p), PATH_OK, "params");
	ok(p.path[0] == '\0' && p.size == 1000 && p.body == BODY_8BITMIME && p.smtputf8, "params parsed");
	is_int(cmd_parse_mail("FROM:<a@b> BODY=BINARYMIME", &p), PATH_OK, "BINARYMIME");
	is_int(p.body, BODY_BINARYMIME, "BINARYMIME parsed");
	is_int(cmd_parse_mail("FROM:<@relay.example:a@b>", &p), PATH_OK, "source route");
	is_str(p.path, "a@b", "source route dropped");
	is_int(cmd_parse_mail("FROM:<\"a b\"@c>", &p), PATH_OK, "quoted local part");
	is_int(cmd_parse_mail("FROM:a@b", &p), PATH_SYNTAX, "no brackets");
	is_int(cmd_parse_mail("FROM:<a@b", &p), PATH_SYNTAX, "unterminated");
	is_int(cmd_parse_mail("TO:<a@b>", &p), PATH_SYNTAX, "wrong prefix");
	is_int(cmd_parse_mail("FROM:<ab>", &p), PATH_SYNTAX, "no @");
	is_int(cmd_parse_mail("FROM:<a b@c>", &p), PATH_SYNTAX, "space in path");
	is_int(cmd_parse_mail("FROM:<a@b>x", &p), PATH_SYNTAX, "junk after path");
	is_int(cmd_parse_mail("FROM:<a@b> SIZE=x", &p), PATH_PARAM, "bad SIZE");
	is_int(cmd_parse_mail("FROM:<a@b> SIZE=99999999999999999999", &p), PATH_PARAM, "SIZE overflow");
	is_int(cmd_parse_mail("FROM:<a@b> BODY=9BIT", &p), PATH_PARAM, "bad BODY");
	is_int(cmd_parse_mail("FROM:<a@b> RET=FULL", &p), PATH_PARAM, "unadvertised DSN param");
	is_int(cmd_parse_mail("FROM:<a@b> AUTH=<>", &p), PATH_OK, "AUTH=<> accepted (RFC 4954: AUTH is offered)");
	is_int(cmd_parse_mail("FROM:<a@b> AUTH=a+2Bb@c.d", &p), PATH_OK, "AUTH= with xtext accepted");
	is_int(cmd_parse_mail("FROM:<a@b> AUTH=a=b", &p), PATH_PARAM, "AUTH= with a bare '=' refused");
	is_int(cmd_parse_mail("FROM:<a@b> AUTH=a+4", &p), PATH_PARAM, "AUTH= with a cut xtext escape refused");
	is_int(cmd_parse_mail("FROM:<a@b> AUTH=", &p), PATH_PARAM, "empty AUTH= refused");
	{
		char big[SMTP_PATH_MAX + 40];
		memset(big, 'x', sizeof big);
		memcpy(big, "FROM:<", 6);
		memcpy(big + sizeof big - 6, "@b.c>", 6);
		is_int(cmd_parse_mail(big, &p), PATH_SYNTAX, "overlong path");
	}
}

static void test_rcpt(void)
{
	char path[SMTP_PATH_MAX + 1];
	char buf[SMTP_PATH_MAX + 1];
	const char *local, *domain;

	is_int(cmd_parse_rcpt("TO:<id@example.org>", path), PATH_OK, "RCPT");
	is_str(path, "id@example.org", "recipient path");
	is_int(cmd_parse_rcpt("TO:<>", path), PATH_SYNTAX, "empty recipient refused");
	is_int(cmd_parse_rcpt("TO:<a@b> NOTIFY=NEVER", path), PATH_PARAM, "RCPT param refused");
	ok(addr_split("id+tag@Example.ORG", buf, sizeof buf, &local, &domain, 1) == 0 &&
		   strcmp(local, "id") == 0 && strcmp(domain, "Example.ORG") == 0,
	   "+tag cut, domain kept");
	ok(addr_split("a@b@c", buf, sizeof buf, &local, &domain, 1) == 0 && strcmp(local, "a@b") == 0 &&
		   strcmp(domain, "c") == 0,
	   "split at the last @");
	ok(addr_split("+tag@c", buf, sizeof buf, &local, &domain, 1) < 0, "empty id refused");
	ok(addr_split("nodomain", buf, sizeof buf, &local, &domain, 1) < 0, "no @ refused");
}

static void test_bdat_helo(void)
{
	uint64_t n;
	int last;
	char name[SMTP_DOMAIN_MAX + 1];

	ok(cmd_parse_bdat("1000", &n, &last) == 0 && n == 1000 && !last, "BDAT n");
	ok(cmd_parse_bdat("0 LAST", &n, &last) == 0 && n == 0 && last, "BDAT 0 LAST");
	ok(cmd_parse_bdat("12 last", &n, &last) == 0 && n == 12 && last, "BDAT last in lower case");
	ok(cmd_parse_bdat("", &n, &last) < 0, "BDAT without size");
	ok(cmd_parse_bdat("-1", &n, &last) < 0, "negative size");
	ok(cmd_parse_bdat("12 FIRST", &n, &last) < 0, "unknown keyword");
	ok(cmd_parse_bdat("123456789012345678901234", &n, &last) < 0, "huge size");
	ok(cmd_parse_helo("client.example extra", name) == 0 && strcmp(name, "client.example") == 0,
	   "HELO name");
	ok(cmd_parse_helo("[192.0.2.1]", name) == 0, "address literal");
	ok(cmd_parse_helo("", name) < 0, "empty HELO refused");
	ok(cmd_parse_helo("bad\x01name", name) < 0, "control character refused");
}

/* Feeds in[] in pieces of step bytes; returns the output, whether the end
 * was seen and how much input was left after it. */
static int feed_all(const char *in, size_t n, size_t step, char *out, size_t *olen, size_t *rest)
{
	struct data_reader r;
	size_t pos = 0;

	data_reader_init(&r);
	*olen = 0;
	while (pos < n && r.st != DS_END) {
		size_t k = n - pos < step ? n - pos : step, o;
		size_t used = data_reader_feed(&r, (const unsigned char *)in + pos, k,
					       (unsigned char *)out + *olen, &o);
		*olen += o;
		pos += used;
	}
	*rest = n - pos;
	return r.st == DS_END;
}

static void data_case(const char *in, size_t n, int want_end, const char *want, size_t wlen,
		      size_t want_rest, const char *name)
{
	static const size_t steps[] = { 1, 2, 3, 7, 100000 };

	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		char out[4096];
		size_t olen, rest;
		int end = feed_all(in, n, steps[i], out, &olen, &rest);

		ok(end == want_end, "%s: end %s (step %zu)", name, want_end ? "found" : "not found", steps[i]);
		if (want_end) {
			is_mem(out, olen, want, wlen, "%s: content (step %zu)", name, steps[i]);
			is_int((long long)rest, (long long)want_rest, "%s: rest left for the next command (step %zu)",
			       name, steps[i]);
		}
	}
}

#define S(x) x, sizeof x - 1

static void test_data(void)
{
	data_case(S("Subject: x\r\n\r\nbody\r\n.\r\n"), 1, S("Subject: x\r\n\r\nbody\r\n"), 0, "simple");
	data_case(S(".\r\n"), 1, S(""), 0, "empty message");
	data_case(S("a\r\n..b\r\n...\r\n.c\r\n.\r\n"), 1, S("a\r\n.b\r\n..\r\nc\r\n"), 0, "dot-unstuffing");
	data_case(S("a\r\n.\r\nQUIT\r\n"), 1, S("a\r\n"), 6, "pipelined command left");
	/* SMTP smuggling (2023): only CRLF.CRLF ends the data. */
	data_case(S("a\n.\nMAIL FROM:<x@y>\r\n"), 0, NULL, 0, 0, "LF.LF does not end data");
	data_case(S("a\n.\r\nMAIL FROM:<x@y>\r\n"), 0, NULL, 0, 0, "LF.CRLF does not end data");
	data_case(S("a\r\n.\nMAIL FROM:<x@y>\r\n"), 0, NULL, 0, 0, "CRLF.LF does not end data");
	data_case(S("a\r.\r\nMAIL FROM:<x@y>\r\n"), 0, NULL, 0, 0, "CR.CRLF does not end data");
	data_case(S("a\r\n.\rMAIL FROM:<x@y>\r\n"), 0, NULL, 0, 0, "CRLF.CR does not end data");
	data_case(S("a\n.\nb\r.\r\nc\r\n.\r\n"), 1, S("a\n.\nb\r.\r\nc\r\n"), 0,
		  "smuggling attempts stored as content");
	data_case(S("a\r\n.\rb\r\n.\r\n"), 1, S("a\r\n\rb\r\n"), 0, "dot then bare CR: dot unstuffed, CR kept");
	data_case(S("a\r\n.\r\r\n.\r\n"), 1, S("a\r\n\r\r\n"), 0, "dot, CR, CRLF");
	data_case(S("\0bin\xff\r\n.\r\n"), 1, S("\0bin\xff\r\n"), 0, "NUL and 8-bit bytes kept");
	{
		struct data_reader r;
		static unsigned char big[SMTP_DATA_LINE_MAX + 10], out[sizeof big + 1];
		size_t o;

		memset(big, 'x', sizeof big);
		data_reader_init(&r);
		data_reader_feed(&r, big, sizeof big, out, &o);
		ok(r.line_too_long && o == sizeof big, "overlong data line flagged, still streamed");
		data_reader_init(&r);
		data_reader_feed(&r, big, SMTP_DATA_LINE_MAX, out, &o);
		ok(!r.line_too_long, "line of exactly the limit accepted");
	}
}

static void test_trace(void)
{
	char out[2048];
	struct trace_info t = {
		.from = "a@b.example", .helo = "client.example", .peer = "192.0.2.1",
		.hostname = "mx.example", .tls = "TLS1.3 TLS_AES_128_GCM_SHA256", .id = "0123456789abcdef",
		.rcpt = "id@example", .esmtp = 1, .when = 0,
	};
	int n = trace_format(out, sizeof out, &t);

	ok(n > 0, "trace header formatted");
	is_str(out,
	       "Return-Path: <a@b.example>\r\n"
	       "Received: from client.example ([192.0.2.1])\r\n"
	       "\tby mx.example (msgw) with ESMTPS id 0123456789abcdef\r\n"
	       "\t(TLS1.3 TLS_AES_128_GCM_SHA256)\r\n"
	       "\tfor <id@example>;\r\n"
	       "\tThu, 01 Jan 1970 00:00:00 +0000\r\n",
	       "trace header text");
	t.tls = NULL;
	t.rcpt = NULL;
	t.helo = "";
	t.from = "";
	n = trace_format(out, sizeof out, &t);
	ok(n > 0 && strstr(out, "Return-Path: <>\r\n") && strstr(out, "from unknown ([192.0.2.1])") &&
		   strstr(out, "with ESMTP id") && !strstr(out, "for <"),
	   "null sender, no TLS, several recipients");
	ok(trace_format(out, 40, &t) < 0, "truncation detected");
	t.peer = "2001:db8::25";
	n = trace_format(out, sizeof out, &t);
	ok(n > 0 && strstr(out, "from unknown ([IPv6:2001:db8::25])") != NULL,
	   "an IPv6 peer is an RFC 5321 address literal");
}

static void test_replies(void)
{
	static const struct {
		enum reply r;
		int code;
	} want[] = {
		{ R_NEED_TLS, 530 }, { R_UNKNOWN_MAILBOX, 550 }, { R_NO_RELAY, 550 }, { R_SUSPENDED, 450 },
		{ R_NETWORK_DENIED, 554 }, { R_TOO_BIG, 552 }, { R_NO_SPACE, 452 }, { R_LOCAL_ERROR, 451 },
		{ R_TOO_MANY_RCPTS, 452 }, { R_TIMEOUT, 421 }, { R_LINE_TOO_LONG, 500 }, { R_BAD_SEQUENCE, 503 },
	};

	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		is_int(reply_code(want[i].r), want[i].code, "reply %d", want[i].code);
	for (int r = 0; r < R_COUNT; r++)
		ok(reply_code((enum reply)r) >= 200 && reply_code((enum reply)r) < 600, "reply %d defined", r);
}

/* A server's replies as the proxy reads them from its upstream. */
static void client_case(const char *in, int want_rc, int want_code, const char *name,
                        struct smtp_caps *caps)
{
	static struct smtp_reply r;
	struct stream *s;
	int pfd[2], rc;

	if (pipe(pfd) < 0 || write(pfd[1], in, strlen(in)) != (ssize_t)strlen(in))
		bail("pipe");
	close(pfd[1]);
	if ((s = stream_new(pfd[0], pfd[0], 2000)) == NULL)
		bail("stream_new: %s", strerror(errno));
	rc = smtp_reply_read(s, &r);
	ok(rc == want_rc && (rc < 0 || r.code == want_code), "reply: %s", name);
	if (caps && rc == 0)
		smtp_caps_parse(&r, caps);
	stream_free(s);
	close(pfd[0]);
}

static void test_client(void)
{
	struct smtp_caps c;

	client_case("250-mx.test\r\n250-CHUNKING\r\n250-STARTTLS\r\n250 AUTH LOGIN PLAIN\r\n", 0,
	            250, "a multi-line EHLO reply", &c);
	ok(c.chunking && c.starttls && c.auth_plain && c.auth_login, "EHLO capabilities");
	client_case("250-mx.test\r\n250 AUTH=CRAM-MD5\r\n", 0, 250, "AUTH= without PLAIN", &c);
	ok(!c.chunking && !c.starttls && !c.auth_plain && !c.auth_login, "no capabilities claimed");
	client_case("250-a\r\n251 b\r\n", -1, 0, "codes differ between lines", NULL);
	client_case("25x ok\r\n", -1, 0, "not a code", NULL);
	client_case("250-a\r\n", -1, 0, "ends before the last line", NULL);
}

int main(void)
{
	plan_lazy();
	test_line_check();
	test_split();
	test_mail();
	test_rcpt();
	test_bdat_helo();
	test_data();
	test_trace();
	test_replies();
	test_client();
	return done_testing();
}
