/* PLACEHOLDER until the msgw-mbox commands land. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <sysexits.h>

#include "mbox/mbox.h"
#include "conf/app.h"

static const char usage[] = "Usage: msgw-mbox [-c CONF] COMMAND [ARGS]\nSee msgw-mbox(8).\n";

int mbox_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct app a = { .prog = "msgw-mbox", .usage = usage };
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+c:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': a.config_path = optarg; break;
		case 'h': app_usage(&a, stdout); return EX_OK;
		case 'V': app_version(&a); return EX_OK;
		default: app_usage_error(&a, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		app_usage_error(&a, "missing command");
	fprintf(stderr, "msgw-mbox: %s: not available yet\n", argv[optind]);
	return EX_UNAVAILABLE;
}
