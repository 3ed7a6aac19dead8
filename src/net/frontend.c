#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "net/frontend.h"

struct runner {
	session_fn fn;
	const struct frontend *fe;
};

static int run_session(const struct conn *c, void *arg)
{
	const struct runner *r = arg;

	return r->fn(c, r->fe);
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
	struct runner r = { fn, fe };
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': fe->app.config_path = optarg; break;
		case 'T': fe->implicit_tls = 1; break;
		case 'l': fe->listen = optarg; break;
		case 'f': fe->app.foreground = 1; break;
		case 'h': app_usage(&fe->app, stdout); return EX_OK;
		case 'V': app_version(&fe->app); return EX_OK;
		default:
			app_usage_error(&fe->app, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (services) {
		if (optind >= argc || !known_service(services, argv[optind]))
			app_usage_error(&fe->app, optind < argc ? "unknown service '%s'" : "missing service",
					optind < argc ? argv[optind] : "");
		fe->service = argv[optind++];
	}
	if (optind != argc)
		app_usage_error(&fe->app, "unexpected argument '%s'", argv[optind]);
	app_load(&fe->app);
	so.listen = fe->listen;
	so.max_children = fe->app.cfg.server.max_connections;
	so.max_per_source = fe->app.cfg.server.max_connections_per_source;
	c = serve(&so, run_session, &r);
	config_free(&fe->app.cfg);
	return c;
}
