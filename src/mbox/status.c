/* status: health for monitoring, Nagios style. One summary line, exit 0
 * OK, 1 WARNING, 2 CRITICAL. Checks: the configuration loads, data_dir is
 * writable and has free space, no mailbox holds a message older than the
 * thresholds (the archiver is not fetching), the TLS certificate is not
 * about to expire, each status.probe port answers with a good certificate.
 * --prometheus prints the same findings as metrics (mbox/metrics.c). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sysexits.h>
#include <unistd.h>

#include "crypt/x509.h"
#include "mbox/cmd.h"
#include "mbox/metrics.h"
#include "mbox/probe.h"
#include "util/path.h"

enum level { OK = 0, WARNING = 1, CRITICAL = 2 };
static const char *const level_name[] = { "OK", "WARNING", "CRITICAL" };
static const char *const level_json[] = { "ok", "warning", "critical" };

#define MAX_CHECKS 64

struct checks {
	struct {
		const char *name;
		enum level level;
		char msg[320];
	} v[MAX_CHECKS];
	size_t n, more;       /* more: problems past MAX_CHECKS, counted only */
	enum level worst;
	json_t *mailboxes;
	struct metrics m;
};

static void add(struct checks *k, const char *name, enum level lv, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void add(struct checks *k, const char *name, enum level lv, const char *fmt, ...)
{
	va_list ap;

	if (lv > k->worst)
		k->worst = lv;
	if (k->n == MAX_CHECKS) {
		k->more++;
		return;
	}
	k->v[k->n].name = name;
	k->v[k->n].level = lv;
	va_start(ap, fmt);
	vsnprintf(k->v[k->n].msg, sizeof k->v[k->n].msg, fmt, ap);
	va_end(ap);
	k->n++;
}

static void check_data_dir(struct checks *k, const struct config *cfg)
{
	char probe[PATH_MAX];
	struct statvfs vfs;
	unsigned long long avail;
	long long min = (long long)cfg->status.min_free_bytes;
	int fd;

	if (path_fmt(probe, sizeof probe, "%s/.status-probe.%ld", cfg->data_dir, (long)getpid()) < 0)
		fd = -1;
	else
		fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, "x", 1) != 1 || fsync(fd) < 0) {
		add(k, "data_dir", CRITICAL, "data_dir %s not writable: %s", cfg->data_dir, strerror(errno));
	} else {
		add(k, "data_dir", OK, "data_dir %s writable", cfg->data_dir);
	}
	if (fd >= 0) {
		close(fd);
		unlink(probe);
	}
	if (statvfs(cfg->data_dir, &vfs) < 0) {
		add(k, "free_space", CRITICAL, "data_dir %s: %s", cfg->data_dir, strerror(errno));
		return;
	}
	avail = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
	k->m.free_bytes = avail;
	k->m.have_free = 1;
	add(k, "free_space",
	    avail < (unsigned long long)min ? CRITICAL : avail < 2ULL * (unsigned long long)min ? WARNING : OK,
	    "%.1f MiB free in %s (minimum %.1f MiB)", (double)avail / 1048576.0, cfg->data_dir,
	    (double)min / 1048576.0);
}

static void report_bad(void *arg, const char *id, int err)
{
	add(arg, "mailboxes", CRITICAL, "mailbox %s: %s", id,
	    err == EBADMSG ? "damaged mailbox.conf" : strerror(err));
}

#define DRIFT_SHOWN 5

static void report_drift(void *arg, const char *path, const char *what)
{
	struct checks *k = arg;

	add(k, "permissions", WARNING, "%s: %s (msgw-store(5))", path, what);
}

/* Owners and modes of the tree: the first few drifts, then a count. */
static void check_permissions(struct checks *k, const struct ctx *c)
{
	size_t before = k->n, n = store_tree_drift(&c->st, report_drift, k);

	if (n == 0)
		add(k, "permissions", OK, "owners and modes as documented");
	else if (n > DRIFT_SHOWN && k->n - before > DRIFT_SHOWN)
		add(k, "permissions", WARNING, "%zu owners or modes differ from msgw-store(5) in all", n);
}

static void check_mailboxes(struct checks *k, const struct ctx *c, time_t now)
{
	const struct config *cfg = &c->app.cfg;
	struct mailbox *mbs = NULL;
	size_t n = 0, i, bad, before = k->n + k->more;
	time_t oldest = 0;

	if (store_mailbox_list(&c->st, &mbs, &n, report_bad, k) < 0) {
		add(k, "mailboxes", CRITICAL, "cannot list %s: %s", c->st.root, strerror(errno));
		return;
	}
	bad = k->n + k->more - before;     /* damaged mailboxes */
	for (i = 0; i < n; i++) {
		struct mailbox_stats s;
		long long hours;
		if (store_mailbox_stats(&mbs[i], &s) < 0) {
			add(k, "mailboxes", CRITICAL, "mailbox %s: %s", mbs[i].id, strerror(errno));
			bad++;
			continue;
		}
		if (k->mailboxes)
			json_array_append_new(k->mailboxes, mailbox_json(c, &mbs[i], &s));
		if (metrics_add_mailbox(&k->m, &mbs[i], &s) < 0)
			add(k, "mailboxes", CRITICAL, "mailbox %s: %s", mbs[i].id, strerror(errno)), bad++;
		if (s.messages > (uint64_t)cfg->pop3.max_messages)
			add(k, "listing_limit", WARNING,
			    "mailbox %s (%s): %llu messages, above pop3.max_messages %d: a "
			    "session serves the oldest %d",
			    mbs[i].id, mbs[i].name, (unsigned long long)s.messages,
			    cfg->pop3.max_messages, cfg->pop3.max_messages), bad++;
		if (s.oldest == 0)
			continue;
		if (oldest == 0 || s.oldest < oldest)
			oldest = s.oldest;
		hours = now > s.oldest ? (long long)(now - s.oldest) / 3600 : 0;
		if (hours >= cfg->status.oldest_critical_hours)
			add(k, "oldest", CRITICAL, "mailbox %s (%s): oldest message %lld h old (critical %d h)",
			    mbs[i].id, mbs[i].name, hours, cfg->status.oldest_critical_hours), bad++;
		else if (hours >= cfg->status.oldest_warning_hours)
			add(k, "oldest", WARNING, "mailbox %s (%s): oldest message %lld h old (warning %d h)",
			    mbs[i].id, mbs[i].name, hours, cfg->status.oldest_warning_hours), bad++;
	}
	if (bad == 0)
		add(k, "mailboxes", OK, "%zu mailboxes, oldest message %lld h old", n,
		    oldest ? (long long)(now - oldest) / 3600 : 0LL);
	free(mbs);
}

/* Days left until `until`, as a level with the certificate thresholds. */
static enum level cert_level(const struct config *cfg, time_t until, time_t now, long long *days)
{
	*days = until > now ? (long long)(until - now) / 86400 : -1;
	if (*days < 0)
		return CRITICAL;
	return *days < cfg->status.cert_critical_days ? CRITICAL
	       : *days < cfg->status.cert_warning_days ? WARNING : OK;
}

static void check_cert_file(struct checks *k, const struct config *cfg, const char *file, time_t now)
{
	time_t until;
	long long days;
	enum level lv;

	if (crypt_cert_expiry(file, &until) < 0) {
		add(k, "certificate", CRITICAL, "certificate %s: %s", file,
		    errno == EBADMSG ? "no readable certificate" : strerror(errno));
		return;
	}
	k->m.cert[k->m.ncert].file = file;
	k->m.cert[k->m.ncert++].until = until;
	lv = cert_level(cfg, until, now, &days);
	if (days < 0)
		add(k, "certificate", CRITICAL, "certificate %s has expired", file);
	else
		add(k, "certificate", lv, "certificate %s expires in %lld days", file, days);
}

/* The main pair always; the RSA pair when its certificate exists. */
static void check_cert(struct checks *k, const struct config *cfg, time_t now)
{
	check_cert_file(k, cfg, cfg->tls.cert, now);
	if (cfg->tls.rsa_cert[0] && !(access(cfg->tls.rsa_cert, F_OK) < 0 && errno == ENOENT))
		check_cert_file(k, cfg, cfg->tls.rsa_cert, now);
}

/* The days left of a certificate a probe saw, as a check. */
static void add_probe_cert(struct checks *k, const struct config *cfg, const char *target, const char *what,
			   time_t until, time_t now, const char *msg)
{
	long long days;
	enum level lv = cert_level(cfg, until, now, &days);

	add(k, "probe", lv, "%s%s: certificate for %s %s in %lld days (%s)", target, what, cfg->hostname,
	    days < 0 ? "expired" : "expires", days < 0 ? 0 : days, msg);
}

/* With an RSA pair configured, a second look as a client that verifies
 * RSA signatures only (as some senders do): the port must serve that
 * pair too, with a certificate that verifies. */
static void probe_rsa(struct checks *k, const struct config *cfg, const char *target, time_t until,
		      time_t now, time_t *rsa_until)
{
	char msg[256];
	time_t t = 0;

	*rsa_until = 0;
	if (cfg->tls.rsa_cert[0] == '\0' || (access(cfg->tls.rsa_cert, F_OK) < 0 && errno == ENOENT))
		return;
	if (probe_port(cfg, target, 1, &t, msg, sizeof msg) < 0) {
		add(k, "probe", CRITICAL, "%s (RSA): %s", target, msg);
		return;
	}
	/* No shortcut on t == until: two pairs issued in the same second
	 * (msgw-acme --key-type both) expire in the same second too. */
	(void)until;
	*rsa_until = t;
	add_probe_cert(k, cfg, target, " (RSA)", t, now, msg);
}

/* Each status.probe port, as a client sees it. */
static void check_probes(struct checks *k, const struct config *cfg, time_t now)
{
	for (size_t i = 0; i < cfg->status.probe.n; i++) {
		const char *target = cfg->status.probe.v[i];
		char msg[256];
		time_t until = 0, rsa_until = 0;
		int up = probe_port(cfg, target, 0, &until, msg, sizeof msg) == 0;

		if (!up)
			add(k, "probe", CRITICAL, "%s: %s", target, msg);
		else {
			add_probe_cert(k, cfg, target, "", until, now, msg);
			probe_rsa(k, cfg, target, until, now, &rsa_until);
		}
		if (k->m.nprobe < METRICS_MAX_PROBES) {
			k->m.probe[k->m.nprobe].target = target;
			k->m.probe[k->m.nprobe].up = up;
			k->m.probe[k->m.nprobe].until = until;
			k->m.probe[k->m.nprobe++].rsa_until = rsa_until;
		}
	}
}

/* The summary: the problems when there are any, else every check. */
static void summary(const struct checks *k, char *out, size_t size)
{
	size_t o;
	int first = 1;

	o = (size_t)snprintf(out, size, "MSGW %s -", level_name[k->worst]);
	for (size_t i = 0; i < k->n && o < size; i++) {
		if (k->worst != OK && k->v[i].level == OK)
			continue;
		o += (size_t)snprintf(out + o, size - o, "%s %s", first ? "" : ";", k->v[i].msg);
		first = 0;
	}
	if (k->more && o < size)
		snprintf(out + o, size - o, "; and %zu more", k->more);
}

enum output { TEXT, JSON, PROMETHEUS, PROMETHEUS_FILE };

/* --prometheus --write: the level is in msgw_status; the exit status says
 * whether the file was written (a timer's unit stays green on a warning). */
static int write_metrics(struct checks *k, const struct config *cfg)
{
	k->m.status = (int)k->worst;
	if (cfg->status.prometheus_file == NULL || cfg->status.prometheus_file[0] == '\0') {
		fprintf(stderr, "msgw-mbox: status --write: status.prometheus_file is not set\n");
		return EX_CONFIG;
	}
	if (metrics_write_file(&k->m, cfg->status.prometheus_file) < 0) {
		fprintf(stderr, "msgw-mbox: %s: %s\n", cfg->status.prometheus_file, strerror(errno));
		return EX_CANTCREAT;
	}
	return EX_OK;
}

static int report(struct checks *k, enum output out, const struct config *cfg)
{
	char line[4096];

	k->m.status = (int)k->worst;
	if (out == PROMETHEUS_FILE)
		return write_metrics(k, cfg);
	if (out == PROMETHEUS)
		return metrics_print(&k->m, stdout) < 0 ? CRITICAL : (int)k->worst;
	summary(k, line, sizeof line);
	if (out == JSON) {
		json_t *o = json_pack("{s:s, s:i, s:s, s:[], s:o}", "status", level_json[k->worst], "code",
				      (int)k->worst, "summary", line, "checks", "mailboxes",
				      k->mailboxes ? json_incref(k->mailboxes) : json_array());
		json_t *arr = o ? json_object_get(o, "checks") : NULL;
		for (size_t i = 0; arr && i < k->n; i++)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "check", k->v[i].name, "status",
							     level_json[k->v[i].level], "message", k->v[i].msg));
		if (print_json(o) != 0)
			return CRITICAL;
	} else {
		printf("%s\n", line);
		fflush(stdout);
	}
	return (int)k->worst;
}

int cmd_status(struct ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, 'p' },
		{ "write", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct checks *k;
	char err[512];
	time_t now = time(NULL);
	int opt, rc, prom = 0, to_file = 0;
	enum output out;

	cmd_getopt_reset();
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'j')
			c->json = 1;
		else if (opt == 'p')
			prom = 1;
		else if (opt == 'w')
			to_file = 1;
		else if (opt == 'h') {
			app_usage(&c->app, stdout);
			return EX_OK;
		} else
			cmd_bad_option(c, argv);
	}
	if (optind != argc)
		app_usage_error(&c->app, "status: no operands expected");
	if ((to_file && !prom) || (prom && c->json))
		app_usage_error(&c->app, "status: --write needs --prometheus, which excludes --json");
	out = to_file ? PROMETHEUS_FILE : prom ? PROMETHEUS : c->json ? JSON : TEXT;
	k = calloc(1, sizeof *k);
	if (k == NULL)
		return CRITICAL;
	k->m.now = now;
	k->mailboxes = c->json ? json_array() : NULL;
	umask(077);
	/* A configuration that does not load is a critical finding here,
	 * not a reason to exit 78: monitoring must see it. */
	if (config_load(&c->app.cfg, config_pick_path(c->app.config_path), err, sizeof err) < 0) {
		add(k, "config", CRITICAL, "config %s", err);
	} else {
		add(k, "config", OK, "config %s valid", c->app.cfg.path ? c->app.cfg.path : "");
		if (store_become_owner(c->app.cfg.data_dir) < 0 && errno != ENOENT)
			add(k, "data_dir", CRITICAL, "cannot act as the owner of %s: %s", c->app.cfg.data_dir,
			    strerror(errno));
		else if (store_init(&c->st, &c->app.cfg) < 0)
			add(k, "data_dir", CRITICAL, "data_dir %s: %s", c->app.cfg.data_dir, strerror(errno));
		else {
			check_data_dir(k, &c->app.cfg);
			check_mailboxes(k, c, now);
			check_permissions(k, c);
			check_cert(k, &c->app.cfg, now);
		}
		check_probes(k, &c->app.cfg, now);
	}
	rc = report(k, out, &c->app.cfg);
	json_decref(k->mailboxes);
	metrics_free(&k->m);
	free(k);
	return rc;
}
