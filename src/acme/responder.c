#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acme/install.h"
#include "acme/responder.h"
#include "util/path.h"

#define PREFIX "/.well-known/acme-challenge/"
#define REQ_MAX 4096
#define REQ_TIMEOUT_S 5
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

/* One request: read the head (bounded in size and time), answer, close. */
static void serve_one(const struct responder *r, int fd)
{
	char req[REQ_MAX + 1], path[512];
	struct timeval tv = { REQ_TIMEOUT_S, 0 };
	size_t len = 0;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	while (len < REQ_MAX) {
		ssize_t n = recv(fd, req + len, REQ_MAX - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[len] = '\0';
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

static void child_loop(const struct responder *r, int lfd)
{
	struct pollfd p = { lfd, POLLIN, 0 };

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	alarm(CHILD_LIFETIME_S);
	for (;;) {
		int n = poll(&p, 1, 1000), fd;
		if (n < 0 && errno != EINTR)
			_exit(1);
		if (n <= 0)
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve_one(r, fd);
		close(fd);
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
