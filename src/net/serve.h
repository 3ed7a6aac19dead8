/* How a front end gets its connections: one on fds 0/1 (inetd, systemd
 * Accept=yes), accept on fd 3 (systemd Accept=no, LISTEN_FDS=1), or
 * --listen ADDR:PORT; the last two fork one child per connection. */
#ifndef MSGW_NET_SERVE_H
#define MSGW_NET_SERVE_H

struct conn {
	int rfd, wfd;
	char peer[64];     /* numeric address of the remote end, or "unknown" */
	int peer_port;
	char local[64];    /* our address, or "unknown" */
	int local_port;
};

/* Serves one connection; the return value is the child's exit status. */
typedef int (*serve_fn)(const struct conn *c, void *arg);

struct serve_opts {
	const char *listen;   /* "ADDR:PORT", "[V6ADDR]:PORT", or NULL */
	int max_children;
	int max_per_source;   /* of those, from one client address; 0 = no limit */
};

/* Picks the mode, runs, returns an exit status for main (sysexits). */
int serve(const struct serve_opts *o, serve_fn fn, void *arg);

/* Fill peer and local addresses of fd (getpeername, or TCPREMOTEIP from
 * tcpserver when fd is not a socket). */
void conn_describe(struct conn *c, int rfd, int wfd);

/* Parse "ADDR:PORT" / "[ADDR]:PORT" / "PORT"; 0 or -1. */
int parse_hostport(const char *s, char *host, unsigned hostsize, char *port, unsigned portsize);

#endif
