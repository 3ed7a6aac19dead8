/* The commands that need no CA: selfsigned, import, status. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "acme/cmd.h"
#include "acme/install.h"
#include "acme/x509.h"
#include "util/wipe.h"

#define MAX_NAMES 32

/* Key and chain (PEM) to tls.key / tls.cert. */
static int install_key_chain(const struct config *cfg, const struct akey *k,
			     const struct achain *c, struct acme_err *e)
{
	struct buf kp, cp;
	int rc = -1;

	buf_init(&kp, ACME_FILE_MAX);
	buf_init(&cp, ACME_FILE_MAX);
	if (akey_to_pem(k, &kp, e) < 0 || achain_to_pem(c, &cp, e) < 0)
		goto out;
	rc = install_pair(cfg->tls.cert, cp.data, cp.len, cfg->tls.key, kp.data, kp.len, e);
out:
	buf_wipe_free(&kp);
	buf_free(&cp);
	return rc;
}

int cmd_selfsigned(struct app *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "days", required_argument, NULL, 'd' },
		{ "name", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *names[MAX_NAMES];
	size_t n = 0;
	long days = 365;
	struct akey *k = NULL;
	struct achain *c = NULL;
	struct acme_err e;
	int opt, rc = EX_SOFTWARE;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			if (cmd_parse_int(optarg, 1, 36500, &days) < 0)
				cmd_usage_error(a, "--days: want 1 to 36500, not '%s'", optarg);
			break;
		case 'n':
			if (n == MAX_NAMES || *optarg == '\0')
				cmd_usage_error(a, "--name: empty, or too many names ('%s')", optarg);
			names[n++] = optarg;
			break;
		case 'h': app_usage(a, stdout); return EX_OK;
		default: cmd_usage_error(a, "selfsigned: unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		cmd_usage_error(a, "selfsigned: unexpected argument '%s'", argv[optind]);
	app_load(a);
	if (n == 0)
		names[n++] = a->cfg.hostname;
	if (akey_generate(&k, &e) < 0 || acert_selfsigned(k, names, n, (int)days, &c, &e) < 0) {
		fprintf(stderr, "msgw-acme: selfsigned: %s\n", e.msg);
		goto out;
	}
	if (install_key_chain(&a->cfg, k, c, &e) < 0) {
		fprintf(stderr, "msgw-acme: selfsigned: %s\n", e.msg);
		rc = EX_CANTCREAT;
		goto out;
	}
	printf("installed a self-signed certificate for %s (%ld days): %s, key %s\n", names[0], days,
	       a->cfg.tls.cert, a->cfg.tls.key);
	rc = EX_OK;
out:
	achain_free(c);
	akey_free(k);
	return rc;
}

int cmd_import(struct app *a, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	app_load(a);
	fprintf(stderr, "msgw-acme: import: not available yet\n");
	return EX_UNAVAILABLE;
}

int cmd_status(struct app *a, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	app_load(a);
	fprintf(stderr, "msgw-acme: status: not available yet\n");
	return EX_UNAVAILABLE;
}
