/* A line-echo server over the real front-end code (options, config, the
 * three connection modes, server and client TLS), so the foundation is
 * tested without depending on the SMTP or POP3 sessions. Commands:
 *   STARTTLS         "+OK go", then a TLS handshake
 *   TLS              "+OK <version and cipher>" or "+OK none"
 *   PEER             "+OK peer=ADDR local=ADDR"
 *   CLIENT HOST PORT [CAFILE]   connect out with verified TLS, report
 *   QUIT             "+OK bye" and close
 *   anything else    "+OK <the line>"; longer than 512 bytes: "-ERR too long" */
#include "config.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

#include "net/frontend.h"
#include "net/stream.h"
#include "net/tls.h"
#include "util/log.h"

static int dial(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int fd = -1;

	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return fd;
}

static void client(struct stream *s, const char *args)
{
	char host[256], port[16], ca[512] = "", desc[128], line[512];
	struct tls_client_opts o = { .host = host, .system_trust = 1, .handshake_timeout = 10 };
	struct stream *up;
	size_t len;
	int fd;

	if (sscanf(args, "%255s %15s %511s", host, port, ca) < 2) {
		stream_puts(s, "-ERR usage: CLIENT HOST PORT [CAFILE]\r\n");
		return;
	}
	o.ca_file = ca;
	if ((fd = dial(host, port)) < 0) {
		stream_puts(s, "-ERR connect failed\r\n");
		return;
	}
	if ((up = stream_new(fd, fd, 10000)) == NULL) {
		stream_puts(s, "-ERR out of memory\r\n");
	} else if (tls_client_start(up, &o) < 0) {
		stream_printf(s, "-ERR %s\r\n", stream_strerror(up));
	} else if (stream_getline(up, line, sizeof line, &len) != LINE_OK) {
		stream_printf(s, "-ERR no greeting: %s\r\n", stream_strerror(up));
	} else {
		line[strcspn(line, "\r\n")] = '\0';
		stream_printf(s, "+OK verified %s greeting=%s\r\n", tls_describe(up, desc, sizeof desc), line);
	}
	stream_shutdown(up);
	stream_free(up);
	close(fd);
}

static int session(const struct conn *c, const struct frontend *fe)
{
	struct stream *s;
	char line[514], desc[128];
	size_t len;

	if ((s = stream_new(c->rfd, c->wfd, 10000)) == NULL)
		return EX_OSERR;
	if (fe->implicit_tls && tls_server_start(s, &fe->app.cfg) < 0) {
		log_info("event=tls error=\"%s\"", stream_strerror(s));
		stream_free(s);
		return EX_PROTOCOL;
	}
	stream_puts(s, "+OK echo ready\r\n");
	for (;;) {
		enum line_result r = stream_getline(s, line, sizeof line, &len);

		if (r == LINE_TOO_LONG) {
			stream_puts(s, "-ERR too long\r\n");
			continue;
		}
		if (r != LINE_OK)
			break;
		line[strcspn(line, "\r\n")] = '\0';
		if (strcmp(line, "STARTTLS") == 0) {
			stream_puts(s, "+OK go\r\n");
			if (tls_server_start(s, &fe->app.cfg) < 0) {
				log_info("event=tls error=\"%s\"", stream_strerror(s));
				return EX_PROTOCOL;
			}
		} else if (strcmp(line, "TLS") == 0) {
			stream_printf(s, "+OK %s\r\n", tls_describe(s, desc, sizeof desc));
		} else if (strcmp(line, "PEER") == 0) {
			stream_printf(s, "+OK peer=%s local=%s\r\n", c->peer, c->local);
		} else if (strncmp(line, "CLIENT ", 7) == 0) {
			client(s, line + 7);
		} else if (strcmp(line, "QUIT") == 0) {
			stream_puts(s, "+OK bye\r\n");
			break;
		} else {
			stream_printf(s, "+OK %s\r\n", line);
		}
	}
	stream_shutdown(s);
	stream_free(s);
	return EX_OK;
}

int main(int argc, char **argv)
{
	struct frontend fe = { .app = { .prog = "echo-server",
		.usage = "Usage: echo-server [-c CONF] [--implicit-tls] [--listen ADDR:PORT] [--foreground]\n" } };

	return frontend_main(argc, argv, &fe, NULL, session);
}
