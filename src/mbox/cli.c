/* msgw-mbox: global options, then one command from the table. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "conf/app.h"
#include "mbox/cmd.h"
#include "mbox/mbox.h"
#include "util/secmem.h"

static const char usage[] =
	"Usage: msgw-mbox [-c CONF] COMMAND [ARGS]\n"
	"  create NAME [--description TEXT] [--proxy] [--json]\n"
	"  list [--json]\n"
	"  show ID [--json]\n"
	"  edit ID [--name N] [--description D] [--status active|suspended] [--proxy on|off]\n"
	"  delete ID                     (suspended and empty only)\n"
	"  reset-password ID [--json]    (suspended and empty only)\n"
	"  export ID [--password-file F|-] --maildir DIR\n"
	"  status [--json]               (exit 0 ok, 1 warning, 2 critical)\n"
	"  status --prometheus [--write] (metrics; --write: to status.prometheus_file)\n"
	"  unlock ID [--force]           (remove a maildrop lock whose lease ran out)\n"
	"  edit ID [--escrow-recipient R|none|default] [--dedup WINDOW|off]\n"
	"  reset-password ID --escrow-identity FILE [--json]   (suspended)\n"
	"  recover ID --escrow-identity FILE --maildir DIR\n"
	"Options: -c, --config FILE; --help; --version. See msgw-mbox(8).\n";

static const struct {
	const char *name;
	int (*fn)(struct ctx *c, int argc, char **argv);
} commands[] = {
	{ "create", cmd_create },
	{ "list", cmd_list },
	{ "show", cmd_show },
	{ "edit", cmd_edit },
	{ "delete", cmd_delete },
	{ "reset-password", cmd_reset_password },
	{ "export", cmd_export },
	{ "status", cmd_status },
	{ "unlock", cmd_unlock },
	{ "recover", cmd_recover },
};

int mbox_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctx c;
	int opt, rc;

	memset(&c, 0, sizeof c);
	/* Passwords and unsealed identities pass through here: no core file,
	 * no /proc/PID/mem for other processes of the uid. */
	if (secmem_nodump() < 0) {
		perror("msgw-mbox: prctl");
		return EX_OSERR;
	}
	cmd_json_init();
	c.app.prog = "msgw-mbox";
	c.app.usage = usage;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+c:", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': c.app.config_path = optarg; break;
		case 'h': app_usage(&c.app, stdout); return EX_OK;
		case 'V': app_version(&c.app); return EX_OK;
		default: app_usage_error(&c.app, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		app_usage_error(&c.app, "missing command");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			rc = commands[i].fn(&c, argc - optind, argv + optind);
			config_free(&c.app.cfg);
			return rc;
		}
	}
	app_usage_error(&c.app, "unknown command '%s'", argv[optind]);
}
