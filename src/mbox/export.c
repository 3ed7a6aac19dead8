/* export: decrypt every message of a mailbox into a plain Maildir, for
 * recovery and migration; recover does the same with the escrow identity
 * instead of the mailbox password. A message that does not decrypt is reported and
 * skipped; the others are still exported and the exit status says so.
 * Each exported file goes through tmp/ and one rename, as any Maildir
 * writer must; a file already exported is left as it is, so a second run
 * completes an interrupted one. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "mbox/cmd.h"
#include "util/fdio.h"
#include "util/path.h"
#include "util/wipe.h"

#define EXPORT_MAX 10000000

struct export {
	const char *id;
	const char *dir;
	struct mailbox mb;
	struct age_identity ident;
	unsigned long done, skipped, failed, gone;
};

/* Decrypt src into the new file tmp. 0; 1 when the message does not
 * decrypt (reported); -1 on a local failure (errno). */
static int decrypt_to(struct export *e, const char *src, const char *tmp, const char *name)
{
	static char buf[AGE_CHUNK_SIZE];
	struct age_decryptor *d = NULL;
	int in = -1, out = -1, rc = -1, arc = 0;
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0)
		return errno == ENOENT ? 2 : -1;   /* retrieved meanwhile */
	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0)
		goto out;
	arc = age_decrypt_begin(&d, in, &e->ident, 1);
	if (arc != 0) {
		d = NULL;
		goto bad;
	}
	while ((n = age_decrypt_read(d, buf, sizeof buf)) > 0)
		if (fd_write_all(out, buf, (size_t)n) < 0)
			goto out;
	if (n < 0) {
		arc = (int)n;
		goto bad;
	}
	if (fsync(out) < 0)
		goto out;
	rc = close(out);
	out = -1;
	goto out;
bad:
	if (arc == AGE_ERR_IO)
		goto out;
	fprintf(stderr, "msgw-mbox: mailbox %s: message %s: does not decrypt (%s); skipped, left in the store\n",
		e->id, name, age_strerror(arc));
	rc = 1;
out:
	wipe(buf, sizeof buf);
	if (d)
		age_decrypt_end(d);
	if (out >= 0)
		close(out);
	if (rc != 0)
		unlink(tmp);
	close(in);
	return rc;
}

static int export_one(struct export *e, const struct store_msgfile *f)
{
	char src[PATH_MAX], tmp[PATH_MAX], dst[PATH_MAX], uidl[256];
	const char *info = strchr(f->name, ':');
	int rc;

	snprintf(uidl, sizeof uidl, "%.*s", (int)(f->uidl_len < 200 ? f->uidl_len : 200), f->name);
	if (path_fmt(src, sizeof src, "%s/%s/%s", e->mb.dir, f->sub, f->name) < 0 ||
	    path_fmt(tmp, sizeof tmp, "%s/tmp/%s.%ld", e->dir, uidl, (long)getpid()) < 0 ||
	    path_fmt(dst, sizeof dst, "%s/%s/%s%s", e->dir, f->sub, uidl,
		     strcmp(f->sub, "cur") == 0 ? (info ? info : ":2,") : "") < 0)
		return -1;
	if (access(dst, F_OK) == 0) {
		e->skipped++;
		return 0;
	}
	rc = decrypt_to(e, src, tmp, f->name);
	if (rc == 1) {
		e->failed++;
		return 0;
	}
	if (rc == 2) {
		e->gone++;
		return 0;
	}
	if (rc < 0 || rename(tmp, dst) < 0) {
		int saved = errno;
		unlink(tmp);
		errno = saved;
		return -1;
	}
	e->done++;
	return 0;
}

static int mkdir_ok(const char *path)
{
	struct stat sb;

	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno == EEXIST && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return 0;
	return -1;
}

static int make_maildir(const char *dir)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	char path[PATH_MAX];

	if (mkdir_ok(dir) < 0)
		return -1;
	for (size_t i = 0; i < 3; i++)
		if (path_join(path, sizeof path, dir, subs[i]) < 0 || mkdir_ok(path) < 0)
			return -1;
	return 0;
}

static int sync_maildir(const char *dir)
{
	char path[PATH_MAX];

	if (path_join(path, sizeof path, dir, "new") < 0 || fsync_dir(path) < 0 ||
	    path_join(path, sizeof path, dir, "cur") < 0 || fsync_dir(path) < 0)
		return -1;
	return 0;
}

/* Every message of e->mb decrypted with e->ident into e->dir. */
static int export_all(struct export *e)
{
	struct store_msgfile *files = NULL;
	size_t n = 0, i;
	int rc;

	if (make_maildir(e->dir) < 0) {
		fprintf(stderr, "msgw-mbox: %s: %s\n", e->dir, strerror(errno));
		rc = EX_CANTCREAT;
		goto out;
	}
	if (store_mailbox_files(&e->mb, EXPORT_MAX, &files, &n) < 0) {
		rc = fail_mailbox(e->id, errno);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (export_one(e, &files[i]) < 0) {
			fprintf(stderr, "msgw-mbox: mailbox %s: export of %s to %s: %s\n", e->id, files[i].name,
				e->dir, errno == ENOSPC ? "disk full" : strerror(errno));
			rc = errno == ENOENT ? EX_IOERR : errno_exit(errno);
			goto out;
		}
	}
	if (sync_maildir(e->dir) < 0) {
		fprintf(stderr, "msgw-mbox: %s: %s\n", e->dir, strerror(errno));
		rc = EX_IOERR;
		goto out;
	}
	printf("Mailbox %s: %lu messages exported to %s, %lu already there, %lu failed to decrypt",
	       e->id, e->done, e->dir, e->skipped, e->failed);
	if (e->gone)
		printf(", %lu moved or retrieved by POP3 meanwhile (run again)", e->gone);
	printf(".\n");
	rc = e->failed ? EX_DATAERR : EX_OK;
out:
	store_msgfiles_free(files, n);
	return rc;
}

static int run(struct export *e, const char *password, size_t plen)
{
	int rc;

	if (store_identity_unseal(NULL, &e->mb, password, plen, &e->ident) < 0)
		rc = errno == EACCES ? (fprintf(stderr, "msgw-mbox: mailbox %s: wrong password\n", e->id), EX_NOPERM)
			: fail_mailbox(e->id, errno);
	else
		rc = export_all(e);
	age_identity_wipe(&e->ident);
	return rc;
}

int cmd_export(struct ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "password-file", required_argument, NULL, 'p' },
		{ "maildir", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	struct export e;
	const char *pwfile = NULL;
	char password[STORE_PASSWORD_MAX + 2];
	size_t plen = 0;
	int opt, rc;

	memset(&e, 0, sizeof e);
	cmd_getopt_reset();
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'p': pwfile = optarg; break;
		case 'm': e.dir = optarg; break;
		default: cmd_bad_option(c, argv);
		}
	}
	if (argc - optind != 1)
		app_usage_error(&c->app, "export: exactly one ID expected");
	if (e.dir == NULL || e.dir[0] == '\0')
		app_usage_error(&c->app, "export: --maildir DIR is required");
	e.id = argv[optind];
	if ((rc = check_id(e.id)) != 0)
		return rc;
	/* The password is read before root becomes the service user: the
	 * file may be one only root can read. */
	if ((rc = read_password(pwfile, password, sizeof password, &plen)) != 0)
		goto out;
	if ((rc = ctx_open(c)) != 0)
		goto out;
	if (store_mailbox_load(&c->st, e.id, &e.mb) < 0)
		rc = fail_mailbox(e.id, errno);
	else
		rc = run(&e, password, plen);
out:
	wipe(password, sizeof password);
	return rc;
}

int read_escrow_identity(const char *path, struct age_identity *id)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (read_file_bounded(path, 16384, &text, &len) < 0) {
		fprintf(stderr, "msgw-mbox: %s: %s\n", path, strerror(errno));
		return errno == ENOENT ? EX_NOINPUT : errno == EACCES ? EX_NOPERM : EX_IOERR;
	}
	rc = age_identity_file_parse(text, len, id);
	wipe(text, len);
	free(text);
	if (rc != 0) {
		fprintf(stderr, "msgw-mbox: %s: not an age identity file (one AGE-SECRET-KEY-1... line): %s\n",
			path, age_strerror(rc));
		return EX_DATAERR;
	}
	return EX_OK;
}

int cmd_recover(struct ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "escrow-identity", required_argument, NULL, 'i' },
		{ "maildir", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	struct export e;
	const char *idfile = NULL;
	int opt, rc;

	memset(&e, 0, sizeof e);
	cmd_getopt_reset();
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'i': idfile = optarg; break;
		case 'm': e.dir = optarg; break;
		default: cmd_bad_option(c, argv);
		}
	}
	if (argc - optind != 1)
		app_usage_error(&c->app, "recover: exactly one ID expected");
	if (idfile == NULL || e.dir == NULL || e.dir[0] == '\0')
		app_usage_error(&c->app, "recover: --escrow-identity FILE and --maildir DIR are required");
	e.id = argv[optind];
	if ((rc = check_id(e.id)) != 0)
		return rc;
	/* Read before root becomes the service user, as a password file. */
	if ((rc = read_escrow_identity(idfile, &e.ident)) != 0)
		return rc;
	if ((rc = ctx_open(c)) != 0)
		goto out;
	if (store_mailbox_load(&c->st, e.id, &e.mb) < 0)
		rc = fail_mailbox(e.id, errno);
	else
		rc = export_all(&e);
out:
	age_identity_wipe(&e.ident);
	return rc;
}
