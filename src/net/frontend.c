#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "net/frontend.h"
#include "privsep/privsep.h"
#include "util/secmem.h"

struct runner {
	session_fn fn;
	struct frontend *fe;
	struct privsep ps;
};

static int parse_session(const struct conn *c, void *arg)
{
	const struct runner *r = arg;

	return r->fn(c, r->fe);
}

static int run_session(const struct conn *c, void *arg)
{
	struct runner *r = arg;

	return privsep_run(&r->ps, &r->fe->app.cfg, c, parse_session, r);
}

static int known_service(const char *const *services, const char *s)
{
	for (; *services; services++)
		if (strcmp(*services, s) == 0)
			return 1;
	return 0;
}

int frontend_main(int argc, char **argv, struct frontend *fe,
		  const char *const *services, session_fn fn)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "implicit-tls", no_argument, NULL, 'T' },
		{ "listen", required_argument, NULL, 'l' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct serve_opts so = { 0 };
	struct runner r = { fn, fe, { 0 } };
	int c, help = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': fe->app.config_path = optarg; break;
		case 'T': fe->implicit_tls = 1; break;
		case 'l': fe->listen = optarg; break;
		case 'f': fe->app.foreground = 1; break;
		case 'h': help = 1; break;
		case 'V': app_version(&fe->app); return EX_OK;
		default:
			app_usage_error(&fe->app, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (services && (optind < argc || !help)) {
		if (optind >= argc || !known_service(services, argv[optind]))
			app_usage_error(&fe->app, optind < argc ? "unknown service '%s'" : "missing service",
					optind < argc ? argv[optind] : "");
		fe->service = argv[optind++];
	}
	if (optind != argc)
		app_usage_error(&fe->app, "unexpected argument '%s'", argv[optind]);
	if (help) {
		app_usage(&fe->app, stdout);
		return EX_OK;
	}
	/* Passwords, TLS keys and identities pass through every front end. */
	if (secmem_nodump() < 0) {
		perror(fe->app.prog);
		return EX_OSERR;
	}
	app_load(&fe->app);
	c = privsep_setup(&r.ps, &fe->app.cfg,
			  strstr(fe->service ? fe->service : fe->app.prog, "pop3") ? PRIVSEP_POP3 : PRIVSEP_SMTP,
			  fe->app.prog);
	if (c != 0) {
		config_free(&fe->app.cfg);
		return c;
	}
	so.listen = fe->listen;
	so.max_children = fe->app.cfg.server.max_connections;
	so.max_per_source = fe->app.cfg.server.max_connections_per_source;
	c = serve(&so, run_session, &r);
	config_free(&fe->app.cfg);
	return c;
}
