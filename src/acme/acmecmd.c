/* The commands that talk to a CA: issue and renew. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "acme/client.h"
#include "acme/cmd.h"
#include "acme/install.h"
#include "acme/keychoice.h"
#include "acme/renewal.h"
#include "acme/state.h"
#include "acme/x509.h"
#include "util/log.h"

#define MAX_NAMES 16
#define LE_PRODUCTION "https://acme-v02.api.letsencrypt.org/directory"
#define LE_STAGING "https://acme-staging-v02.api.letsencrypt.org/directory"

/* One issue or renew at a time (the timer and an operator may overlap):
 * an exclusive lock on data_dir/acme/lock, held until exit. */
static int take_lock(const struct config *cfg, struct acme_err *e)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int fd;

	if (state_path(cfg, "", dir, sizeof dir, e) < 0 || state_path(cfg, "lock", path, sizeof path, e) < 0)
		return -1;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return aerr(e, "%s: %s", dir, strerror(errno));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return aerr(e, "%s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int saved = errno;
		close(fd);
		return aerr(e, "%s: %s", path,
			    saved == EWOULDBLOCK ? "another msgw-acme issue or renew is running" : strerror(saved));
	}
	return fd;
}

/* The account key under data_dir/acme/, made on first use. */
static int account_key(const struct config *cfg, struct akey **k, struct acme_err *e)
{
	char path[PATH_MAX];
	struct buf b;
	int rc = -1;

	buf_init(&b, ACME_FILE_MAX);
	if (state_path(cfg, "account.key", path, sizeof path, e) < 0)
		return -1;
	if (read_small(path, &b, e) == 0) {
		rc = akey_from_pem(k, b.data, b.len, e);
		if (rc < 0)
			aerr_prefix(e, "%s", path);
		goto out;
	}
	if (errno != ENOENT)
		goto out;
	buf_reset(&b);
	if (akey_generate(k, e) < 0 || akey_to_pem(*k, &b, e) < 0 ||
	    install_file(path, b.data, b.len, 0600, 0700, e) < 0)
		goto out;
	log_info("event=account_key_created path=%s", path);
	rc = 0;
out:
	buf_wipe_free(&b);
	return rc;
}

/* One whole order against dir_url; the new key and chain on success. */
static int run_order(const struct config *cfg, const char *dir_url, const struct akey *acct,
		     struct order_opts *o, int want_replaces, unsigned rsa_bits, struct akey **key,
		     struct achain **chain, struct acme_err *e)
{
	struct acme a;
	struct buf pem;
	int rc = -1;

	*key = NULL;
	*chain = NULL;
	buf_init(&pem, HTTP_BODY_MAX);
	if (acme_open(&a, dir_url, cfg->acme.ca_file, acct, e) < 0)
		return -1;
	/* replaces only where the CA knows ARI (RFC 9773 section 5). */
	if (!want_replaces || acme_dir_url(&a, "renewalInfo") == NULL)
		o->replaces = NULL;
	if (acme_account(&a, cfg->acme.email, e) < 0 || akey_generate_rsa(key, rsa_bits, e) < 0 ||
	    acme_order(&a, o, *key, &pem, e) < 0)
		goto out;
	if (achain_from_pem(chain, pem.data, pem.len, e) < 0) {
		aerr_prefix(e, "the CA's certificate");
		goto out;
	}
	if (achain_matches_key(*chain, *key, e) != 1) {
		aerr(e, "the CA's certificate does not match the key of the request");
		goto out;
	}
	for (size_t i = 0; i < o->n; i++) {
		if (!achain_has_name(*chain, o->names[i])) {
			aerr(e, "the CA's certificate does not name %s", o->names[i]);
			goto out;
		}
	}
	rc = 0;
out:
	if (rc < 0) {
		achain_free(*chain);
		akey_free(*key);
		*chain = NULL;
		*key = NULL;
	}
	buf_free(&pem);
	acme_close(&a);
	return rc;
}

/* Remember that msgw-acme installed these certificates, for which names
 * and key types: sha256 is tls.cert's, rsa_sha256 tls.rsa_cert's. */
static void save_managed(const struct config *cfg, const char *dir_url, const struct order_opts *o,
			 const struct keychoice *kc, const struct acert_info *info, size_t n)
{
	json_t *names = json_array(), *m;
	struct acme_err e;

	for (size_t i = 0; i < o->n; i++)
		json_array_append_new(names, json_string(o->names[i]));
	m = json_pack("{s:s, s:s, s:o, s:I, s:s, s:i}", "sha256", info[0].sha256, "directory", dir_url, "names",
		      names, "issued", (json_int_t)time(NULL), "key_type", keychoice_name(kc), "rsa_bits",
		      (int)kc->rsa_bits);
	if (m && n == 2)
		json_object_set_new(m, "rsa_sha256", json_string(info[1].sha256));
	if (m == NULL || state_save(cfg, "managed.json", m, &e) < 0)
		fprintf(stderr, "msgw-acme: warning: %s\n", m ? e.msg : "out of memory");
	json_decref(m);
}

/* Issue from the production directory and install, one order per key
 * type (a CSR carries one key); the staging run (when asked) only proves
 * the whole flow works first. */
static int obtain(const struct config *cfg, struct order_opts *o, const struct keychoice *kc, int staging,
		  int replaces, const char *verb, struct acme_err *e)
{
	struct akey *acct = NULL, *key[2] = { NULL, NULL };
	struct achain *chain[2] = { NULL, NULL };
	struct acert_info info[2];
	size_t n = keychoice_count(kc), i;
	char until[32];
	int rc = -1;

	if (account_key(cfg, &acct, e) < 0)
		goto out;
	if (staging) {
		log_info("event=staging_run directory=%s", cfg->acme.staging_directory);
		if (run_order(cfg, cfg->acme.staging_directory, acct, o, replaces, keychoice_bits_of(kc, 0), &key[0],
			      &chain[0], e) < 0) {
			aerr_prefix(e, "staging run against %s (skip with --no-staging-check)",
				    cfg->acme.staging_directory);
			goto out;
		}
		achain_free(chain[0]);
		akey_free(key[0]);
		chain[0] = NULL;
		key[0] = NULL;
	}
	for (i = 0; i < n; i++) {
		if (run_order(cfg, cfg->acme.directory, acct, o, replaces && i == 0, keychoice_bits_of(kc, i), &key[i],
			      &chain[i], e) < 0 ||
		    achain_info(chain[i], &info[i], e) < 0)
			goto out;
	}
	if (install_tls_set(cfg, key, chain, n, e) < 0)
		goto out;
	save_managed(cfg, cfg->acme.directory, o, kc, info, n);
	for (i = 0; i < n; i++)
		printf("%s a certificate for %s (%s) from %s, valid until %s: %s\n", verb, info[i].sans,
		       info[i].key_type, cfg->acme.directory, fmt_time(info[i].not_after, until, sizeof until),
		       i == 1 ? cfg->tls.rsa_cert : cfg->tls.cert);
	rc = 0;
out:
	for (i = 0; i < 2; i++) {
		achain_free(chain[i]);
		akey_free(key[i]);
	}
	akey_free(acct);
	return rc;
}

/* The default staging directory only makes sense before the default
 * production one: with any other CA, the staging run is skipped unless
 * acme.staging_directory names that CA's staging directory. */
static int want_staging(const struct config *cfg, int no_check)
{
	if (no_check || cfg->acme.staging_directory[0] == '\0')
		return 0;
	if (strcmp(cfg->acme.staging_directory, LE_STAGING) == 0 &&
	    strcmp(cfg->acme.directory, LE_PRODUCTION) != 0)
		return 0;
	return 1;
}

int acmecmd_issue(struct app *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "domain", required_argument, NULL, 'd' },
		{ "webroot", required_argument, NULL, 'w' },
		{ "no-staging-check", no_argument, NULL, 'n' },
		{ "key-type", required_argument, NULL, 't' },
		{ "rsa-bits", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *names[MAX_NAMES];
	struct keychoice kc = { 1, 1, 2048 };
	struct order_opts o;
	struct acme_err e;
	int opt, no_check = 0, lock = -1, rc = EX_OK;

	memset(&o, 0, sizeof o);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			if (o.n == MAX_NAMES || *optarg == '\0')
				acmecmd_usage_error(a, "--domain: empty, or too many names ('%s')", optarg);
			names[o.n++] = optarg;
			break;
		case 'w': o.webroot = optarg; break;
		case 'n': no_check = 1; break;
		case 't': acmecmd_key_type(a, &kc, optarg); break;
		case 'b': acmecmd_rsa_bits(a, &kc, optarg); break;
		case 'h': app_usage(a, stdout); return EX_OK;
		default: acmecmd_usage_error(a, "issue: unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		acmecmd_usage_error(a, "issue: unexpected argument '%s'", argv[optind]);
	app_load(a);
	if (o.n == 0)
		names[o.n++] = a->cfg.domain;
	o.names = names;
	o.profile = a->cfg.acme.profile;
	o.bind_addr = a->cfg.acme.challenge_address;
	o.port = a->cfg.acme.challenge_port;
	if ((lock = take_lock(&a->cfg, &e)) < 0 ||
	    obtain(&a->cfg, &o, &kc, want_staging(&a->cfg, no_check), 0, "issued", &e) < 0) {
		fprintf(stderr, "msgw-acme: issue: %s\n", e.msg);
		rc = 1;
	}
	if (lock >= 0)
		close(lock);
	return rc;
}

/* The names to renew: those msgw-acme issued the certificate for. */
static int managed_names(const struct config *cfg, const struct acert_info *info, json_t **m,
			 const char **names, size_t *n, struct acme_err *e)
{
	json_t *v;
	size_t i;

	if (state_load(cfg, "managed.json", m, e) < 0)
		return -1;
	if (*m == NULL || !json_is_string(json_object_get(*m, "sha256")) ||
	    strcmp(json_string_value(json_object_get(*m, "sha256")), info->sha256) != 0)
		return aerr(e, "%s was not issued by msgw-acme (run msgw-acme issue first)", cfg->tls.cert);
	*n = 0;
	json_array_foreach(json_object_get(*m, "names"), i, v) {
		if (json_is_string(v) && *n < MAX_NAMES)
			names[(*n)++] = json_string_value(v);
	}
	return *n ? 0 : aerr(e, "managed.json names no domain");
}

/* The key types issue chose (ecdsa for a managed.json from before key
 * types), unless renew --key-type says otherwise. */
static void managed_keys(const json_t *m, struct keychoice *kc, int given)
{
	const char *t = json_string_value(json_object_get(m, "key_type"));
	json_int_t bits = json_integer_value(json_object_get(m, "rsa_bits"));

	if (kc->rsa_bits == 0 && (bits == 2048 || bits == 3072))
		kc->rsa_bits = (unsigned)bits;
	if (given)
		return;
	if (t == NULL || keychoice_parse(kc, t) < 0)
		keychoice_parse(kc, "ecdsa");
}

/* Is renewal due? ARI when the directory offers it, else the lifetime rule;
 * when the CA cannot be asked, the lifetime rule decides. */
static void decide(const struct config *cfg, const struct acert_info *info, time_t now,
		   struct renew_plan *p)
{
	struct akey *acct = NULL;
	struct acme a;
	struct acme_err e;

	renewal_by_lifetime(info, now, p);
	if (account_key(cfg, &acct, &e) < 0 || acme_open(&a, cfg->acme.directory, cfg->acme.ca_file, acct, &e) < 0) {
		log_warning("event=ari_unavailable error=\"%s\"", e.msg);
		akey_free(acct);
		return;
	}
	if (acme_dir_url(&a, "renewalInfo")) {
		struct renew_plan ap;
		if (renewal_by_ari(&a, cfg, info, now, &ap, &e) == 0) {
			*p = ap;
		} else {
			log_warning("event=ari_failed error=\"%s\"", e.msg);
		}
	}
	acme_close(&a);
	akey_free(acct);
}

static int read_current(const struct config *cfg, struct acert_info *info, struct acme_err *e)
{
	struct achain *c = NULL;
	struct buf b;
	int rc = -1;

	buf_init(&b, ACME_FILE_MAX);
	if (read_small(cfg->tls.cert, &b, e) == 0 && achain_from_pem(&c, b.data, b.len, e) == 0)
		rc = achain_info(c, info, e);
	achain_free(c);
	buf_free(&b);
	return rc;
}

int acmecmd_renew(struct app *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "key-type", required_argument, NULL, 't' },
		{ "rsa-bits", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *names[MAX_NAMES];
	struct keychoice kc = { 1, 0, 0 };
	int given = 0;
	struct acert_info info;
	struct renew_plan plan;
	struct order_opts o;
	struct acme_err e;
	json_t *m = NULL;
	int opt, force = 0, lock = -1, rc = 1;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'f': force = 1; break;
		case 't': acmecmd_key_type(a, &kc, optarg), given = 1; break;
		case 'b': acmecmd_rsa_bits(a, &kc, optarg); break;
		case 'h': app_usage(a, stdout); return EX_OK;
		default: acmecmd_usage_error(a, "renew: unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		acmecmd_usage_error(a, "renew: unexpected argument '%s'", argv[optind]);
	app_load(a);
	memset(&o, 0, sizeof o);
	if ((lock = take_lock(&a->cfg, &e)) < 0)
		goto fail;
	if (read_current(&a->cfg, &info, &e) < 0 || managed_names(&a->cfg, &info, &m, names, &o.n, &e) < 0)
		goto fail;
	managed_keys(m, &kc, given);
	if (!force)
		decide(&a->cfg, &info, time(NULL), &plan);
	if (!force && !plan.due) {
		log_debug("event=not_due reason=\"%s\"", plan.why);
		rc = EX_OK; /* quiet: nothing to do */
		goto out;
	}
	log_info("event=renewing reason=\"%s\"", force ? "--force" : plan.why);
	o.names = names;
	o.profile = a->cfg.acme.profile;
	o.replaces = info.ari_id[0] ? info.ari_id : NULL;
	o.bind_addr = a->cfg.acme.challenge_address;
	o.port = a->cfg.acme.challenge_port;
	if (obtain(&a->cfg, &o, &kc, 0, 1, "renewed", &e) < 0)
		goto fail;
	rc = EX_OK;
	goto out;
fail:
	fprintf(stderr, "msgw-acme: renew: %s\n", e.msg);
out:
	if (lock >= 0)
		close(lock);
	json_decref(m);
	return rc;
}
