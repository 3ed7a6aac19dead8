/* msgw-mbox status --prometheus: the Prometheus text exposition format,
 * for node_exporter's textfile collector. Label values are escaped as the
 * format requires (backslash, double quote, line feed); names are UTF-8. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mbox/metrics.h"
#include "store/dedup.h"
#include "util/path.h"

int metrics_add_mailbox(struct metrics *m, const struct mailbox *mb, const struct mailbox_stats *s)
{
	struct store_dedup_stats ds;

	if (m->nmb == m->capmb) {
		size_t cap = m->capmb ? m->capmb * 2 : 16;
		void *v = reallocarray(m->mb, cap, sizeof *m->mb);
		if (v == NULL)
			return -1;
		m->mb = v;
		m->capmb = cap;
	}
	snprintf(m->mb[m->nmb].id, sizeof m->mb[m->nmb].id, "%s", mb->id);
	snprintf(m->mb[m->nmb].name, sizeof m->mb[m->nmb].name, "%s", mb->name);
	m->mb[m->nmb].s = *s;
	m->mb[m->nmb].dropped = store_dedup_stats(mb, &ds) == 0 ? (long long)ds.dropped : -1;
	m->nmb++;
	return 0;
}

void metrics_free(struct metrics *m)
{
	free(m->mb);
	m->mb = NULL;
	m->nmb = m->capmb = 0;
}

static void label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One family over the mailboxes; which: 0 messages, 1 bytes, 2 oldest
 * age, 3 newest delivery, 4 duplicates dropped. Empty mailboxes have no
 * age and no newest. */
static void mailbox_family(FILE *f, const struct metrics *m, int which)
{
	static const char *const names[] = { "msgw_mailbox_messages", "msgw_mailbox_bytes",
					      "msgw_mailbox_oldest_message_age_seconds",
					      "msgw_mailbox_newest_delivery_timestamp_seconds",
					      "msgw_mailbox_duplicates_dropped_total" };
	static const char *const help[] = {
		"Messages stored and not yet deleted by the archiver.",
		"Bytes stored (encrypted).",
		"Age of the oldest stored message.",
		"Delivery time of the newest stored message (Unix time).",
		"Copies answered 250 and not stored because de-duplication found them.",
	};

	family(f, names[which], which == 4 ? "counter" : "gauge", help[which]);
	for (size_t i = 0; i < m->nmb; i++) {
		const struct mailbox_stats *s = &m->mb[i].s;
		long long v;
		if ((which == 2 || which == 3) && s->messages == 0)
			continue;
		if (which == 4 && m->mb[i].dropped < 0)
			continue;
		v = which == 0 ? (long long)s->messages
		    : which == 1 ? (long long)s->bytes
		    : which == 2 ? (m->now > s->oldest ? (long long)(m->now - s->oldest) : 0)
		    : which == 3 ? (long long)s->newest
		    : m->mb[i].dropped;
		fprintf(f, "%s{id=\"%s\",name=\"", names[which], m->mb[i].id);
		label(f, m->mb[i].name);
		fprintf(f, "\"} %lld\n", v);
	}
}

static void probe_families(FILE *f, const struct metrics *m)
{
	family(f, "msgw_probe_up", "gauge", "1 when the port answered, completed TLS and served a valid certificate.");
	for (size_t i = 0; i < m->nprobe; i++) {
		fputs("msgw_probe_up{target=\"", f);
		label(f, m->probe[i].target);
		fprintf(f, "\"} %d\n", m->probe[i].up);
	}
	family(f, "msgw_probe_certificate_expiry_timestamp_seconds", "gauge",
	       "Expiry of the certificate the port serves (Unix time).");
	for (size_t i = 0; i < m->nprobe; i++) {
		if (!m->probe[i].up)
			continue;
		fputs("msgw_probe_certificate_expiry_timestamp_seconds{target=\"", f);
		label(f, m->probe[i].target);
		fprintf(f, "\"} %lld\n", (long long)m->probe[i].until);
	}
	family(f, "msgw_probe_rsa_certificate_expiry_timestamp_seconds", "gauge",
	       "Expiry of the RSA certificate a port serves beside another (Unix time).");
	for (size_t i = 0; i < m->nprobe; i++) {
		if (!m->probe[i].up || m->probe[i].rsa_until == 0)
			continue;
		fputs("msgw_probe_rsa_certificate_expiry_timestamp_seconds{target=\"", f);
		label(f, m->probe[i].target);
		fprintf(f, "\"} %lld\n", (long long)m->probe[i].rsa_until);
	}
}

int metrics_print(const struct metrics *m, FILE *f)
{
	for (int w = 0; w < 5; w++)
		mailbox_family(f, m, w);
	family(f, "msgw_certificate_expiry_timestamp_seconds", "gauge",
	       "Expiry of each configured certificate file (Unix time).");
	for (size_t i = 0; i < m->ncert; i++) {
		fputs("msgw_certificate_expiry_timestamp_seconds{file=\"", f);
		label(f, m->cert[i].file);
		fprintf(f, "\"} %lld\n", (long long)m->cert[i].until);
	}
	if (m->have_free) {
		family(f, "msgw_data_dir_free_bytes", "gauge", "Bytes available to msgw in data_dir.");
		fprintf(f, "msgw_data_dir_free_bytes %llu\n", m->free_bytes);
	}
	probe_families(f, m);
	family(f, "msgw_status", "gauge", "Overall health: 0 ok, 1 warning, 2 critical (as the exit code).");
	fprintf(f, "msgw_status %d\n", m->status);
	fflush(f);
	return ferror(f) ? -1 : 0;
}

int metrics_write_file(const struct metrics *m, const char *path)
{
	char tmp[PATH_MAX];
	FILE *f;
	int fd, saved;

	if (path_fmt(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) < 0)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -1;
	/* Readable by node_exporter's user whatever status's umask. */
	if (fchmod(fd, 0644) < 0 || (f = fdopen(fd, "w")) == NULL) {
		saved = errno;
		close(fd);
		goto fail;
	}
	if (metrics_print(m, f) < 0 || fsync(fd) < 0) {
		saved = errno ? errno : EIO;
		fclose(f);
		goto fail;
	}
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		saved = errno;
		goto fail;
	}
	return 0;
fail:
	unlink(tmp);
	errno = saved;
	return -1;
}
