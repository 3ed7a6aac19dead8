/* Mailboxes on disk: store_init, loading and writing mailbox.conf,
 * listing, and the key files. mailbox.conf is libconfig:
 *   id = "..."; name = "..."; description = "..."; status = "active";
 *   created = 1700000000L; allowed_networks = [ "192.0.2.0/24" ];  (optional)
 *   escrow_recipient = "age1..." | "none";  dedup_window = 604800L;  (optional)
 *   proxy = true;  (optional, default false: a journal mailbox)
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/admin.h"
#include "store/dedup.h"
#include "store/internal.h"
#include "util/path.h"
#include "util/wipe.h"

#define CONF_MAX 65536
#define MAILBOX_LIST_MAX 1000000

int store_init(struct store *st, const struct config *cfg)
{
	memset(st, 0, sizeof *st);
	st->cfg = cfg;
	if (cfg == NULL || cfg->data_dir == NULL) {
		errno = EINVAL;
		return -1;
	}
	return path_join(st->root, sizeof st->root, cfg->data_dir, "mailboxes");
}

static int conf_str(config_t *c, const char *key, char *out, size_t size, size_t max, int allow_empty)
{
	const char *v;

	if (config_lookup_string(c, key, &v) != CONFIG_TRUE || !mailbox_text_valid(v, max, allow_empty) ||
	    strlen(v) >= size)
		return -1;
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

static int conf_networks(config_t *c, struct mailbox *mb)
{
	config_setting_t *l = config_lookup(c, "allowed_networks");
	int i, n;

	if (l == NULL)
		return 0;
	if (!config_setting_is_array(l) && !config_setting_is_list(l))
		return -1;
	n = config_setting_length(l);
	if (n < 0 || (size_t)n > MAILBOX_MAX_NETWORKS)
		return -1;
	for (i = 0; i < n; i++) {
		const char *s = config_setting_get_string_elem(l, i);
		if (s == NULL || cidr_parse(s, &mb->networks[i]) < 0)
			return -1;
	}
	mb->n_networks = (size_t)n;
	return 0;
}

/* escrow_recipient and dedup_window, both optional. */
static int conf_escrow_dedup(config_t *c, struct mailbox *mb)
{
	struct age_recipient r;
	const char *v;
	long long w = 0;

	if (config_lookup(c, "escrow_recipient") != NULL) {
		if (config_lookup_string(c, "escrow_recipient", &v) != CONFIG_TRUE ||
		    strlen(v) >= sizeof mb->escrow ||
		    (strcmp(v, "none") != 0 && age_recipient_parse(v, &r) != 0))
			return -1;
		memcpy(mb->escrow, v, strlen(v) + 1);
	}
	if (config_lookup(c, "dedup_window") != NULL &&
	    (config_lookup_int64(c, "dedup_window", &w) != CONFIG_TRUE || w < 0 ||
	     w > STORE_DEDUP_WINDOW_MAX))
		return -1;
	mb->dedup_window = w;
	return 0;
}

int store_conf_parse(const char *text, const char *id, struct mailbox *mb)
{
	config_t c;
	const char *status;
	long long created = 0;
	int rc = -1;

	config_init(&c);
	if (config_read_string(&c, text) != CONFIG_TRUE)
		goto out;
	if (conf_str(&c, "id", mb->id, sizeof mb->id, MAILBOX_ID_LEN, 0) < 0 || strcmp(mb->id, id) != 0)
		goto out;
	if (conf_str(&c, "name", mb->name, sizeof mb->name, MAILBOX_NAME_MAX, 0) < 0)
		goto out;
	if (config_lookup(&c, "description") != NULL &&
	    conf_str(&c, "description", mb->description, sizeof mb->description, MAILBOX_DESC_MAX, 1) < 0)
		goto out;
	if (config_lookup_string(&c, "status", &status) != CONFIG_TRUE)
		goto out;
	if (strcmp(status, "active") == 0)
		mb->suspended = 0;
	else if (strcmp(status, "suspended") == 0)
		mb->suspended = 1;
	else
		goto out;
	if (config_lookup_int64(&c, "created", &created) == CONFIG_TRUE)
		mb->created = (time_t)created;
	if (conf_networks(&c, mb) < 0 || conf_escrow_dedup(&c, mb) < 0)
		goto out;
	if (config_lookup(&c, "proxy") != NULL && config_lookup_bool(&c, "proxy", &mb->proxy) != CONFIG_TRUE)
		goto out;
	mb->proxy = mb->proxy != 0;
	rc = 0;
out:
	config_destroy(&c);
	if (rc < 0)
		errno = EBADMSG;
	return rc;
}

int store_mailbox_load(const struct store *st, const char *id, struct mailbox *mb)
{
	char path[PATH_MAX];
	char *text = NULL;
	size_t len;
	int rc;

	memset(mb, 0, sizeof *mb);
	if (!mailbox_id_valid(id)) {
		errno = EINVAL;
		return -1;
	}
	if (path_join(mb->dir, sizeof mb->dir, st->root, id) < 0 ||
	    path_join(path, sizeof path, mb->dir, "mailbox.conf") < 0)
		return -1;
	if (read_file_bounded(path, CONF_MAX, &text, &len) < 0)
		return -1;      /* ENOENT: no such mailbox */
	rc = strlen(text) == len ? store_conf_parse(text, id, mb) : (errno = EBADMSG, -1);
	free(text);
	return rc;
}

/* The text of mailbox.conf for mb, through libconfig so that quoting is
 * libconfig's own. */
static int format_conf(const struct mailbox *mb, char **out, size_t *outlen)
{
	config_t c;
	config_setting_t *root, *s;
	FILE *f = NULL;
	int rc = -1;

	config_init(&c);
	root = config_root_setting(&c);
	if ((s = config_setting_add(root, "id", CONFIG_TYPE_STRING)) == NULL ||
	    config_setting_set_string(s, mb->id) != CONFIG_TRUE ||
	    (s = config_setting_add(root, "name", CONFIG_TYPE_STRING)) == NULL ||
	    config_setting_set_string(s, mb->name) != CONFIG_TRUE ||
	    (s = config_setting_add(root, "description", CONFIG_TYPE_STRING)) == NULL ||
	    config_setting_set_string(s, mb->description) != CONFIG_TRUE ||
	    (s = config_setting_add(root, "status", CONFIG_TYPE_STRING)) == NULL ||
	    config_setting_set_string(s, mb->suspended ? "suspended" : "active") != CONFIG_TRUE ||
	    (s = config_setting_add(root, "created", CONFIG_TYPE_INT64)) == NULL ||
	    config_setting_set_int64(s, (long long)mb->created) != CONFIG_TRUE ||
	    (s = config_setting_add(root, "proxy", CONFIG_TYPE_BOOL)) == NULL ||
	    config_setting_set_bool(s, mb->proxy) != CONFIG_TRUE)
		goto out;
	if (mb->escrow[0] && ((s = config_setting_add(root, "escrow_recipient", CONFIG_TYPE_STRING)) == NULL ||
			      config_setting_set_string(s, mb->escrow) != CONFIG_TRUE))
		goto out;
	if (mb->dedup_window && ((s = config_setting_add(root, "dedup_window", CONFIG_TYPE_INT64)) == NULL ||
				 config_setting_set_int64(s, (long long)mb->dedup_window) != CONFIG_TRUE))
		goto out;
	f = open_memstream(out, outlen);
	if (f == NULL)
		goto out;
	config_write(&c, f);
	if (fclose(f) != 0)
		goto out;
	rc = 0;
out:
	config_destroy(&c);
	if (rc < 0 && errno == 0)
		errno = ENOMEM;
	return rc;
}

/* mailbox.conf keeps keys msgw-mbox does not edit (allowed_networks) as
 * they are: they are copied from the current file. */
static int append_networks(const struct mailbox *mb, char **text, size_t *len)
{
	char path[PATH_MAX], *old = NULL, *p;
	size_t oldlen;
	config_t c;
	config_setting_t *l;
	int rc = 0;

	if (path_join(path, sizeof path, mb->dir, "mailbox.conf") < 0)
		return -1;
	if (read_file_bounded(path, CONF_MAX, &old, &oldlen) < 0)
		return errno == ENOENT ? 0 : -1;
	config_init(&c);
	if (config_read_string(&c, old) == CONFIG_TRUE && (l = config_lookup(&c, "allowed_networks")) != NULL) {
		FILE *f;
		char *ntext = NULL;
		size_t nlen = 0;
		config_t out;
		config_setting_t *copy;
		int i, n = config_setting_length(l);

		config_init(&out);
		copy = config_setting_add(config_root_setting(&out), "allowed_networks", CONFIG_TYPE_LIST);
		for (i = 0; copy && i < n; i++) {
			const char *s = config_setting_get_string_elem(l, i);
			config_setting_t *e = s ? config_setting_add(copy, NULL, CONFIG_TYPE_STRING) : NULL;
			if (e)
				config_setting_set_string(e, s);
		}
		f = open_memstream(&ntext, &nlen);
		if (f != NULL) {
			config_write(&out, f);
			fclose(f);
		}
		config_destroy(&out);
		p = ntext ? realloc(*text, *len + nlen + 1) : NULL;
		if (p == NULL) {
			rc = -1;
		} else {
			memcpy(p + *len, ntext, nlen + 1);
			*text = p;
			*len += nlen;
		}
		free(ntext);
	}
	config_destroy(&c);
	free(old);
	return rc;
}

int store_mailbox_save(const struct store *st, const struct mailbox *mb)
{
	char path[PATH_MAX], *text = NULL;
	size_t len = 0;
	int rc = -1;

	(void)st;
	if (!mailbox_id_valid(mb->id) || !mailbox_text_valid(mb->name, MAILBOX_NAME_MAX, 0) ||
	    !mailbox_text_valid(mb->description, MAILBOX_DESC_MAX, 1)) {
		errno = mailbox_id_valid(mb->id) ? EILSEQ : EINVAL;
		return -1;
	}
	if (path_join(path, sizeof path, mb->dir, "mailbox.conf") < 0)
		return -1;
	if (format_conf(mb, &text, &len) < 0 || append_networks(mb, &text, &len) < 0)
		goto out;
	rc = write_file_atomic(path, text, len, STORE_MODE_PUBLIC);
out:
	free(text);
	return rc;
}

static int list_cmp(const void *a, const void *b)
{
	const struct mailbox *x = a, *y = b;

	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->id, y->id);
}

int store_mailbox_list(const struct store *st, struct mailbox **mbs, size_t *n,
		       void (*bad)(void *arg, const char *id, int err), void *arg)
{
	DIR *d;
	struct dirent *e;
	struct mailbox *v = NULL;
	size_t cnt = 0, cap = 0;
	int saved;

	*mbs = NULL;
	*n = 0;
	d = opendir(st->root);
	if (d == NULL)
		return errno == ENOENT ? 0 : -1;   /* no mailbox created yet */
	while ((e = readdir(d)) != NULL) {
		if (!mailbox_id_valid(e->d_name))
			continue;       /* hidden work folders and foreign files */
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct mailbox *nv = nc <= MAILBOX_LIST_MAX ? reallocarray(v, nc, sizeof *v) : NULL;
			if (nv == NULL)
				goto fail;
			v = nv;
			cap = nc;
		}
		if (store_mailbox_load(st, e->d_name, &v[cnt]) < 0) {
			if (errno == ENOMEM)
				goto fail;
			/* One damaged mailbox must not hide the others. */
			if (errno != ENOENT && bad != NULL)
				bad(arg, e->d_name, errno);
			continue;
		}
		cnt++;
	}
	closedir(d);
	if (cnt > 1)
		qsort(v, cnt, sizeof *v, list_cmp);
	*mbs = v;
	*n = cnt;
	return 0;
fail:
	saved = errno;
	closedir(d);
	free(v);
	errno = saved;
	return -1;
}

int store_read_recipient(const struct mailbox *mb, struct age_recipient *r)
{
	char path[PATH_MAX], *text = NULL;
	size_t len;
	int rc;

	if (path_join(path, sizeof path, mb->dir, "identity.pub") < 0 ||
	    read_file_bounded(path, 256, &text, &len) < 0)
		return -1;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	rc = age_recipient_parse(text, r);
	free(text);
	return rc == 0 ? 0 : store_age_errno(rc == AGE_ERR_IO ? AGE_ERR_HEADER : rc);
}

int store_identity_unseal(const struct store *st, const struct mailbox *mb, const char *password,
			  size_t plen, struct age_identity *id)
{
	char path[PATH_MAX];
	int fd, rc;

	(void)st;
	if (path_join(path, sizeof path, mb->dir, "identity.age") < 0)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	rc = age_identity_unseal(fd, password, plen, AGE_SCRYPT_MAX_LOG_N, id);
	close(fd);
	if (rc != 0) {
		age_identity_wipe(id);
		return store_age_errno(rc);
	}
	return 0;
}

int store_become_owner(const char *data_dir)
{
	struct stat sb;

	if (geteuid() != 0)
		return 0;
	if (stat(data_dir, &sb) < 0)
		return -1;
	if (sb.st_uid == 0 && sb.st_gid == 0)
		return 0;
	/* Group first: once the uid is dropped, setgid is no longer allowed. */
	if (setgroups(0, NULL) < 0 || setgid(sb.st_gid) < 0 || setuid(sb.st_uid) < 0)
		return -1;
	if (sb.st_uid != 0 && (setuid(0) == 0 || geteuid() != sb.st_uid)) {
		errno = EPERM;
		return -1;
	}
	return 0;
}
