/* Unit tests for src/net/stream: the bounded line reader, timeouts,
 * buffered writes, discarding pending input, wiping consumed input. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/stream.h"
#include "t/tap.h"

static void feed(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w <= 0)
			bail("write to socketpair failed: %s", strerror(errno));
		s += w;
		n -= (size_t)w;
	}
}

/* A stream on one end of a socketpair; the test plays the peer on sv[1]. */
static struct stream *open_pair(int sv[2], int timeout_ms)
{
	struct stream *s;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		bail("socketpair: %s", strerror(errno));
	if ((s = stream_new(sv[0], sv[0], timeout_ms)) == NULL)
		bail("stream_new: %s", strerror(errno));
	return s;
}

static void close_pair(struct stream *s, int sv[2])
{
	stream_free(s);
	close(sv[0]);
	close(sv[1]);
}

static void test_lines(void)
{
	int sv[2];
	struct stream *s;
	char line[16], big[100];
	size_t len;

	s = open_pair(sv, 2000);
	memset(big, 'x', sizeof big);
	feed(sv[1], "abc\r\n", 5);
	feed(sv[1], big, sizeof big);
	{
		const char *rest = "\r\nbare\nabcdefghijklm\r\n123456789012345\nlast";
		feed(sv[1], rest, strlen(rest));
	}
	shutdown(sv[1], SHUT_WR);

	is_int(stream_getline(s, line, sizeof line, &len), LINE_OK, "a short line");
	is_mem(line, len, "abc\r\n", 5, "the line keeps its CRLF");
	is_int(stream_getline(s, line, sizeof line, &len), LINE_TOO_LONG, "a 102-byte line is too long for 16");
	is_int((long long)len, 0, "nothing of a too-long line is returned");
	is_int(stream_getline(s, line, sizeof line, &len), LINE_OK, "the next line reads normally after a too-long one");
	is_mem(line, len, "bare\n", 5, "a bare-LF line");
	is_int(stream_getline(s, line, sizeof line, &len), LINE_OK, "15 bytes fit a 16-byte buffer");
	is_int((long long)len, 15, "length with terminator");
	is_int(stream_getline(s, line, sizeof line, &len), LINE_TOO_LONG, "16 bytes do not");
	is_int(stream_getline(s, line, sizeof line, &len), LINE_EOF, "an unterminated last line is EOF");
	is_mem(line, len, "last", 4, "with what was read");
	is_int(stream_error(s), STREAM_EOF, "the stream records EOF");
	close_pair(s, sv);
}

static void test_timeout(void)
{
	int sv[2];
	struct stream *s;
	char line[64];
	size_t len;
	long long t0;

	s = open_pair(sv, 100);
	t0 = stream_now_ms();
	is_int(stream_getline(s, line, sizeof line, &len), LINE_ERROR, "a silent peer times out");
	is_int(stream_error(s), STREAM_TIMEOUT, "the error is a timeout");
	ok(stream_now_ms() - t0 < 10000, "and it did not wait indefinitely");
	is_str(stream_strerror(s), "timed out", "timeout message");
	stream_clear_error(s);
	is_int(stream_error(s), STREAM_OK, "a cleared timeout leaves the stream usable");
	ok(stream_puts(s, "bye\r\n") == 0 && stream_flush(s) == 0, "and it can still say goodbye");
	close_pair(s, sv);

	s = open_pair(sv, 60000);
	stream_set_session_limit(s, 0);
	is_int(stream_getline(s, line, sizeof line, &len), LINE_ERROR, "the session deadline bounds a read");
	is_int(stream_error(s), STREAM_TIMEOUT, "as a timeout");
	close_pair(s, sv);
}

static void test_writes(void)
{
	int sv[2];
	struct stream *s;
	char got[64], line[64];
	size_t len;
	ssize_t n;

	s = open_pair(sv, 1000);
	stream_printf(s, "250 %s\r\n", "one");
	stream_puts(s, "250 two\r\n");
	ok(recv(sv[1], got, sizeof got, MSG_DONTWAIT) < 0, "replies are buffered, not sent one by one");
	feed(sv[1], "NOOP\r\nNOOP\r\n", 12);
	stream_getline(s, line, sizeof line, &len);   /* data already there: no flush needed */
	is_int((long long)stream_pending(s), 6, "pipelined input stays pending");
	stream_discard_pending(s);
	is_int((long long)stream_pending(s), 0, "discard drops it");
	stream_set_timeout(s, 100);
	stream_getline(s, line, sizeof line, &len);   /* must block: flushes first */
	n = recv(sv[1], got, sizeof got, MSG_DONTWAIT);
	is_mem(got, n > 0 ? (size_t)n : 0, "250 one\r\n250 two\r\n", 18, "a blocking read flushes pending replies first");
	close_pair(s, sv);
}

/* What pop3 does after a PASS line: the consumed line (the password) is
 * zeroed in the read buffer, the pipelined input after it survives. The
 * consumed bytes sit just before what stream_peek points at. */
static void test_wipe_input(void)
{
	static const char pass[] = "PASS hunter2\r\n";
	int sv[2];
	struct stream *s;
	const unsigned char *p;
	unsigned char zero[sizeof pass - 1] = { 0 };
	char line[64];
	size_t len;
	ssize_t n;

	s = open_pair(sv, 2000);
	feed(sv[1], "PASS hunter2\r\nNOOP\r\n", 20);
	is_int(stream_getline(s, line, sizeof line, &len), LINE_OK, "the PASS line");
	n = stream_peek(s, &p);
	is_mem(p, n > 0 ? (size_t)n : 0, "NOOP\r\n", 6, "the pipelined line is pending");
	if (n != 6)
		bail("one read did not take both lines");
	is_mem(p - (sizeof pass - 1), sizeof pass - 1, pass, sizeof pass - 1,
	       "before the wipe the password is in the read buffer");
	stream_wipe_input(s);
	is_mem(p - (sizeof pass - 1), sizeof pass - 1, zero, sizeof zero, "after it, zeros");
	is_int(stream_getline(s, line, sizeof line, &len), LINE_OK, "the pipelined line still reads");
	is_mem(line, len, "NOOP\r\n", 6, "unharmed");
	close_pair(s, sv);
}

int main(void)
{
	plan_lazy();
	test_lines();
	test_timeout();
	test_writes();
	test_wipe_input();
	return done_testing();
}
