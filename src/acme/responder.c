#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "acme/install.h"
#include "acme/responder.h"
#include "util/path.h"

#define PREFIX "/.well-known/acme-challenge/"
#define REQ_MAX 4096
#define REQ_TIMEOUT_S 5
#define CONN_MAX 64
/* The child never outlives a stuck parent by more than this. */
#define CHILD_LIFETIME_S 900

static int token_ok(const char *t)
{
	if (*t == '\0')
		return 0;
	for (; *t; t++)
		if (!((*t >= 'A' && *t <= 'Z') || (*t >= 'a' && *t <= 'z') || (*t >= '0' && *t <= '9') ||
		      *t == '-' || *t == '_'))
			return 0;
	return 1;
}

/* addr (an IPv4 or IPv6 literal; NULL or "" for all addresses) into ss. */
static int make_addr(const char *addr, int port, int any_family, struct sockaddr_storage *ss,
		     socklen_t *sl)
{
	memset(ss, 0, sizeof *ss);
	if ((addr == NULL || *addr == '\0') ? any_family == AF_INET6 : strchr(addr, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		s6->sin6_addr = in6addr_any;
		*sl = sizeof *s6;
		return addr && *addr && inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1 ? -1 : 0;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	*sl = sizeof *s4;
	return addr && *addr && inet_pton(AF_INET, addr, &s4->sin_addr) != 1 ? -1 : 0;
}

/* A listening socket, or -1 with errno. "All addresses" is one dual-stack
 * IPv6 socket (IPv4 too), or IPv4 alone on a host without IPv6. */
static int try_listen(const char *addr, int port, int family, int *bad_addr)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1, zero = 0, saved;

	*bad_addr = make_addr(addr, port, family, &ss, &sl) < 0;
	if (*bad_addr)
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ss.ss_family == AF_INET6 && (addr == NULL || *addr == '\0'))
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
	if (bind(fd, (struct sockaddr *)&ss, sl) == 0 && listen(fd, 64) == 0)
		return fd;
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

static int bind_listen(const char *addr, int port, struct acme_err *e)
{
	int bad = 0, fd = try_listen(addr, port, AF_INET6, &bad);

	if (fd < 0 && !bad && (addr == NULL || *addr == '\0') &&
	    (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL))
		fd = try_listen(addr, port, AF_INET, &bad);
	if (bad)
		return aerr(e, "acme.challenge_address: '%s' is not an IP address", addr);
	if (fd < 0) {
		int saved = errno;
		return aerr(e, "cannot bind the challenge port %s:%d (acme.challenge_port): %s%s",
			    addr && *addr ? addr : "*", port, strerror(saved),
			    saved == EADDRINUSE ? " (another web server? use --webroot DIR)"
			    : saved == EACCES ? " (ports below 1024 need root)" : "");
	}
	return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void reply(int fd, int code, const char *body)
{
	char head[256];
	int n = snprintf(head, sizeof head,
			 "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 code, code == 200 ? "OK" : code == 404 ? "Not Found" : "Bad Request", strlen(body));

	if (n > 0 && (size_t)n < sizeof head)
		send_all(fd, head, (size_t)n);
	send_all(fd, body, strlen(body));
}

/* The answer to one complete request head. */
static void answer(const struct responder *r, int fd, const char *req)
{
	char path[512];

	if (sscanf(req, "GET %511s HTTP/1.%*c", path) != 1 && sscanf(req, "HEAD %511s HTTP/1.%*c", path) != 1) {
		reply(fd, 400, "bad request\n");
		return;
	}
	if (strncmp(path, PREFIX, strlen(PREFIX)) == 0) {
		const char *tok = path + strlen(PREFIX);
		for (size_t i = 0; i < r->n; i++) {
			if (strcmp(tok, r->tok[i].token) == 0) {
				reply(fd, 200, r->tok[i].keyauth);
				return;
			}
		}
	}
	reply(fd, 404, "not found\n");
}

/* One connection being read: the request head so far and the moment the
 * whole request must have arrived (however slowly it trickles in). */
struct hconn {
	int fd;
	long long deadline_ms;
	size_t len;
	char req[REQ_MAX + 1];
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void conn_close(struct hconn *c, size_t *n, size_t i)
{
	close(c[i].fd);
	c[i] = c[--*n];
}

/* Read what is there; answer once the head is complete (or full).
 * 1 when the connection is done with. */
static int conn_read(const struct responder *r, struct hconn *c)
{
	ssize_t n = recv(c->fd, c->req + c->len, REQ_MAX - c->len, MSG_DONTWAIT);

	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n <= 0)
		return 1;
	c->len += (size_t)n;
	c->req[c->len] = '\0';
	if (c->len < REQ_MAX && !strstr(c->req, "\r\n\r\n") && !strstr(c->req, "\n\n"))
		return 0;
	answer(r, c->fd, c->req);
	return 1;
}

static void accept_new(int lfd, struct hconn *c, size_t *n)
{
	/* Bounded: at most the free places, then the queue waits. */
	while (*n < CONN_MAX) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct timeval tv = { REQ_TIMEOUT_S, 0 };

		if (fd < 0)
			return;
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		c[*n].fd = fd;
		c[*n].len = 0;
		c[*n].deadline_ms = now_ms() + REQ_TIMEOUT_S * 1000LL;
		(*n)++;
	}
}

/* Serves up to CONN_MAX connections at once, each with a deadline for its
 * whole request, so a slow client never delays the CA's validation. */
static void child_loop(const struct responder *r, int lfd)
{
	struct pollfd p[CONN_MAX + 1];
	struct hconn *c = calloc(CONN_MAX, sizeof *c);
	size_t n = 0;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	alarm(CHILD_LIFETIME_S);
	/* accept_new takes connections until none is pending */
	if (c == NULL || fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK) < 0)
		_exit(1);
	for (;;) {
		long long now = now_ms(), wait = 1000;
		int rc;

		p[0] = (struct pollfd){ lfd, n < CONN_MAX ? POLLIN : 0, 0 };
		for (size_t i = 0; i < n; i++) {
			p[i + 1] = (struct pollfd){ c[i].fd, POLLIN, 0 };
			if (c[i].deadline_ms - now < wait)
				wait = c[i].deadline_ms > now ? c[i].deadline_ms - now : 0;
		}
		rc = poll(p, n + 1, (int)wait);
		if (rc < 0 && errno != EINTR)
			_exit(1);
		now = now_ms();
		for (size_t i = n; i-- > 0;) {
			if (((p[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) && conn_read(r, &c[i])) ||
			    now >= c[i].deadline_ms)
				conn_close(c, &n, i);
		}
		if (rc > 0 && (p[0].revents & POLLIN))
			accept_new(lfd, c, &n);
	}
}

static int webroot_path(const struct responder *r, size_t i, char *out, size_t size)
{
	return path_fmt(out, size, "%s" PREFIX "%s", r->webroot, r->tok[i].token);
}

static void webroot_remove(const struct responder *r, size_t upto)
{
	char p[PATH_MAX];

	for (size_t i = 0; i < upto; i++)
		if (webroot_path(r, i, p, sizeof p) == 0)
			unlink(p);
}

static int webroot_start(struct responder *r, struct acme_err *e)
{
	char dir[PATH_MAX], p[PATH_MAX];

	if (path_fmt(dir, sizeof dir, "%s/.well-known", r->webroot) < 0)
		return aerr(e, "--webroot: path too long");
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return aerr(e, "%s: %s", dir, strerror(errno));
	for (size_t i = 0; i < r->n; i++) {
		if (webroot_path(r, i, p, sizeof p) < 0 ||
		    install_file(p, r->tok[i].keyauth, strlen(r->tok[i].keyauth), 0644, 0755, e) < 0) {
			webroot_remove(r, i);
			return -1;
		}
	}
	return 0;
}

int responder_start(struct responder *r, const char *addr, int port, struct acme_err *e)
{
	int fd;

	r->pid = 0;
	for (size_t i = 0; i < r->n; i++)
		if (!token_ok(r->tok[i].token))
			return aerr(e, "the CA sent a challenge token with unexpected characters");
	if (r->webroot)
		return webroot_start(r, e);
	fd = bind_listen(addr, port, e);
	if (fd < 0)
		return -1;
	fflush(NULL);
	r->pid = fork();
	if (r->pid < 0) {
		r->pid = 0;
		close(fd);
		return aerr(e, "fork: %s", strerror(errno));
	}
	if (r->pid == 0)
		child_loop(r, fd); /* never returns */
	close(fd);
	return 0;
}

void responder_stop(struct responder *r)
{
	if (r->webroot) {
		webroot_remove(r, r->n);
		return;
	}
	if (r->pid > 0) {
		kill(r->pid, SIGTERM);
		while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
			;
		r->pid = 0;
	}
}
