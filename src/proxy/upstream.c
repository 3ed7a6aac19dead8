/* The connection to the target server: resolve, connect with a deadline,
 * a stream with the reply timeout, then a verified TLS client session. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/tls.h"
#include "proxy/proxy.h"

int upstream_implicit(const char *port, int client_implicit)
{
	return client_implicit || strcmp(port, "465") == 0 || strcmp(port, "995") == 0;
}

/* One address: non-blocking connect, then poll until the deadline. */
static int connect_one(const struct addrinfo *ai, long long deadline, int *err)
{
	struct pollfd p;
	socklen_t sl = sizeof *err;
	int fd, rc;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0) {
		*err = errno;
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		*err = errno;
		goto fail;
	}
	p.fd = fd;
	p.events = POLLOUT;
	for (;;) {
		long long left = deadline - stream_now_ms();
		if (left <= 0) {
			*err = ETIMEDOUT;
			goto fail;
		}
		rc = poll(&p, 1, (int)left);
		if (rc > 0)
			break;
		if (rc < 0 && errno != EINTR) {
			*err = errno;
			goto fail;
		}
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &sl) < 0)
		*err = errno;
	if (*err == 0)
		return fd;
fail:
	close(fd);
	return -1;
}

/* Our output is already gathered into whole buffers by the stream; with
 * Nagle on, a buffer that is not a multiple of the MSS waits for the
 * peer's delayed ACK (up to 40 ms per write on loopback): a relay must
 * not. Best effort: not every fd is a TCP socket (pipes in tests). */
void tcp_nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* May the proxy connect to this address of t? Special addresses only
 * when t's name or the address itself is listed literally. */
static int address_allowed(const struct config *cfg, const struct proxy_target *t,
                           const struct addrinfo *ai, const char *const *std_ports)
{
	if (!proxy_addr_special(ai->ai_addr))
		return 1;
	return t->literal || proxy_addr_listed(&cfg->proxy.allowed_targets, ai->ai_addr, t->port,
	                                       std_ports);
}

/* Resolved once: each address is checked, and the connection goes to the
 * very address that was checked (no second lookup by name). */
int upstream_connect(struct upstream *u, const struct config *cfg, const struct proxy_target *t,
                     const char *const *std_ports, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res = NULL, *ai;
	long long deadline = stream_now_ms() + (long long)cfg->proxy.connect_timeout * 1000;
	int rc, e = 0, refused = 0;

	u->fd = -1;
	rc = getaddrinfo(t->host, t->port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", t->host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai && u->fd < 0; ai = ai->ai_next) {
		if (!address_allowed(cfg, t, ai, std_ports)) {
			refused++;
			continue;
		}
		u->fd = connect_one(ai, deadline, &e);
	}
	freeaddrinfo(res);
	if (u->fd < 0) {
		if (e == 0 && refused > 0)
			snprintf(err, errlen,
			         "%s port %s: address not allowed (loopback, private, link-local or "
			         "multicast, and not listed literally in proxy.allowed_targets)",
			         t->host, t->port);
		else
			snprintf(err, errlen, "%s port %s: %s", t->host, t->port,
			         strerror(e ? e : EHOSTUNREACH));
		return -1;
	}
	tcp_nodelay(u->fd);
	if ((u->s = stream_new(u->fd, u->fd, cfg->proxy.reply_timeout * 1000)) == NULL) {
		snprintf(err, errlen, "%s port %s: %s", t->host, t->port, strerror(ENOMEM));
		close(u->fd);
		u->fd = -1;
		return -1;
	}
	return 0;
}

int upstream_tls(struct upstream *u, const struct config *cfg, const char *host, char *err,
                 size_t errlen)
{
	/* A CA named for this target replaces the general trust (a private
	 * CA, or a pin); verification itself is never switched off. */
	const char *pinned = proxy_target_ca(&cfg->proxy.target_ca_files, host);
	struct tls_client_opts o = {
	    .host = host,
	    .ca_file = pinned ? pinned : cfg->proxy.ca_file,
	    .system_trust = pinned == NULL,
	    .handshake_timeout = cfg->proxy.reply_timeout < cfg->tls.handshake_timeout
	                             ? cfg->proxy.reply_timeout
	                             : cfg->tls.handshake_timeout,
	};

	if (tls_client_start(u->s, &o) < 0) {
		snprintf(err, errlen, "%s", stream_strerror(u->s));
		return -1;
	}
	return 0;
}

void upstream_close(struct upstream *u)
{
	if (u->fd < 0)
		return;
	stream_shutdown(u->s);
	stream_free(u->s);
	u->s = NULL;
	close(u->fd);
	u->fd = -1;
}

int upstream_send(struct upstream *u, const char *line)
{
	if (stream_puts(u->s, line) < 0 || stream_puts(u->s, "\r\n") < 0 || stream_flush(u->s) < 0)
		return -1;
	return 0;
}
