/* A port probe for msgw-mbox status: connect to ADDR:PORT as a client
 * would, read the greeting, switch to TLS (STARTTLS, STLS or implicit),
 * verify the certificate the port serves with net/tls.c's client code and
 * report when it expires. */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "mbox/probe.h"
#include "net/serve.h"
#include "net/tls.h"

enum kind { SMTP, SMTPS, POP3, POP3S };

struct probe {
	const struct config *cfg;
	int rsa_only;
	enum kind kind;
	char host[256], port[16];
	struct stream *s;
	char *msg;
	size_t msgsize;
};

static int failf(struct probe *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int failf(struct probe *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->msg, p->msgsize, fmt, ap);
	va_end(ap);
	return -1;
}

static int parse(struct probe *p, const char *spec)
{
	static const char *const kinds[] = { "smtp://", "smtps://", "pop3://", "pop3s://" };

	for (int k = 0; k < 4; k++) {
		size_t len = strlen(kinds[k]);
		if (strncmp(spec, kinds[k], len) != 0)
			continue;
		p->kind = (enum kind)k;
		if (parse_hostport(spec + len, p->host, sizeof p->host, p->port, sizeof p->port) < 0 ||
		    p->host[0] == '\0')
			break;
		return 0;
	}
	return failf(p, "not KIND://ADDR:PORT");
}

/* A blocking connect bounded by SO_SNDTIMEO (Linux applies it to connect). */
static int dial(struct probe *p)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL, *ai;
	struct timeval tv = { p->cfg->status.probe_timeout, 0 };
	int fd = -1, rc, err = EHOSTUNREACH;

	if ((rc = getaddrinfo(p->host, p->port, &hints, &res)) != 0)
		return failf(p, "%s", gai_strerror(rc));
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0 ||
		    connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			err = errno == EINPROGRESS ? ETIMEDOUT : errno;
			if (fd >= 0)
				close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		return failf(p, "connect: %s", strerror(err));
	return fd;
}

/* One reply: SMTP lines until "CODE " (a final line), POP3 one line. */
static int reply(struct probe *p, const char *want, const char *what)
{
	char line[1024];
	size_t len;

	for (int i = 0; i < 100; i++) {
		enum line_result r = stream_getline(p->s, line, sizeof line, &len);
		if (r != LINE_OK)
			return failf(p, "%s: %s", what,
				     r == LINE_EOF ? "connection closed" : stream_strerror(p->s));
		line[strcspn(line, "\r\n")] = '\0';
		if (strncmp(line, want, strlen(want)) != 0)
			return failf(p, "%s: unexpected reply \"%.80s\"", what, line);
		if (p->kind == POP3 || p->kind == POP3S || len < 4 || line[3] != '-')
			return 0;
	}
	return failf(p, "%s: reply too long", what);
}

static int command(struct probe *p, const char *cmd, const char *want)
{
	if (stream_printf(p->s, "%s\r\n", cmd) < 0 || stream_flush(p->s) < 0)
		return failf(p, "%s: %s", cmd, stream_strerror(p->s));
	return reply(p, want, cmd);
}

static int start_tls(struct probe *p)
{
	const char *ca = p->cfg->status.probe_ca_file[0] ? p->cfg->status.probe_ca_file : p->cfg->tls.cert;
	struct tls_client_opts o = {
		.host = p->cfg->hostname,
		.ca_file = ca,
		.system_trust = 1,
		.handshake_timeout = p->cfg->status.probe_timeout,
		.rsa_only = p->rsa_only,
	};

	if (tls_client_start(p->s, &o) < 0)
		return failf(p, "%s", stream_strerror(p->s));
	return 0;
}

/* The conversation up to a verified TLS session, per kind. */
static int converse(struct probe *p)
{
	int smtp = p->kind == SMTP || p->kind == SMTPS;
	const char *ok = smtp ? "220" : "+OK";

	if (p->kind == SMTPS || p->kind == POP3S)
		return start_tls(p) < 0 || reply(p, ok, "greeting") < 0 ? -1 : 0;
	if (reply(p, ok, "greeting") < 0)
		return -1;
	if (smtp && (command(p, "EHLO msgw-probe", "250") < 0 || command(p, "STARTTLS", "220") < 0))
		return -1;
	if (!smtp && command(p, "STLS", "+OK") < 0)
		return -1;
	return start_tls(p);
}

int probe_port(const struct config *cfg, const char *spec, int rsa_only, time_t *until, char *msg,
	       size_t msgsize)
{
	struct probe p = { .cfg = cfg, .rsa_only = rsa_only, .msg = msg, .msgsize = msgsize };
	int fd, rc;

	msg[0] = '\0';
	if (parse(&p, spec) < 0 || (fd = dial(&p)) < 0)
		return -1;
	if ((p.s = stream_new(fd, fd, cfg->status.probe_timeout * 1000)) == NULL) {
		close(fd);
		return failf(&p, "%s", strerror(ENOMEM));
	}
	stream_set_session_limit(p.s, cfg->status.probe_timeout);
	rc = converse(&p);
	if (rc == 0 && tls_peer_expiry(p.s, until) < 0)
		rc = failf(&p, "no readable certificate from the port");
	if (rc == 0) {
		char suite[128];
		snprintf(msg, msgsize, "%s", tls_describe(p.s, suite, sizeof suite));
		(void)command(&p, "QUIT", p.kind == SMTP || p.kind == SMTPS ? "221" : "+OK");
	}
	stream_shutdown(p.s);
	stream_free(p.s);
	close(fd);
	return rc;
}
