/* Unit tests of src/pop3/reply.c, the POP3 reply table of msgw-pop3 and
 * the recording proxy: every entry formats, with its largest argument, to
 * one well-formed status line of at most 512 octets (RFC 2449 section 4)
 * with a known response code; no text stands in the table twice; the
 * uniform refusal is byte for byte what msgw-pop3 has always sent. */
#include "config.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pop3/reply.h"
#include "t/tap.h"

/* RFC 2449 (LOGIN-DELAY, IN-USE), RFC 3206 (SYS/TEMP, SYS/PERM, AUTH);
 * PRIVACY is the proxy's caller-bug refusal (proxy/handoff.h). */
static int known_code(const char *c, size_t n)
{
	static const char *const codes[] = { "LOGIN-DELAY", "IN-USE", "SYS/TEMP", "SYS/PERM",
					     "AUTH", "PRIVACY", NULL };

	for (const char *const *k = codes; *k; k++)
		if (strlen(*k) == n && memcmp(*k, c, n) == 0)
			return 1;
	return 0;
}

/* "+OK text" / "-ERR [CODE] text", printable ASCII, one CRLF at the end. */
static const char *line_problem(const char *l, size_t len)
{
	const char *t, *close;

	if (len < 2 || len > POP3_REPLY_MAX || memcmp(l + len - 2, "\r\n", 2) != 0)
		return "not a line of at most 512 octets ending in CRLF";
	for (size_t i = 0; i + 2 < len; i++)
		if ((unsigned char)l[i] < 0x20 || (unsigned char)l[i] > 0x7e)
			return "a control or non-ASCII octet inside";
	if (strncmp(l, "+OK ", 4) == 0)
		t = l + 4;
	else if (strncmp(l, "-ERR ", 5) == 0)
		t = l + 5;
	else
		return "no +OK or -ERR status";
	if (*t == '[') {
		if ((close = memchr(t, ']', len - (size_t)(t - l))) == NULL || close[1] != ' ' ||
		    !known_code(t + 1, (size_t)(close - t - 1)))
			return "an unknown response code";
		if (l[0] == '+')
			return "a response code on +OK";
		t = close + 2;
	}
	if (*t == ' ' || t >= l + len - 2)
		return "no text";
	if (memchr(l, '{', len) != NULL)
		return "an argument left unfilled";
	return NULL;
}

static void test_every_entry(void)
{
	char host[256], line[POP3_REPLY_MAX], lines[P3_COUNT][POP3_REPLY_MAX];
	int twice = 0;

	memset(host, 'h', sizeof host - 1);   /* the longest host name */
	host[sizeof host - 1] = '\0';
	for (int r = 0; r < P3_COUNT; r++) {
		int arg = pop3_reply_arg((enum pop3_reply)r);
		size_t len = pop3_reply_format(line, sizeof line, (enum pop3_reply)r, ULLONG_MAX,
					       arg == 's' ? host : NULL);
		const char *why = line_problem(line, len);

		ok(why == NULL, "reply %d (%zu octets): %.60s%s%s", r, len, line, why ? ": " : "",
		   why ? why : "");
		if (arg == 'n')
			ok(strstr(line, "18446744073709551615") != NULL, "reply %d carries its number", r);
		if (arg == 's')
			ok(strstr(line, host) != NULL, "reply %d carries its string whole", r);
		snprintf(lines[r], sizeof lines[r], "%.*s", (int)len, line);
	}
	for (int r = 0; r < P3_COUNT; r++)
		for (int q = r + 1; q < P3_COUNT; q++)
			if (strcmp(lines[r], lines[q]) == 0) {
				diag("replies %d and %d: %s", r, q, lines[r]);
				twice++;
			}
	is_int(twice, 0, "no text stands in the table twice");
}

static void is_line(enum pop3_reply r, unsigned long long n, const char *arg, const char *want,
		    const char *name)
{
	char line[POP3_REPLY_MAX];
	size_t len = pop3_reply_format(line, sizeof line, r, n, arg);

	is_mem(line, len, want, strlen(want), "%s", name);
}

static void test_texts(void)
{
	/* as t/proxy/trust.t, the t/pop3 tests and the man pages expect */
	is_line(P3_AUTH_FAILED, 0, NULL, "-ERR [AUTH] Authentication failed\r\n",
		"the uniform refusal, byte for byte");
	is_line(P3_PROXY_NEED_TLS, 0, NULL,
		"-ERR [PRIVACY] Use STLS first: no credentials over plain text\r\n",
		"the proxy's refusal of a client not on TLS");
	is_line(P3_IN_USE, 0, NULL, "-ERR [IN-USE] Maildrop is in use by another session\r\n",
		"[IN-USE]");
	is_line(P3_UNREADABLE, 3, NULL, "-ERR Message 3 cannot be read\r\n", "a number argument");
	is_line(P3_WRONG_ARGS, 0, "RETR", "-ERR Wrong arguments for RETR\r\n", "a string argument");
	is_line(P3_GREETING, 0, "mx.example.org", "+OK mx.example.org msgw POP3 server ready\r\n",
		"the greeting");
}

static void test_cut(void)
{
	char big[2000], line[POP3_REPLY_MAX], tiny[12];
	size_t len;

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	len = pop3_reply_format(line, sizeof line, P3_GREETING, 0, big);
	ok(len == POP3_REPLY_MAX && memcmp(line + len - 2, "\r\n", 2) == 0,
	   "an overlong argument is cut to 512 octets, CRLF kept (%zu)", len);
	len = pop3_reply_format(tiny, sizeof tiny, P3_AUTH_FAILED, 0, NULL);
	is_mem(tiny, len, "-ERR [AUTH\r\n", 12, "a small buffer: the text is cut, never the CRLF");
}

/* A reply sent with the wrong argument is an internal bug: it aborts
 * (in a child) before anything is written. */
static void test_wrong_variant(void)
{
	int st = 0;
	pid_t pid = fork();

	if (pid < 0)
		bail("fork failed");
	if (pid == 0) {
		(void)pop3_reply(NULL, P3_LOGGED_IN);   /* takes {n} */
		_exit(0);
	}
	if (waitpid(pid, &st, 0) < 0)
		bail("waitpid failed");
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "the wrong variant aborts (status %d)", st);
}

int main(void)
{
	plan_lazy();
	test_every_entry();
	test_texts();
	test_cut();
	test_wrong_variant();
	return done_testing();
}
