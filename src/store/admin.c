/* Mailbox life cycle for msgw-mbox: create, delete, reset-password.
 * Every change that could be cut short by a crash is done aside and
 * published by one rename, so the tree never shows half a mailbox. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/admin.h"
#include "store/internal.h"
#include "util/path.h"
#include "util/wipe.h"

#define ID_TRIES 4
#define LEFTOVER_SCAN_MAX 100000

/* Remove a mailbox folder: files, and the files of its sub-folders (a
 * mailbox has no deeper levels). Best effort; returns -1 on the first error. */
static int remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d)) != NULL) {
		char path[PATH_MAX];
		struct stat sb;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (path_join(path, sizeof path, dir, e->d_name) < 0 || lstat(path, &sb) < 0) {
			rc = -1;
			continue;
		}
		if (S_ISDIR(sb.st_mode)) {
			DIR *s = opendir(path);
			struct dirent *f;
			if (s == NULL) {
				rc = -1;
				continue;
			}
			while ((f = readdir(s)) != NULL) {
				if (strcmp(f->d_name, ".") == 0 || strcmp(f->d_name, "..") == 0)
					continue;
				if (unlinkat(dirfd(s), f->d_name, 0) < 0)
					rc = -1;
			}
			closedir(s);
			if (rmdir(path) < 0)
				rc = -1;
		} else if (unlink(path) < 0) {
			rc = -1;
		}
	}
	closedir(d);
	if (rmdir(dir) < 0)
		rc = -1;
	return rc;
}

/* Work folders a crash left behind (.new-* of a create, .deleted-* of a
 * delete) are never served; remove those older than an hour. */
static void clean_leftovers(const char *root)
{
	DIR *d = opendir(root);
	struct dirent *e;
	time_t now = time(NULL);
	size_t seen = 0;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL && seen++ < LEFTOVER_SCAN_MAX) {
		char path[PATH_MAX];
		struct stat sb;
		if (strncmp(e->d_name, ".new-", 5) != 0 && strncmp(e->d_name, ".deleted-", 9) != 0)
			continue;
		if (path_join(path, sizeof path, root, e->d_name) == 0 && lstat(path, &sb) == 0 &&
		    S_ISDIR(sb.st_mode) && sb.st_mtime + 3600 < now)
			remove_tree(path);
	}
	closedir(d);
}

/* identity.age for id, sealed with password, written to path (new file). */
static int write_sealed(const char *path, const struct age_identity *id, const char *password,
			int log_n)
{
	return store_write_sealed(path, id, password, strlen(password), log_n);
}

static int write_pub(const char *path, const struct age_identity *id)
{
	struct age_recipient r;
	char line[AGE_RECIPIENT_STRLEN + 1];
	int rc;

	age_identity_recipient(id, &r);
	rc = age_recipient_format(&r, line);
	if (rc != 0)
		return store_age_errno(rc);
	strcat(line, "\n");
	return write_file_atomic(path, line, strlen(line), STORE_MODE_PUBLIC);
}

/* Fill an empty folder with everything a mailbox holds. */
static int populate(const struct store *st, struct mailbox *mb, char *password)
{
	struct age_identity id;
	char path[PATH_MAX];
	static const char *const subs[] = { "tmp", "new", "cur" };
	int rc = -1;

	memset(&id, 0, sizeof id);
	for (size_t i = 0; i < 3; i++)
		if (path_join(path, sizeof path, mb->dir, subs[i]) < 0 || mkdir(path, 0700) < 0)
			goto out;
	if ((rc = age_identity_generate(&id)) != 0) {
		rc = store_age_errno(rc);
		goto out;
	}
	rc = -1;
	if (store_password_generate(password) < 0 ||
	    path_join(path, sizeof path, mb->dir, "identity.pub") < 0 || write_pub(path, &id) < 0 ||
	    path_join(path, sizeof path, mb->dir, "identity.age") < 0 ||
	    write_sealed(path, &id, password, st->cfg->crypt.scrypt_log_n) < 0 ||
	    store_mailbox_save(st, mb) < 0 || fsync_dir(mb->dir) < 0)
		goto out;
	rc = 0;
out:
	age_identity_wipe(&id);
	return rc;
}

int store_mailbox_create(const struct store *st, const char *name, const char *description,
			 struct mailbox *mb, char password[STORE_PASSWORD_LEN + 1])
{
	char work[PATH_MAX], final[PATH_MAX];
	int tries, saved;

	memset(mb, 0, sizeof *mb);
	if (!mailbox_text_valid(name, MAILBOX_NAME_MAX, 0) ||
	    !mailbox_text_valid(description ? description : "", MAILBOX_DESC_MAX, 1)) {
		errno = EILSEQ;
		return -1;
	}
	if (store_mkdir(st->cfg->data_dir) < 0 || store_mkdir(st->root) < 0)
		return -1;
	clean_leftovers(st->root);
	snprintf(mb->name, sizeof mb->name, "%s", name);
	snprintf(mb->description, sizeof mb->description, "%s", description ? description : "");
	mb->created = time(NULL);
	for (tries = 0;; tries++) {
		if (mailbox_id_generate(mb->id) < 0 ||
		    path_join(final, sizeof final, st->root, mb->id) < 0 ||
		    path_fmt(work, sizeof work, "%s/.new-%s", st->root, mb->id) < 0)
			return -1;
		if (access(final, F_OK) < 0 && errno == ENOENT)
			break;
		if (tries == ID_TRIES) {
			errno = EEXIST;
			return -1;
		}
	}
	if (mkdir(work, 0700) < 0)
		return -1;
	if (chmod(work, STORE_MODE_TRAVERSE) < 0)
		goto fail;
	snprintf(mb->dir, sizeof mb->dir, "%s", work);
	if (populate(st, mb, password) < 0 || rename(work, final) < 0 || fsync_dir(st->root) < 0)
		goto fail;
	snprintf(mb->dir, sizeof mb->dir, "%s", final);
	return 0;
fail:
	saved = errno;
	wipe(password, STORE_PASSWORD_LEN + 1);
	remove_tree(work);
	errno = saved;
	return -1;
}

/* Load id, refuse unless suspended, take the maildrop lock, refuse
 * unless empty: what delete and reset-password both require. */
static int refuse_unless_idle(const struct store *st, const char *id, struct mailbox *mb,
			      struct store_lock *l)
{
	struct mailbox_stats s;
	struct store_lock_opts lo;
	int saved;

	if (store_mailbox_load(st, id, mb) < 0)
		return -1;
	if (!mb->suspended) {
		errno = EPERM;
		return -1;
	}
	store_lock_opts_from(&lo, st->cfg);
	if (store_lock_take(l, mb->dir, &lo) < 0)
		return -1;
	if (store_mailbox_stats(mb, &s) < 0 || s.messages > 0) {
		saved = s.messages > 0 ? ENOTEMPTY : errno;
		store_lock_release(l);
		errno = saved;
		return -1;
	}
	return 0;
}

int store_mailbox_delete(const struct store *st, const char *id)
{
	struct mailbox mb, aside;
	struct mailbox_stats s;
	struct store_lock l;

	if (refuse_unless_idle(st, id, &mb, &l) < 0)
		return -1;
	aside = mb;
	if (path_fmt(aside.dir, sizeof aside.dir, "%s/.deleted-%s-%ld", st->root, id, (long)getpid()) < 0 ||
	    rename(mb.dir, aside.dir) < 0) {
		int saved = errno;
		store_lock_release(&l);
		errno = saved;
		return -1;
	}
	/* A delivery that began before the suspension may have landed
	 * between the check and the rename: then put the mailbox back. */
	if (store_mailbox_stats(&aside, &s) < 0 || s.messages > 0) {
		int saved = s.messages > 0 ? ENOTEMPTY : errno;
		if (rename(aside.dir, mb.dir) == 0)
			store_lock_release(&l);
		else
			store_lock_forget(&l);
		errno = saved;
		return -1;
	}
	store_lock_forget(&l);  /* the lock file went aside with the folder */
	if (fsync_dir(st->root) < 0 || remove_tree(aside.dir) < 0)
		return -1;
	return fsync_dir(st->root);
}

/* A new key pair and password, installed in mb: the sealed key first,
 * then the public key, so a crash in between leaves a mailbox that a
 * second reset repairs. ident receives the new identity (wipe it). */
int store_new_keys(const struct store *st, const struct mailbox *mb, struct age_identity *ident,
		   char password[STORE_PASSWORD_LEN + 1])
{
	char age_tmp[PATH_MAX], age_path[PATH_MAX], pub_path[PATH_MAX];
	int rc, saved;

	memset(ident, 0, sizeof *ident);
	if ((rc = age_identity_generate(ident)) != 0)
		return store_age_errno(rc);
	if (store_password_generate(password) < 0 ||
	    path_join(age_path, sizeof age_path, mb->dir, "identity.age") < 0 ||
	    path_join(pub_path, sizeof pub_path, mb->dir, "identity.pub") < 0 ||
	    path_fmt(age_tmp, sizeof age_tmp, "%s.tmp.%ld", age_path, (long)getpid()) < 0)
		goto fail;
	unlink(age_tmp);
	if (write_sealed(age_tmp, ident, password, st->cfg->crypt.scrypt_log_n) < 0)
		goto fail;
	if (rename(age_tmp, age_path) < 0) {
		saved = errno;
		unlink(age_tmp);
		errno = saved;
		goto fail;
	}
	if (write_pub(pub_path, ident) < 0 || fsync_dir(mb->dir) < 0)
		goto fail;
	return 0;
fail:
	saved = errno;
	wipe(password, STORE_PASSWORD_LEN + 1);
	age_identity_wipe(ident);
	errno = saved;
	return -1;
}

int store_mailbox_reset_password(const struct store *st, const char *id,
				 char password[STORE_PASSWORD_LEN + 1])
{
	struct mailbox mb;
	struct store_lock l;
	struct age_identity ident;
	int rc, saved;

	if (refuse_unless_idle(st, id, &mb, &l) < 0)
		return -1;
	/* The mailbox is empty and suspended: nothing to lose. */
	rc = store_new_keys(st, &mb, &ident, password);
	saved = errno;
	age_identity_wipe(&ident);
	store_lock_release(&l);
	errno = saved;
	return rc;
}

