#include "config.h"

#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "crypt/age.h"
#include "util/hostpattern.h"
#include "util/log.h"

enum ktype { K_STR, K_INT, K_INT64, K_BOOL, K_LIST, K_LEVEL, K_TLSVER };

struct key {
	const char *name;     /* section.name */
	enum ktype type;
	size_t off;
	const char *def_str;  /* default for strings / enums */
	long long def_num;    /* default for numbers / booleans */
	long long min, max;   /* allowed range for numbers */
	int required_nonempty;
};

#define F(field) offsetof(struct config, field)
#define DAY (86400LL)

/* Every key msgw knows, its type, default and range. man/msgw.conf.5 lists
 * the same keys; t/unit/conf tests that the two agree. */
static const struct key keys[] = {
	{ "domain", K_STR, F(domain), NULL, 0, 0, 0, 1 },
	{ "hostname", K_STR, F(hostname), NULL, 0, 0, 0, 1 },
	{ "data_dir", K_STR, F(data_dir), LOCALSTATEDIR "/lib/msgw", 0, 0, 0, 1 },
	{ "log_level", K_LEVEL, F(log_level), "info", 0, 0, 0, 0 },
	{ "tls.cert", K_STR, F(tls.cert), SYSCONFDIR "/msgw/tls/cert.pem", 0, 0, 0, 1 },
	{ "tls.key", K_STR, F(tls.key), SYSCONFDIR "/msgw/tls/key.pem", 0, 0, 0, 1 },
	{ "tls.min_version", K_TLSVER, F(tls.min_version), "1.2", 0, 0, 0, 0 },
	{ "tls.handshake_timeout", K_INT, F(tls.handshake_timeout), NULL, 30, 1, 3600, 0 },
	{ "server.max_connections", K_INT, F(server.max_connections), NULL, 100, 1, 100000, 0 },
	{ "server.max_connections_per_source", K_INT, F(server.max_connections_per_source), NULL, 16, 1, 100000, 0 },
	{ "server.require_privsep", K_BOOL, F(server.require_privsep), NULL, 1, 0, 1, 0 },
	{ "smtp.max_message_size", K_INT64, F(smtp.max_message_size), NULL, 157286400LL, 1024, 1LL << 40, 0 },
	{ "smtp.require_tls", K_BOOL, F(smtp.require_tls), NULL, 1, 0, 1, 0 },
	{ "smtp.max_recipients", K_INT, F(smtp.max_recipients), NULL, 100, 1, 100000, 0 },
	{ "smtp.max_errors", K_INT, F(smtp.max_errors), NULL, 10, 1, 1000, 0 },
	{ "smtp.command_timeout", K_INT, F(smtp.command_timeout), NULL, 300, 1, DAY, 0 },
	{ "smtp.data_timeout", K_INT, F(smtp.data_timeout), NULL, 600, 1, DAY, 0 },
	{ "smtp.session_timeout", K_INT, F(smtp.session_timeout), NULL, 3600, 1, 7 * DAY, 0 },
	{ "smtp.allowed_networks", K_LIST, F(smtp.allowed_networks), NULL, 0, 0, 0, 0 },
	{ "pop3.login_failure_delay", K_INT, F(pop3.login_failure_delay), NULL, 2000, 0, 60000, 0 },
	{ "pop3.idle_timeout", K_INT, F(pop3.idle_timeout), NULL, 600, 1, DAY, 0 },
	{ "pop3.max_errors", K_INT, F(pop3.max_errors), NULL, 10, 1, 1000, 0 },
	{ "pop3.lock_lease", K_INT, F(pop3.lock_lease), NULL, 60, 2, DAY, 0 },
	{ "pop3.lock_renew", K_INT, F(pop3.lock_renew), NULL, 15, 1, DAY, 0 },
	{ "pop3.login_timeout", K_INT, F(pop3.login_timeout), NULL, 60, 1, 3600, 0 },
	{ "pop3.session_timeout", K_INT, F(pop3.session_timeout), NULL, 21600, 1, 7 * DAY, 0 },
	{ "pop3.max_messages", K_INT, F(pop3.max_messages), NULL, 1000000, 1, 100000000, 0 },
	{ "proxy.enabled", K_BOOL, F(proxy.enabled), NULL, 0, 0, 1, 0 },
	{ "proxy.ca_file", K_STR, F(proxy.ca_file), "", 0, 0, 0, 0 },
	{ "proxy.allowed_targets", K_LIST, F(proxy.allowed_targets), NULL, 0, 0, 0, 0 },
	{ "proxy.target_ca_files", K_LIST, F(proxy.target_ca_files), NULL, 0, 0, 0, 0 },
	{ "proxy.pop3_require_copy", K_BOOL, F(proxy.pop3_require_copy), NULL, 0, 0, 1, 0 },
	{ "proxy.connect_timeout", K_INT, F(proxy.connect_timeout), NULL, 30, 1, 3600, 0 },
	{ "proxy.reply_timeout", K_INT, F(proxy.reply_timeout), NULL, 300, 1, DAY, 0 },
	{ "proxy.allowed_networks", K_LIST, F(proxy.allowed_networks), NULL, 0, 0, 0, 0 },
	{ "acme.directory", K_STR, F(acme.directory), "https://acme-v02.api.letsencrypt.org/directory", 0, 0, 0, 1 },
	{ "acme.staging_directory", K_STR, F(acme.staging_directory), "https://acme-staging-v02.api.letsencrypt.org/directory", 0, 0, 0, 0 },
	{ "acme.ca_file", K_STR, F(acme.ca_file), "", 0, 0, 0, 0 },
	{ "acme.challenge_address", K_STR, F(acme.challenge_address), "", 0, 0, 0, 0 },
	{ "acme.challenge_port", K_INT, F(acme.challenge_port), NULL, 80, 1, 65535, 0 },
	{ "acme.email", K_STR, F(acme.email), "", 0, 0, 0, 0 },
	{ "acme.profile", K_STR, F(acme.profile), "", 0, 0, 0, 0 },
	{ "crypt.scrypt_log_n", K_INT, F(crypt.scrypt_log_n), NULL, 10, 1, 22, 0 },
	{ "crypt.escrow_recipient", K_STR, F(crypt.escrow_recipient), "", 0, 0, 0, 0 },
	{ "crypt.max_unseals", K_INT, F(crypt.max_unseals), NULL, 0, 0, 4096, 0 },
	{ "crypt.unseal_lock_dir", K_STR, F(crypt.unseal_lock_dir), "/run/msgw/unseal", 0, 0, 0, 1 },
	{ "status.oldest_warning_hours", K_INT, F(status.oldest_warning_hours), NULL, 24, 1, 100000, 0 },
	{ "status.oldest_critical_hours", K_INT, F(status.oldest_critical_hours), NULL, 72, 1, 100000, 0 },
	{ "status.cert_warning_days", K_INT, F(status.cert_warning_days), NULL, 14, 0, 10000, 0 },
	{ "status.cert_critical_days", K_INT, F(status.cert_critical_days), NULL, 3, 0, 10000, 0 },
	{ "status.min_free_bytes", K_INT64, F(status.min_free_bytes), NULL, 1LL << 30, 0, 1LL << 50, 0 },
	{ "tls.rsa_cert", K_STR, F(tls.rsa_cert), SYSCONFDIR "/msgw/tls/rsa-cert.pem", 0, 0, 0, 0 },
	{ "tls.rsa_key", K_STR, F(tls.rsa_key), SYSCONFDIR "/msgw/tls/rsa-key.pem", 0, 0, 0, 0 },
	{ "status.prometheus_file", K_STR, F(status.prometheus_file), "", 0, 0, 0, 0 },
	{ "status.probe", K_LIST, F(status.probe), NULL, 0, 0, 0, 0 },
	{ "status.probe_ca_file", K_STR, F(status.probe_ca_file), "", 0, 0, 0, 0 },
	{ "status.probe_timeout", K_INT, F(status.probe_timeout), NULL, 10, 1, 600, 0 },
};
#define NKEYS (sizeof keys / sizeof keys[0])

const char *config_pick_path(const char *explicit_path)
{
	const char *env = getenv("MSGW_CONFIG");

	if (explicit_path && *explicit_path)
		return explicit_path;
	if (env && *env)
		return env;
	return MSGW_DEFAULT_CONFIG;
}

static void *field(struct config *cfg, const struct key *k)
{
	return (char *)cfg + k->off;
}

static int set_str(char **dst, const char *v)
{
	char *p = strdup(v);
	if (p == NULL)
		return -1;
	free(*dst);
	*dst = p;
	return 0;
}

static void strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int default_hostname(char **out)
{
	char h[256];

	if (gethostname(h, sizeof h) < 0 || h[0] == '\0')
		snprintf(h, sizeof h, "localhost");
	h[sizeof h - 1] = '\0';
	return set_str(out, h);
}

int config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		void *f = field(cfg, k);

		switch (k->type) {
		case K_STR:
			if (k->def_str && set_str(f, k->def_str) < 0)
				return -1;
			break;
		case K_INT:
		case K_BOOL:
			*(int *)f = (int)k->def_num;
			break;
		case K_INT64:
			*(int64_t *)f = k->def_num;
			break;
		case K_LEVEL:
			*(int *)f = log_level_parse(k->def_str);
			break;
		case K_TLSVER:
			*(int *)f = 12;
			break;
		case K_LIST:
			break;
		}
	}
	if (default_hostname(&cfg->hostname) < 0 || set_str(&cfg->domain, cfg->hostname) < 0)
		return -1;
	return 0;
}

struct ctx {
	const char *file;
	char *err;
	size_t errlen;
};

static int fail(struct ctx *c, const config_setting_t *s, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(struct ctx *c, const config_setting_t *s, const char *name, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s:%d: %s: %s", c->file,
		 s ? (int)config_setting_source_line(s) : 0, name, msg);
	return -1;
}

static const struct key *find_key(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static int get_number(const config_setting_t *s, long long *v)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		*v = config_setting_get_int(s);
		return 0;
	case CONFIG_TYPE_INT64:
		*v = config_setting_get_int64(s);
		return 0;
	default:
		return -1;
	}
}

static int set_list(struct ctx *c, const config_setting_t *s, const char *name, struct strlist *l)
{
	int n;

	if (config_setting_type(s) != CONFIG_TYPE_LIST && config_setting_type(s) != CONFIG_TYPE_ARRAY)
		return fail(c, s, name, "must be a list of strings, e.g. [ \"a\", \"b\" ]");
	n = config_setting_length(s);
	strlist_free(l);
	l->v = calloc((size_t)n + 1, sizeof *l->v);
	if (l->v == NULL)
		return fail(c, s, name, "out of memory");
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_get_string(e);

		if (v == NULL)
			return fail(c, e, name, "element %d is not a string", i + 1);
		if ((l->v[l->n] = strdup(v)) == NULL)
			return fail(c, s, name, "out of memory");
		l->n++;
	}
	return 0;
}

static int set_value(struct ctx *c, struct config *cfg, const struct key *k,
		     const config_setting_t *s, const char *name)
{
	void *f = field(cfg, k);
	const char *str;
	long long num;
	int lv;

	switch (k->type) {
	case K_STR:
		if ((str = config_setting_get_string(s)) == NULL)
			return fail(c, s, name, "must be a string");
		if (k->required_nonempty && *str == '\0')
			return fail(c, s, name, "must not be empty");
		return set_str(f, str) < 0 ? fail(c, s, name, "out of memory") : 0;
	case K_INT:
	case K_INT64:
		if (get_number(s, &num) < 0)
			return fail(c, s, name, "must be an integer");
		if (num < k->min || num > k->max)
			return fail(c, s, name, "%lld is out of range (%lld to %lld)", num, k->min, k->max);
		if (k->type == K_INT)
			*(int *)f = (int)num;
		else
			*(int64_t *)f = num;
		return 0;
	case K_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			return fail(c, s, name, "must be true or false");
		*(int *)f = config_setting_get_bool(s);
		return 0;
	case K_LEVEL:
		if ((str = config_setting_get_string(s)) == NULL || (lv = log_level_parse(str)) < 0)
			return fail(c, s, name, "must be one of \"error\", \"warning\", \"info\", \"debug\"");
		*(int *)f = lv;
		return 0;
	case K_TLSVER:
		str = config_setting_get_string(s);
		if (str && strcmp(str, "1.2") == 0)
			*(int *)f = 12;
		else if (str && strcmp(str, "1.3") == 0)
			*(int *)f = 13;
		else
			return fail(c, s, name, "must be \"1.2\" or \"1.3\"");
		return 0;
	case K_LIST:
		return set_list(c, s, name, f);
	}
	return fail(c, s, name, "internal error: unhandled type");
}

/* Walk the file: top-level scalars and one level of sections. */
static int walk(struct ctx *c, struct config *cfg, const config_setting_t *group, const char *prefix)
{
	int n = config_setting_length(group);

	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *nm = config_setting_name(s);
		char name[128];
		const struct key *k;

		snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", nm ? nm : "?");
		if (config_setting_type(s) == CONFIG_TYPE_GROUP && *prefix == '\0') {
			if (walk(c, cfg, s, name) < 0)
				return -1;
			continue;
		}
		if ((k = find_key(name)) == NULL)
			return fail(c, s, name, "unknown key");
		if (set_value(c, cfg, k, s, name) < 0)
			return -1;
	}
	return 0;
}

/* A CIDR list key into its parsed array (NULL, 0 for an empty list). */
static int parse_cidrs(struct ctx *c, const config_t *lc, const char *key,
		       const struct strlist *l, struct cidr **out, size_t *n)
{
	if (l->n == 0)
		return 0;
	*out = calloc(l->n, sizeof **out);
	if (*out == NULL)
		return fail(c, NULL, key, "out of memory");
	for (size_t i = 0; i < l->n; i++) {
		if (cidr_parse(l->v[i], &(*out)[i]) < 0)
			return fail(c, config_lookup(lc, key), key,
				    "\"%s\" is not an address or address/prefix", l->v[i]);
	}
	*n = l->n;
	return 0;
}

static int parse_networks(struct ctx *c, struct config *cfg, const config_t *lc)
{
	if (parse_cidrs(c, lc, "smtp.allowed_networks", &cfg->smtp.allowed_networks,
			&cfg->smtp.networks, &cfg->smtp.n_networks) < 0)
		return -1;
	return parse_cidrs(c, lc, "proxy.allowed_networks", &cfg->proxy.allowed_networks,
			   &cfg->proxy.networks, &cfg->proxy.n_networks);
}

/* Default-deny: an enabled proxy must name its upstreams. */
static int check_proxy_targets(struct ctx *c, struct config *cfg, const config_t *lc)
{
	const config_setting_t *s = config_lookup(lc, "proxy.allowed_targets");
	struct host_pattern hp;

	for (size_t i = 0; i < cfg->proxy.allowed_targets.n; i++)
		if (host_pattern_split(cfg->proxy.allowed_targets.v[i], &hp) < 0)
			return fail(c, s, "proxy.allowed_targets",
				    "\"%s\" is not HOST, HOST:PORT or HOST:* (IPv6 in brackets with a port)",
				    cfg->proxy.allowed_targets.v[i]);
	if (!cfg->proxy.enabled || cfg->proxy.allowed_targets.n > 0)
		return 0;
	return fail(c, s ? s : config_lookup(lc, "proxy.enabled"), "proxy.allowed_targets",
		    "must list at least one upstream server when proxy.enabled is true");
}

/* "PATTERN=/absolute/ca.pem": the pattern as in proxy.allowed_targets. */
static int check_target_cas(struct ctx *c, struct config *cfg, const config_t *lc)
{
	const struct strlist *l = &cfg->proxy.target_ca_files;

	for (size_t i = 0; i < l->n; i++) {
		const char *eq = strchr(l->v[i], '=');

		if (eq == NULL || eq == l->v[i] || eq[1] != '/')
			return fail(c, config_lookup(lc, "proxy.target_ca_files"), "proxy.target_ca_files",
				    "\"%s\" is not PATTERN=/absolute/path/to/ca.pem", l->v[i]);
	}
	return 0;
}

/* "KIND://ADDR:PORT" with KIND smtp, smtps, pop3 or pop3s. */
static int check_probes(struct ctx *c, const struct config *cfg, const config_t *lc)
{
	static const char *const kinds[] = { "smtp://", "smtps://", "pop3://", "pop3s://" };
	const struct strlist *l = &cfg->status.probe;

	for (size_t i = 0; i < l->n; i++) {
		size_t k = 0, len = 0;

		while (k < 4 && strncmp(l->v[i], kinds[k], (len = strlen(kinds[k]))) != 0)
			k++;
		if (k == 4 || strrchr(l->v[i] + len, ':') == NULL)
			return fail(c, config_lookup(lc, "status.probe"), "status.probe",
				    "\"%s\" is not smtp|smtps|pop3|pop3s://ADDR:PORT", l->v[i]);
	}
	return 0;
}

/* The escrow recipient is checked here, checksum included, so that a
 * typo stops every program at start-up rather than mail going out to a
 * key nobody holds. */
static int check_escrow(struct ctx *c, struct config *cfg, const config_t *lc)
{
	struct age_recipient r;

	if (cfg->crypt.escrow_recipient[0] == '\0' ||
	    age_recipient_parse(cfg->crypt.escrow_recipient, &r) == 0)
		return 0;
	return fail(c, config_lookup(lc, "crypt.escrow_recipient"), "crypt.escrow_recipient",
		    "\"%s\" is not an age recipient (age1...)", cfg->crypt.escrow_recipient);
}

static int cross_checks(struct ctx *c, struct config *cfg, const config_t *lc)
{
	if (cfg->data_dir[0] != '/')
		return fail(c, config_lookup(lc, "data_dir"), "data_dir", "must be an absolute path");
	if (cfg->status.oldest_warning_hours > cfg->status.oldest_critical_hours)
		return fail(c, config_lookup(lc, "status.oldest_warning_hours"), "status.oldest_warning_hours",
			    "must not exceed status.oldest_critical_hours");
	if (cfg->pop3.lock_renew * 2 > cfg->pop3.lock_lease)
		return fail(c, config_lookup(lc, "pop3.lock_renew"), "pop3.lock_renew",
			    "must be at most half of pop3.lock_lease");
	if (check_target_cas(c, cfg, lc) < 0 || check_probes(c, cfg, lc) < 0 ||
	    check_escrow(c, cfg, lc) < 0 || check_proxy_targets(c, cfg, lc) < 0)
		return -1;
	return parse_networks(c, cfg, lc);
}

int config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	config_t lc;
	struct ctx c = { path, err, errlen };
	FILE *fp;
	int rc = -1;

	if (config_defaults(cfg) < 0) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		config_free(cfg);
		return -1;
	}
	config_init(&lc);
	if (config_read(&lc, fp) != CONFIG_TRUE) {
		snprintf(err, errlen, "%s:%d: syntax error: %s", path,
			 config_error_line(&lc), config_error_text(&lc));
		goto out;
	}
	if (walk(&c, cfg, config_root_setting(&lc), "") < 0 || cross_checks(&c, cfg, &lc) < 0)
		goto out;
	if ((cfg->path = strdup(path)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	rc = 0;
out:
	fclose(fp);
	config_destroy(&lc);
	if (rc < 0)
		config_free(cfg);
	return rc;
}

static void free_pem(struct tls_pem *p)
{
	free(p->cert);
	if (p->key)
		explicit_bzero(p->key, p->key_len);
	free(p->key);
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < NKEYS; i++) {
		void *f = field(cfg, &keys[i]);

		if (keys[i].type == K_STR) {
			free(*(char **)f);
			*(char **)f = NULL;
		} else if (keys[i].type == K_LIST) {
			strlist_free(f);
		}
	}
	free(cfg->smtp.networks);
	free(cfg->proxy.networks);
	free(cfg->path);
	slot_set_close(&cfg->unseal_slots);
	free_pem(&cfg->tls_preload);
	free_pem(&cfg->tls_rsa_preload);
	memset(cfg, 0, sizeof *cfg);
}

const char *config_key_name(size_t i)
{
	return i < NKEYS ? keys[i].name : NULL;
}
