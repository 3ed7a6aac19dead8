/* msgw-acme: command line. Each command parses its own options and calls
 * the certificate, install and ACME code. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "acme/acme.h"
#include "acme/cmd.h"
#include "conf/app.h"
#include "util/secmem.h"

static const char usage[] =
	"Usage: msgw-acme [-c CONF] COMMAND [ARGS]\n"
	"  selfsigned [--days N] [--name DNSNAME]...   new key and self-signed certificate\n"
	"  import FILE.p12 [--password-file F]        install a PKCS#12 bundle\n"
	"  import --cert PEM --key PEM                install a PEM certificate chain and key\n"
	"  status [--json]                            the installed certificate (exit 0/1/2)\n"
	"  issue [--domain D]... [--webroot DIR] [--no-staging-check]\n"
	"                                             get a certificate by ACME (HTTP-01)\n"
	"  renew [--force]                            renew when due (for cron and timers)\n"
	"Options: -c, --config FILE; --help; --version. See msgw-acme(8).\n";

struct command {
	const char *name;
	int (*run)(struct app *a, int argc, char **argv);
};

static const struct command commands[] = {
	{ "selfsigned", acmecmd_selfsigned },
	{ "import", acmecmd_import },
	{ "status", acmecmd_status },
	{ "issue", acmecmd_issue },
	{ "renew", acmecmd_renew },
};

void acmecmd_usage_error(struct app *a, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	app_usage_error(a, "%s", msg);
}

int acmecmd_parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int acme_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct app a = { .prog = "msgw-acme", .usage = usage, .foreground = 1 };
	int c, rc;

	/* Account and certificate keys, PKCS#12 passwords: no core file. */
	if (secmem_nodump() < 0) {
		perror("msgw-acme: prctl");
		return EX_OSERR;
	}
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
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(argv[optind], commands[i].name) != 0)
			continue;
		argc -= optind;
		argv += optind;
		optind = 0; /* reset getopt for the command's own options */
		rc = commands[i].run(&a, argc, argv);
		config_free(&a.cfg);
		return rc;
	}
	app_usage_error(&a, "unknown command '%s'", argv[optind]);
}
