/* The HTTP-01 responder under a slow client: a connection that sends its
 * request a byte at a time does not delay a concurrent challenge fetch,
 * and is itself closed at the whole-request deadline however often it
 * sends. Loopback only; every wait bounded. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "acme/responder.h"
#include "t/tap.h"

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &l) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static int dial(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	for (int i = 0; fd >= 0 && i < 100; i++) {   /* the child may still be starting */
		if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
			return fd;
		usleep(20000);
	}
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Whatever arrives within ms, NUL-terminated; returns its length. */
static size_t read_for(int fd, char *out, size_t size, int ms)
{
	size_t len = 0;
	struct pollfd p = { fd, POLLIN, 0 };

	while (len + 1 < size && poll(&p, 1, ms) == 1) {
		ssize_t n = recv(fd, out + len, size - 1 - len, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	out[len] = '\0';
	return len;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
	struct responder r = { 0 };
	struct acme_err e = { 0 };
	static const char get[] = "GET /.well-known/acme-challenge/tok-1 HTTP/1.1\r\nHost: x\r\n\r\n";
	char buf[2048];
	int port = free_port(), slow, fast, closed = 0;
	double t0, took;

	plan_lazy();
	snprintf(r.tok[0].token, sizeof r.tok[0].token, "tok-1");
	snprintf(r.tok[0].keyauth, sizeof r.tok[0].keyauth, "tok-1.thumbprint");
	r.n = 1;
	if (!ok(port > 0 && responder_start(&r, "127.0.0.1", port, &e) == 0, "responder starts"))
		return done_testing();

	slow = dial(port);
	ok(slow >= 0 && send(slow, "GET /.well-known", 16, MSG_NOSIGNAL) == 16,
	   "a slow client sends the start of a request and stops");
	fast = dial(port);
	t0 = now_s();
	ok(fast >= 0 && send(fast, get, sizeof get - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof get - 1),
	   "a concurrent challenge fetch is sent");
	read_for(fast, buf, sizeof buf, 3000);
	took = now_s() - t0;
	ok(strstr(buf, "200 OK") && strstr(buf, "tok-1.thumbprint"),
	   "the fetch is answered with the key authorization while the slow one is open");
	diag("challenge fetch answered in %.3f s beside a stalled client", took);
	close(fast);

	/* Dribble a byte every 0.5 s: the deadline is for the whole request
	 * (5 s), not for each read. Bounded at 30 bytes (15 s). */
	t0 = now_s();
	for (int i = 0; i < 30 && !closed; i++) {
		struct pollfd p = { slow, POLLIN, 0 };

		if (send(slow, "a", 1, MSG_NOSIGNAL) != 1 ||
		    (poll(&p, 1, 500) == 1 && recv(slow, buf, sizeof buf, 0) <= 0))
			closed = 1;
	}
	took = now_s() - t0;
	ok(closed && took < 10, "a client that keeps sending a byte at a time is cut at the deadline");
	diag("slow client closed after %.1f s more", took);
	close(slow);
	responder_stop(&r);
	ok(r.pid == 0, "responder stopped");
	return done_testing();
}
