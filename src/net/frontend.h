/* The shared start of the three network front ends (msgw-smtp, msgw-pop3,
 * msgw-proxy): options, configuration, then one session per connection. */
#ifndef MSGW_NET_FRONTEND_H
#define MSGW_NET_FRONTEND_H

#include "conf/app.h"
#include "net/serve.h"

struct frontend {
	struct app app;
	int implicit_tls;     /* --implicit-tls: TLS from the first byte */
	const char *listen;   /* --listen ADDR:PORT */
	const char *service;  /* msgw-proxy: "smtp" or "pop3"; else NULL */
	int proxy_only;       /* msgw-proxy: the session accepts only proxy log-ins */
};

typedef int (*session_fn)(const struct conn *c, const struct frontend *fe);

/* Parses the common options (and, when services is non-NULL, one
 * positional argument that must be one of them), loads the config and
 * serves. Returns the exit status for main. */
int frontend_main(int argc, char **argv, struct frontend *fe,
		  const char *const *services, session_fn fn);

#endif
