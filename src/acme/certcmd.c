/* The commands that need no CA: selfsigned, import, status. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "acme/cmd.h"
#include "acme/install.h"
#include "acme/keychoice.h"
#include "acme/state.h"
#include "acme/x509.h"
#include "util/wipe.h"

#define MAX_NAMES 32

/* One self-signed certificate per key of kc, ECDSA first. */
static int make_selfsigned(const struct keychoice *kc, const char *const *names, size_t n, int days,
			   struct akey **k, struct achain **c, struct acme_err *e)
{
	for (size_t i = 0; i < keychoice_count(kc); i++) {
		if (akey_generate_rsa(&k[i], keychoice_bits_of(kc, i), e) < 0 ||
		    acert_selfsigned(k[i], names, n, days, &c[i], e) < 0)
			return -1;
	}
	return 0;
}

int acmecmd_selfsigned(struct app *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "days", required_argument, NULL, 'd' },
		{ "name", required_argument, NULL, 'n' },
		{ "key-type", required_argument, NULL, 't' },
		{ "rsa-bits", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *names[MAX_NAMES];
	size_t n = 0;
	long days = 365;
	struct keychoice kc = { 1, 0, 2048 };
	struct akey *k[2] = { NULL, NULL };
	struct achain *c[2] = { NULL, NULL };
	struct acme_err e;
	int opt, rc = EX_SOFTWARE;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			if (acmecmd_parse_int(optarg, 1, 36500, &days) < 0)
				acmecmd_usage_error(a, "--days: want 1 to 36500, not '%s'", optarg);
			break;
		case 'n':
			if (n == MAX_NAMES || *optarg == '\0')
				acmecmd_usage_error(a, "--name: empty, or too many names ('%s')", optarg);
			names[n++] = optarg;
			break;
		case 't': acmecmd_key_type(a, &kc, optarg); break;
		case 'b': acmecmd_rsa_bits(a, &kc, optarg); break;
		case 'h': app_usage(a, stdout); return EX_OK;
		default: acmecmd_usage_error(a, "selfsigned: unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		acmecmd_usage_error(a, "selfsigned: unexpected argument '%s'", argv[optind]);
	app_load(a);
	if (n == 0)
		names[n++] = a->cfg.hostname;
	if (make_selfsigned(&kc, names, n, (int)days, k, c, &e) < 0) {
		fprintf(stderr, "msgw-acme: selfsigned: %s\n", e.msg);
		goto out;
	}
	if (install_tls_set(&a->cfg, k, c, keychoice_count(&kc), &e) < 0) {
		fprintf(stderr, "msgw-acme: selfsigned: %s\n", e.msg);
		rc = EX_CANTCREAT;
		goto out;
	}
	printf("installed a self-signed certificate for %s (%ld days): %s, key %s\n", names[0], days,
	       a->cfg.tls.cert, a->cfg.tls.key);
	if (kc.ecdsa && kc.rsa)
		printf("installed a self-signed RSA %u certificate for %s (%ld days): %s, key %s\n", kc.rsa_bits,
		       names[0], days, a->cfg.tls.rsa_cert, a->cfg.tls.rsa_key);
	rc = EX_OK;
out:
	for (size_t i = 0; i < 2; i++) {
		achain_free(c[i]);
		akey_free(k[i]);
	}
	return rc;
}

/* A password from F ("-": standard input), its first line; or from the
 * terminal when there is one; else empty (an unprotected PKCS#12). */
static int read_password(const char *file, char *out, size_t size, struct acme_err *e)
{
	FILE *f = NULL;
	struct termios old, quiet;
	int tty = 0, rc = -1;

	if (file == NULL && !isatty(0)) {
		out[0] = '\0';
		return 0;
	}
	if (file == NULL || strcmp(file, "-") == 0) {
		f = stdin;
	} else if ((f = fopen(file, "re")) == NULL) {
		return aerr(e, "%s: %s", file, strerror(errno));
	}
	if (file == NULL && tcgetattr(0, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tty = tcsetattr(0, TCSAFLUSH, &quiet) == 0;
		fputs("PKCS#12 password: ", stderr);
	}
	if (fgets(out, (int)size, f) == NULL) {
		if (ferror(f))
			aerr(e, "%s: %s", file ? file : "password", strerror(errno));
		else {
			out[0] = '\0';
			rc = 0;
		}
		goto out;
	}
	if (strlen(out) == size - 1 && out[size - 2] != '\n') {
		aerr(e, "%s: password too long", file ? file : "password");
		goto out;
	}
	out[strcspn(out, "\r\n")] = '\0';
	rc = 0;
out:
	if (tty) {
		tcsetattr(0, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (f && f != stdin)
		fclose(f);
	return rc;
}

static int load_p12(const char *file, const char *pwfile, struct akey **k, struct achain **c,
		    struct acme_err *e)
{
	char pw[1024];
	struct buf data;
	int rc = -1;

	buf_init(&data, ACME_FILE_MAX);
	if (read_small(file, &data, e) < 0)
		goto out;
	if (read_password(pwfile, pw, sizeof pw, e) < 0)
		goto out;
	rc = apkcs12_parse(data.data, data.len, pw, k, c, e);
	if (rc < 0)
		aerr_prefix(e, "%s", file);
out:
	wipe(pw, sizeof pw);
	buf_wipe_free(&data);
	return rc;
}

static int load_pem(const char *cert, const char *key, struct akey **k, struct achain **c,
		    struct acme_err *e)
{
	struct buf data;
	int rc = -1;

	buf_init(&data, ACME_FILE_MAX);
	if (read_small(cert, &data, e) < 0)
		goto out;
	if (achain_from_pem(c, data.data, data.len, e) < 0) {
		aerr_prefix(e, "%s", cert);
		goto out;
	}
	if (read_small(key, &data, e) < 0)
		goto out;
	if (akey_from_pem(k, data.data, data.len, e) < 0) {
		aerr_prefix(e, "%s", key);
		goto out;
	}
	rc = 0;
out:
	buf_wipe_free(&data);
	return rc;
}

/* What import promises: the key belongs to the certificate, the chain is
 * complete and everything in it is current. */
static int check_import(const struct akey *k, const struct achain *c, struct acme_err *e)
{
	int m = achain_matches_key(c, k, e);

	if (m < 0)
		return -1;
	if (m == 0)
		return aerr(e, "the private key does not belong to the certificate");
	return achain_verify(c, NULL, time(NULL), e);
}

/* The pairs named on the command line: FILE.p12 ... or --cert/--key ...,
 * each checked; n is how many were loaded (to free). */
static int load_pairs(const char *const *p12, const char *const *cert, const char *const *key, size_t n,
		      const char *pwfile, struct akey **k, struct achain **c, struct acert_info *info,
		      struct acme_err *e)
{
	for (size_t i = 0; i < n; i++) {
		errno = 0; /* tells an unreadable file (66) from bad contents (65) */
		if ((p12[i] ? load_p12(p12[i], pwfile, &k[i], &c[i], e) : load_pem(cert[i], key[i], &k[i], &c[i], e)) < 0)
			return errno == ENOENT || errno == EACCES ? EX_NOINPUT : EX_DATAERR;
		if (check_import(k[i], c[i], e) < 0 || achain_info(c[i], &info[i], e) < 0) {
			aerr_prefix(e, "%s", p12[i] ? p12[i] : cert[i]);
			return EX_DATAERR;
		}
	}
	return 0;
}

int acmecmd_import(struct app *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "password-file", required_argument, NULL, 'p' },
		{ "cert", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pwfile = NULL, *cert[2] = { NULL, NULL }, *key[2] = { NULL, NULL }, *p12[2] = { NULL, NULL };
	size_t ncert = 0, nkey = 0, np12 = 0, n;
	struct akey *k[2] = { NULL, NULL };
	struct achain *c[2] = { NULL, NULL };
	struct acert_info info[2];
	struct acme_err e;
	int opt, rc = EX_DATAERR;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'p': pwfile = optarg; break;
		case 'C': cert[ncert < 2 ? ncert : 1] = optarg, ncert++; break;
		case 'K': key[nkey < 2 ? nkey : 1] = optarg, nkey++; break;
		case 'h': app_usage(a, stdout); return EX_OK;
		default: acmecmd_usage_error(a, "import: unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	while (optind < argc && np12 < 2)
		p12[np12++] = argv[optind++];
	if (optind < argc)
		acmecmd_usage_error(a, "import: unexpected argument '%s'", argv[optind]);
	if (ncert > 2 || ncert != nkey || (np12 ? ncert != 0 : ncert == 0))
		acmecmd_usage_error(a, "import: give one or two FILE.p12, or one or two --cert with --key each");
	if (pwfile && !np12)
		acmecmd_usage_error(a, "import: --password-file is for a PKCS#12 file");
	app_load(a);
	n = np12 ? np12 : ncert;
	if ((rc = load_pairs(p12, cert, key, n, pwfile, k, c, info, &e)) != 0)
		goto fail;
	if (install_tls_set(&a->cfg, k, c, n, &e) < 0) {
		rc = EX_CANTCREAT;
		goto fail;
	}
	for (size_t i = 0; i < n; i++)
		printf("installed %s (%s, %s), valid until %s: %s\n", info[i].subject, info[i].sans, info[i].key_type,
		       fmt_time(info[i].not_after, (char[32]){ 0 }, 32),
		       n == 2 && akey_is_rsa(k[i]) ? a->cfg.tls.rsa_cert : a->cfg.tls.cert);
	rc = EX_OK;
	goto out;
fail:
	fprintf(stderr, "msgw-acme: import: %s\n", e.msg);
out:
	for (size_t i = 0; i < 2; i++) {
		achain_free(c[i]);
		akey_free(k[i]);
	}
	return rc;
}

/* Is the installed certificate one msgw-acme issued (either pair)? */
static int acme_managed(const struct config *cfg, const struct acert_info *info)
{
	json_t *m = NULL;
	struct acme_err e;
	int yes;

	if (state_load(cfg, "managed.json", &m, &e) < 0 || m == NULL)
		return 0;
	yes = 0;
	for (int i = 0; i < 2; i++) {
		const char *fp = json_string_value(json_object_get(m, i ? "rsa_sha256" : "sha256"));
		yes |= fp != NULL && strcmp(fp, info->sha256) == 0;
	}
	json_decref(m);
	return yes;
}

/* The renewal window last fetched for this certificate (RFC 9773), if any. */
static json_t *ari_window(const struct config *cfg, const struct acert_info *info)
{
	json_t *r = NULL;
	struct acme_err e;
	const char *id;

	if (state_load(cfg, "renewal.json", &r, &e) < 0 || r == NULL)
		return NULL;
	id = json_string_value(json_object_get(r, "cert"));
	if (id == NULL || strcmp(id, info->ari_id) != 0 || !json_is_string(json_object_get(r, "start"))) {
		json_decref(r);
		return NULL;
	}
	return r;
}

static json_t *status_json(const char *file, const struct acert_info *info, long days,
			   const char *level, int managed, int key_ok, const json_t *ari)
{
	char nb[32], na[32];
	json_t *o = json_object(), *sans = json_array();
	char tmp[ACERT_TEXT];

	snprintf(tmp, sizeof tmp, "%s", info->sans);
	for (char *save = NULL, *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save))
		json_array_append_new(sans, json_string(t));
	json_object_set_new(o, "status", json_string(level));
	json_object_set_new(o, "file", json_string(file));
	json_object_set_new(o, "key_type", json_string(info->key_type));
	json_object_set_new(o, "subject", json_string(info->subject));
	json_object_set_new(o, "sans", sans);
	json_object_set_new(o, "issuer", json_string(info->issuer));
	json_object_set_new(o, "not_before", json_string(fmt_time(info->not_before, nb, sizeof nb)));
	json_object_set_new(o, "not_after", json_string(fmt_time(info->not_after, na, sizeof na)));
	json_object_set_new(o, "days_left", json_integer(days));
	json_object_set_new(o, "self_signed", json_boolean(info->self_signed));
	json_object_set_new(o, "acme_managed", json_boolean(managed));
	json_object_set_new(o, "key_matches", key_ok < 0 ? json_null() : json_boolean(key_ok));
	json_object_set_new(o, "sha256", json_string(info->sha256));
	if (ari) {
		json_t *w = json_object();
		json_object_set(w, "start", json_object_get(ari, "start"));
		json_object_set(w, "end", json_object_get(ari, "end"));
		json_object_set(w, "renew_at", json_object_get(ari, "renew_at"));
		json_object_set_new(o, "renewal_window", w);
	} else {
		json_object_set_new(o, "renewal_window", json_null());
	}
	return o;
}

/* 1 matches, 0 does not, -1 unknown (key unreadable, e.g. not root). */
static int key_matches(const char *keyfile, const struct achain *c)
{
	struct akey *k = NULL;
	struct buf b;
	struct acme_err e;
	int rc = -1;

	buf_init(&b, ACME_FILE_MAX);
	if (read_small(keyfile, &b, &e) == 0) {
		if (akey_from_pem(&k, b.data, b.len, &e) < 0)
			rc = 0;
		else
			rc = achain_matches_key(c, k, &e);
	}
	akey_free(k);
	buf_wipe_free(&b);
	return rc;
}

static void print_status(const json_t *o)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)o, key, v) {
		if (json_is_string(v)) {
			printf("%s: %s\n", key, json_string_value(v));
		} else if (json_is_null(v)) {
			printf("%s: -\n", key);
		} else {
			char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
			printf("%s: %s\n", key, s ? s : "?");
			free(s);
		}
	}
}

/* One pair's report into *o; its level (0, 1, 2). */
static int status_pair(const struct config *cfg, const char *file, const char *keyfile, json_t **o)
{
	struct achain *c = NULL;
	struct acert_info info;
	struct buf b;
	struct acme_err e;
	json_t *ari = NULL;
	int rc, key_ok;
	long days;

	buf_init(&b, ACME_FILE_MAX);
	if (read_small(file, &b, &e) < 0 || achain_from_pem(&c, b.data, b.len, &e) < 0 ||
	    achain_info(c, &info, &e) < 0) {
		/* No usable certificate is critical for monitoring. */
		*o = json_pack("{s:s, s:s, s:s}", "status", "critical", "file", file, "error", e.msg);
		rc = 2;
		goto out;
	}
	key_ok = key_matches(keyfile, c);
	days = (long)((info.not_after - time(NULL)) / 86400);
	if (info.not_after <= time(NULL) || days < cfg->status.cert_critical_days || key_ok == 0)
		rc = 2;
	else if (days < cfg->status.cert_warning_days)
		rc = 1;
	else
		rc = 0;
	ari = ari_window(cfg, &info);
	*o = status_json(file, &info, days, rc == 0 ? "ok" : rc == 1 ? "warning" : "critical",
			 acme_managed(cfg, &info), key_ok, ari);
out:
	json_decref(ari);
	achain_free(c);
	buf_free(&b);
	return rc;
}

int acmecmd_status(struct app *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const level[] = { "ok", "warning", "critical" };
	json_t *o = NULL, *rsa = NULL;
	int opt, json = 0, rc, rc2;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = 1; break;
		case 'h': app_usage(a, stdout); return EX_OK;
		default: acmecmd_usage_error(a, "status: unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		acmecmd_usage_error(a, "status: unexpected argument '%s'", argv[optind]);
	app_load(a);
	rc = status_pair(&a->cfg, a->cfg.tls.cert, a->cfg.tls.key, &o);
	/* The RSA pair, when there is one: the worse of the two decides. */
	if (a->cfg.tls.rsa_cert[0] && !(access(a->cfg.tls.rsa_cert, F_OK) < 0 && errno == ENOENT)) {
		rc2 = status_pair(&a->cfg, a->cfg.tls.rsa_cert, a->cfg.tls.rsa_key, &rsa);
		if (rc2 > rc)
			rc = rc2;
	}
	if (o == NULL)
		return 2;
	if (json) {
		char *s;
		json_object_set_new(o, "rsa", rsa ? json_incref(rsa) : json_null());
		json_object_set_new(o, "overall", json_string(level[rc]));
		s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		puts(s ? s : "{\"status\": \"critical\"}");
		free(s);
	} else {
		print_status(o);
		if (rsa) {
			printf("\n");
			print_status(rsa);
		}
		if (rsa)
			printf("\noverall: %s\n", level[rc]);
	}
	json_decref(o);
	json_decref(rsa);
	return rc;
}
