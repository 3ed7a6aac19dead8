/* The escrow recipient of a mailbox, and reset-password with the escrow
 * identity: the messages are re-encrypted to the new key pair (see
 * man/msgw-mbox.8 for why re-encryption rather than an escrowed copy of
 * the mailbox identity). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/escrow.h"
#include "store/internal.h"
#include "util/fdio.h"
#include "util/path.h"
#include "util/wipe.h"

#define RESET_FILES_MAX 10000000
#define RESET_PASSES 2

static const char *escrow_text(const struct store *st, const struct mailbox *mb, const char **source)
{
	if (strcmp(mb->escrow, "none") == 0)
		return NULL;
	if (mb->escrow[0]) {
		*source = "mailbox";
		return mb->escrow;
	}
	if (st && st->cfg && st->cfg->crypt.escrow_recipient && st->cfg->crypt.escrow_recipient[0]) {
		*source = "crypt.escrow_recipient";
		return st->cfg->crypt.escrow_recipient;
	}
	return NULL;
}

int store_escrow_describe(const struct store *st, const struct mailbox *mb, const char **text,
			  const char **source)
{
	*text = escrow_text(st, mb, source);
	return *text != NULL;
}

int store_escrow_recipient(const struct store *st, const struct mailbox *mb, struct age_recipient *r)
{
	const char *source, *text = escrow_text(st, mb, &source);
	int rc;

	if (text == NULL)
		return 0;
	rc = age_recipient_parse(text, r);
	return rc == 0 ? 1 : store_age_errno(rc);
}

/* 1 when the file at path opens with id, 0 when not, -1 on I/O errors. */
static int opens_with(const char *path, const struct age_identity *id)
{
	struct age_decryptor *d = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), rc;

	if (fd < 0)
		return -1;
	rc = age_decrypt_begin(&d, fd, id, 1);
	if (rc == 0)
		age_decrypt_end(d);
	close(fd);
	if (rc == AGE_ERR_IO)
		return -1;
	return rc == 0;
}

/* Decrypt in_fd with from, encrypt to the recipients into out_fd. */
static int reencrypt_fd(int in_fd, int out_fd, const struct age_identity *from,
			const struct age_recipient *to, size_t nto, uint64_t *total)
{
	static unsigned char buf[AGE_CHUNK_SIZE];
	struct age_decryptor *d = NULL;
	struct age_encryptor *e = NULL;
	ssize_t n;
	int rc;

	if ((rc = age_decrypt_begin(&d, in_fd, from, 1)) != 0)
		return rc;
	if ((rc = age_encrypt_begin(&e, to, nto, out_fd)) != 0) {
		age_decrypt_end(d);
		return rc;
	}
	while ((n = age_decrypt_read(d, buf, sizeof buf)) > 0)
		if ((rc = age_encrypt_update(e, buf, (size_t)n)) != 0)
			break;
	wipe(buf, sizeof buf);
	age_decrypt_end(d);
	if (n < 0 || rc != 0) {
		age_encrypt_abort(e);
		return n < 0 ? (int)n : rc;
	}
	return age_encrypt_finish(e, total);
}

struct reset {
	const struct mailbox *mb;
	const struct age_identity *escrow, *fresh;
	struct age_recipient to[2];   /* the new key pair, the escrow identity */
	unsigned long done, unopened;
};

/* The name of f with S= set to size (names without sizes are kept). */
static int resized_name(char *out, size_t size, const struct store_msgfile *f, uint64_t total)
{
	const char *w = strstr(f->name, ",W="), *info = strchr(f->name, ':');

	if (!f->sized || w == NULL)
		return path_fmt(out, size, "%s", f->name);
	return path_fmt(out, size, "%.*s,S=%llu,W=%llu%s", (int)f->uidl_len, f->name,
			(unsigned long long)total, (unsigned long long)f->msize, info ? info : "");
}

/* Re-encrypt one message to the new key pair through tmp/ and a rename
 * over it (the header keeps its size, so the name and UIDL stay). */
static int migrate(struct reset *r, const struct store_msgfile *f)
{
	char src[PATH_MAX], tmp[PATH_MAX], name[STORE_NAME_MAX + 64], dst[PATH_MAX], sub[PATH_MAX];
	uint64_t total = 0;
	int in = -1, out = -1, rc, saved;

	if (path_fmt(src, sizeof src, "%s/%s/%s", r->mb->dir, f->sub, f->name) < 0 ||
	    path_fmt(tmp, sizeof tmp, "%s/tmp/%.*s.reset.%ld", r->mb->dir, (int)f->uidl_len, f->name,
		     (long)getpid()) < 0 ||
	    path_join(sub, sizeof sub, r->mb->dir, f->sub) < 0)
		return -1;
	if ((rc = opens_with(src, r->fresh)) != 0)
		return rc < 0 ? -1 : 0;   /* already done (a run before a crash) */
	if ((in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return -1;
	unlink(tmp);
	if ((out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		goto fail;
	rc = reencrypt_fd(in, out, r->escrow, r->to, 2, &total);
	if (rc == AGE_ERR_NO_IDENTITY) {
		r->unopened++;    /* landed without an escrow stanza: left as it is */
		close(in);
		close(out);
		unlink(tmp);
		return 0;
	}
	if (rc != 0) {
		store_age_errno(rc);
		goto fail;
	}
	if (fsync(out) < 0 || close(out) < 0) {
		out = -1;
		goto fail;
	}
	out = -1;
	if (resized_name(name, sizeof name, f, total) < 0 || path_join(dst, sizeof dst, sub, name) < 0 ||
	    rename(tmp, dst) < 0)
		goto fail;
	if (strcmp(dst, src) != 0)
		unlink(src);
	close(in);
	r->done++;
	return fsync_dir(sub);
fail:
	saved = errno;
	if (out >= 0)
		close(out);
	close(in);
	unlink(tmp);
	errno = saved;
	return -1;
}

/* Every message must open with the escrow identity before anything changes. */
static int check_all(const struct reset *r)
{
	struct store_msgfile *v = NULL;
	size_t n = 0;
	int rc = 0, saved;

	if (store_mailbox_files(r->mb, RESET_FILES_MAX, &v, &n) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char path[PATH_MAX];
		int o;
		if (path_fmt(path, sizeof path, "%s/%s/%s", r->mb->dir, v[i].sub, v[i].name) < 0)
			rc = -1;
		else if ((o = opens_with(path, r->escrow)) <= 0)
			rc = -1, errno = o == 0 ? EACCES : errno;
	}
	saved = errno;
	store_msgfiles_free(v, n);
	errno = saved;
	return rc;
}

static int migrate_all(struct reset *r)
{
	struct store_msgfile *v = NULL;
	size_t n = 0;
	int rc = 0, saved;

	if (store_mailbox_files(r->mb, RESET_FILES_MAX, &v, &n) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = migrate(r, &v[i]);
	saved = errno;
	store_msgfiles_free(v, n);
	errno = saved;
	return rc;
}

static int reset_locked(const struct store *st, struct reset *r, char *password)
{
	struct age_identity fresh;
	int rc = -1, saved;

	if (check_all(r) < 0)
		return -1;
	/* The new keys are in place before the first message moves: a crash
	 * midway leaves every message open to the escrow identity, and a
	 * second run finishes the job. */
	if (store_new_keys(st, r->mb, &fresh, password) < 0)
		return -1;
	r->fresh = &fresh;
	age_identity_recipient(&fresh, &r->to[0]);
	/* A second pass takes what a delivery begun before the suspension
	 * put there meanwhile. */
	for (int pass = 0; pass < RESET_PASSES; pass++)
		if ((rc = migrate_all(r)) < 0)
			break;
	saved = errno;
	r->fresh = NULL;
	age_identity_wipe(&fresh);
	if (rc < 0)
		wipe(password, STORE_PASSWORD_LEN + 1);
	errno = saved;
	return rc;
}

int store_mailbox_reset_escrow(const struct store *st, const char *id,
			       const struct age_identity *escrow,
			       char password[STORE_PASSWORD_LEN + 1], struct escrow_reset *out)
{
	struct mailbox mb;
	struct store_lock l;
	struct store_lock_opts lo;
	struct reset r;
	int rc, saved;

	memset(&r, 0, sizeof r);
	memset(out, 0, sizeof *out);
	if (store_mailbox_load(st, id, &mb) < 0)
		return -1;
	if (!mb.suspended) {
		errno = EPERM;
		return -1;
	}
	store_lock_opts_from(&lo, st->cfg);
	if (store_lock_take(&l, mb.dir, &lo) < 0)
		return -1;
	r.mb = &mb;
	r.escrow = escrow;
	age_identity_recipient(escrow, &r.to[1]);
	rc = reset_locked(st, &r, password);
	saved = errno;
	store_lock_release(&l);
	out->reencrypted = r.done;
	out->left = r.unopened;
	errno = saved;
	return rc;
}
