#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "net/serve.h"
#include "util/log.h"

static volatile sig_atomic_t got_term;
static volatile sig_atomic_t got_chld;

static void on_term(int sig) { (void)sig; got_term = 1; }
static void on_chld(int sig) { (void)sig; got_chld = 1; }

static void numeric(const struct sockaddr *sa, socklen_t len, char *host, size_t hs, int *port)
{
	char h[NI_MAXHOST], p[NI_MAXSERV];

	if (getnameinfo(sa, len, h, sizeof h, p, sizeof p, NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(host, hs, "unknown");
		*port = 0;
		return;
	}
	/* An IPv4 client on a dual-stack socket: show and match it as IPv4. */
	const char *shown = strncmp(h, "::ffff:", 7) == 0 && strchr(h, '.') ? h + 7 : h;
	if ((size_t)snprintf(host, hs, "%s", shown) >= hs)
		snprintf(host, hs, "unknown");
	*port = atoi(p);
}

void conn_describe(struct conn *c, int rfd, int wfd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	const char *env;

	c->rfd = rfd;
	c->wfd = wfd;
	snprintf(c->peer, sizeof c->peer, "unknown");
	snprintf(c->local, sizeof c->local, "unknown");
	c->peer_port = c->local_port = 0;
	if (getpeername(rfd, (struct sockaddr *)&ss, &len) == 0) {
		numeric((struct sockaddr *)&ss, len, c->peer, sizeof c->peer, &c->peer_port);
	} else if ((env = getenv("TCPREMOTEIP")) != NULL && *env) {
		snprintf(c->peer, sizeof c->peer, "%s", env);
		if ((env = getenv("TCPREMOTEPORT")) != NULL)
			c->peer_port = atoi(env);
	}
	len = sizeof ss;
	if (getsockname(rfd, (struct sockaddr *)&ss, &len) == 0 && ss.ss_family != AF_UNIX)
		numeric((struct sockaddr *)&ss, len, c->local, sizeof c->local, &c->local_port);
	else if ((env = getenv("TCPLOCALIP")) != NULL && *env)
		snprintf(c->local, sizeof c->local, "%s", env);
}

int parse_hostport(const char *s, char *host, unsigned hostsize, char *port, unsigned portsize)
{
	const char *colon;
	size_t hl;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (end == NULL || end[1] != ':')
			return -1;
		hl = (size_t)(end - s - 1);
		s++;
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL) {   /* just a port: all addresses */
			if (snprintf(host, hostsize, "%s", "") < 0 || (size_t)snprintf(port, portsize, "%s", s) >= portsize)
				return -1;
			return *port ? 0 : -1;
		}
		if (memchr(s, ':', (size_t)(colon - s)) != NULL)
			return -1;   /* bare IPv6 needs brackets */
		hl = (size_t)(colon - s);
	}
	if (hl >= hostsize || strlen(colon + 1) >= portsize || colon[1] == '\0')
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	snprintf(port, portsize, "%s", colon + 1);
	for (const char *p = port; *p; p++)
		if (*p < '0' || *p > '9')
			return -1;
	return 0;
}

static int open_listener(const char *spec)
{
	char host[256], port[16];
	struct addrinfo hints = { 0 }, *res = NULL, *ai;
	int fd = -1, rc, one = 1;

	if (parse_hostport(spec, host, sizeof host, port, sizeof port) < 0) {
		log_error("event=listen addr=%s error=\"not ADDR:PORT or [ADDR]:PORT\"", spec);
		return -1;
	}
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(*host ? host : NULL, port, &hints, &res)) != 0) {
		log_error("event=listen addr=%s error=\"%s\"", spec, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 128) == 0)
			break;
		rc = errno;
		close(fd);
		fd = -1;
		errno = rc;
	}
	if (fd < 0)
		log_error("event=listen addr=%s error=\"%s\"", spec, strerror(errno));
	freeaddrinfo(res);
	return fd;
}

/* The live children, so shutdown signals exactly them, and the client
 * address each one serves, for the per-source limit. */
struct kids {
	pid_t *pid;
	char (*peer)[64];
	int n, max, per_source;
};

static void reap(struct kids *k)
{
	pid_t p;
	int status;

	while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < k->n; i++) {
			if (k->pid[i] == p) {
				k->n--;
				k->pid[i] = k->pid[k->n];
				memcpy(k->peer[i], k->peer[k->n], sizeof k->peer[i]);
				break;
			}
		}
	}
}

static void shutdown_children(struct kids *k)
{
	/* Children end the session they are in; mail not yet acknowledged
	 * stays with the sender, who retries. */
	for (int i = 0; i < k->n; i++)
		kill(k->pid[i], SIGTERM);
	for (int i = 0; i < 100 && k->n > 0; i++) {
		reap(k);
		if (k->n > 0)
			usleep(50000);
	}
}

static void child_start(int lfd, int cfd, const sigset_t *orig, serve_fn fn, void *arg)
{
	struct conn c;

	close(lfd);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	sigprocmask(SIG_SETMASK, orig, NULL);
	conn_describe(&c, cfd, cfd);
	log_set_peer(c.peer);
	_exit(fn(&c, arg));
}

/* Whether one more connection from peer stays within the per-source
 * limit; logs the refusal when it does not. */
static int source_allowed(const struct kids *k, const char *peer)
{
	int same = 0;

	if (k->per_source <= 0)
		return 1;
	for (int i = 0; i < k->n; i++)
		same += strcmp(k->peer[i], peer) == 0;
	if (same < k->per_source)
		return 1;
	/* fail2ban and operators: one line per refused connection */
	log_warning("event=refused reason=per_source peer=%s connections=%d limit=%d", peer, same,
		    k->per_source);
	return 0;
}

/* Accept one connection and fork its child; refused connections are
 * closed at once. */
static void accept_one(int lfd, struct kids *k, const sigset_t *orig, serve_fn fn, void *arg)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char peer[64];
	int cfd, port;
	pid_t pid;

	cfd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
	if (cfd < 0) {
		if (errno != EINTR && errno != ECONNABORTED && errno != EAGAIN)
			log_warning("event=accept error=\"%s\"", strerror(errno));
		return;
	}
	numeric((struct sockaddr *)&ss, len, peer, sizeof peer, &port);
	if (!source_allowed(k, peer)) {
		close(cfd);
		return;
	}
	pid = fork();
	if (pid == 0)
		child_start(lfd, cfd, orig, fn, arg);
	if (pid < 0) {
		log_error("event=fork error=\"%s\"", strerror(errno));
	} else {
		k->pid[k->n] = pid;
		memcpy(k->peer[k->n], peer, sizeof k->peer[k->n]);
		k->n++;
	}
	close(cfd);
}

/* Accept loop: fork per connection, at most max children at once. Signals
 * are blocked except inside pselect, so none is lost between checks. */
static int accept_loop(int lfd, const struct serve_opts *o, serve_fn fn, void *arg)
{
	struct sigaction sa = { 0 };
	sigset_t block, orig;
	int max_children = o->max_children;
	struct kids k = { calloc((size_t)max_children, sizeof(pid_t)),
			  calloc((size_t)max_children, sizeof *k.peer), 0, max_children,
			  o->max_per_source };

	if (k.pid == NULL || k.peer == NULL) {
		free(k.pid);
		free(k.peer);
		log_error("event=start error=\"out of memory\"");
		return EX_OSERR;
	}
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &orig);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_chld;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	log_info("event=listening max_children=%d max_per_source=%d", max_children, k.per_source);
	while (!got_term) {
		fd_set rfds;
		int rc;

		got_chld = 0;
		reap(&k);
		FD_ZERO(&rfds);
		if (k.n < k.max)
			FD_SET(lfd, &rfds);
		rc = pselect(lfd + 1, &rfds, NULL, NULL, NULL, &orig);
		if (rc < 0 && errno != EINTR) {
			log_error("event=accept error=\"%s\"", strerror(errno));
			break;
		}
		if (rc <= 0 || !FD_ISSET(lfd, &rfds))
			continue;
		accept_one(lfd, &k, &orig, fn, arg);
	}
	close(lfd);
	log_info("event=shutdown children=%d", k.n);
	shutdown_children(&k);
	free(k.pid);
	free(k.peer);
	return EX_OK;
}

int serve(const struct serve_opts *o, serve_fn fn, void *arg)
{
	const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
	struct conn c;
	int lfd;

	if (o->listen) {
		if ((lfd = open_listener(o->listen)) < 0)
			return EX_OSERR;
		return accept_loop(lfd, o, fn, arg);
	}
	if (fds && pid && atol(pid) == (long)getpid()) {
		if (strcmp(fds, "1") != 0) {
			log_error("event=start error=\"LISTEN_FDS=%s: exactly one socket expected\"", fds);
			return EX_CONFIG;
		}
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDNAMES");
		return accept_loop(3, o, fn, arg);
	}
	signal(SIGPIPE, SIG_IGN);
	conn_describe(&c, 0, 1);
	log_set_peer(c.peer);
	return fn(&c, arg);
}
