/* The POP3 client of the msgw-pop3 benchmark (t/pop3/bench.py): the same
 * client for msgw and Dovecot, so only the servers differ. Logs in, then
 * RETR + DELE of every message (pipelined in windows), QUIT; prints the
 * login time and the retrieval time separately.
 *   pop3-bench-client PORT plain|tls|stls CAFILE USER PASSWORD-FILE */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/stream.h"
#include "net/tls.h"

#define WINDOW 16
#define LINE_MAX_LEN 16384

static int fail(const char *what, const struct stream *s)
{
	fprintf(stderr, "pop3-bench-client: %s%s%s\n", what, s ? ": " : "", s ? stream_strerror(s) : "");
	return 1;
}

/* One status line; 0 for +OK. */
static int status(struct stream *s, char *line)
{
	size_t len;

	if (stream_getline(s, line, LINE_MAX_LEN, &len) != LINE_OK)
		return -1;
	return strncmp(line, "+OK", 3) == 0 ? 0 : -1;
}

/* A multi-line body up to ".": octets counted without stuffing. */
static int body(struct stream *s, char *line, unsigned long long *bytes)
{
	for (;;) {
		size_t len;
		enum line_result r = stream_getline(s, line, LINE_MAX_LEN, &len);

		if (r == LINE_TOO_LONG)
			continue;
		if (r != LINE_OK)
			return -1;
		if (strcmp(line, ".\r\n") == 0)
			return 0;
		*bytes += len - (line[0] == '.');
	}
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int connect_port(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* Each window of commands leaves in one write: no Nagle wait. */
	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct stream *s;
	static char line[LINE_MAX_LEN], pw[512];
	struct tls_client_opts o = { "localhost", NULL, 0, 30 };
	unsigned long long bytes = 0;
	double t0, t1, t2, tq;
	unsigned long n = 0;
	FILE *f;
	int fd;

	if (argc != 6)
		return fail("usage: pop3-bench-client PORT plain|tls|stls CAFILE USER PASSWORD-FILE", NULL);
	o.ca_file = argv[3];
	if ((f = fopen(argv[5], "r")) == NULL || fgets(pw, sizeof pw, f) == NULL)
		return fail("cannot read the password file", NULL);
	fclose(f);
	pw[strcspn(pw, "\r\n")] = '\0';
	if ((fd = connect_port(atoi(argv[1]))) < 0)
		return fail("connect failed", NULL);
	if ((s = stream_new(fd, fd, 120000)) == NULL)
		return fail("out of memory", NULL);
	if (strcmp(argv[2], "tls") == 0 && tls_client_start(s, &o) < 0)
		return fail("TLS", s);
	if (status(s, line) < 0)
		return fail("greeting", s);
	if (strcmp(argv[2], "stls") == 0 &&
	    (stream_puts(s, "STLS\r\n") < 0 || status(s, line) < 0 || tls_client_start(s, &o) < 0))
		return fail("STLS", s);
	t0 = now_ms();
	if (stream_printf(s, "USER %s\r\n", argv[4]) < 0 || status(s, line) < 0 ||
	    stream_printf(s, "PASS %s\r\n", pw) < 0 || status(s, line) < 0)
		return fail(line, s);
	t1 = now_ms();
	if (stream_puts(s, "STAT\r\n") < 0 || status(s, line) < 0 || sscanf(line, "+OK %lu", &n) != 1)
		return fail("STAT", s);
	for (unsigned long i = 1; i <= n; i += WINDOW) {
		unsigned long end = i + WINDOW - 1 < n ? i + WINDOW - 1 : n;

		for (unsigned long k = i; k <= end; k++)
			if (stream_printf(s, "RETR %lu\r\nDELE %lu\r\n", k, k) < 0)
				return fail("send", s);
		for (unsigned long k = i; k <= end; k++)
			if (status(s, line) < 0 || body(s, line, &bytes) < 0 || status(s, line) < 0)
				return fail("RETR/DELE", s);
	}
	tq = now_ms();
	if (stream_puts(s, "QUIT\r\n") < 0 || status(s, line) < 0)
		return fail("QUIT", s);
	t2 = now_ms();
	stream_shutdown(s);
	stream_free(s);
	close(fd);
	printf("login_ms=%.3f retr_ms=%.3f quit_ms=%.3f messages=%lu bytes=%llu\n", t1 - t0, t2 - t1,
	       t2 - tq, n, bytes);
	return 0;
}
