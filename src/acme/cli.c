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
#include "acme/keychoice.h"
#include "conf/app.h"
#include "util/secmem.h"

static const char usage[] =
	"Usage: msgw-acme [-c CONF] COMMAND [ARGS]\n"
	"  selfsigned [--days N] [--name DNSNAME]... [KEYS]  new key and self-signed certificate\n"
	"  import FILE.p12 [FILE2.p12] [--password-file F]   install PKCS#12 bundles\n"
	"  import --cert PEM --key PEM [--cert PEM --key PEM] install PEM chains and keys\n"
	"  status [--json]                            the installed certificates (exit 0/1/2)\n"
	"  issue [--domain D]... [--webroot DIR] [--no-staging-check] [KEYS]\n"
	"                                             get a certificate by ACME (HTTP-01)\n"
	"  renew [--force] [KEYS]                     renew when due (for cron and timers)\n"
	"KEYS: --key-type ecdsa|rsa|both (selfsigned: ecdsa; issue: both; renew: as issued)\n"
	"      --rsa-bits 2048|3072 (default 2048)\n"
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

void acmecmd_key_type(struct app *a, struct keychoice *kc, const char *arg)
{
	if (keychoice_parse(kc, arg) < 0)
		acmecmd_usage_error(a, "--key-type: want ecdsa, rsa or both, not '%s'", arg);
}

void acmecmd_rsa_bits(struct app *a, struct keychoice *kc, const char *arg)
{
	if (keychoice_bits(kc, arg) < 0)
		acmecmd_usage_error(a, "--rsa-bits: want 2048 or 3072, not '%s'", arg);
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
