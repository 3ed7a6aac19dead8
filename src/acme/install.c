#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acme/install.h"
#include "util/fdio.h"
#include "acme/x509.h"
#include "conf/conf.h"
#include "util/path.h"

static int parent_dir(const char *path, char *out, size_t size)
{
	char tmp[PATH_MAX];

	if (path_fmt(tmp, sizeof tmp, "%s", path) < 0)
		return -1;
	return path_fmt(out, size, "%s", dirname(tmp));
}

/* Create the parent directory when it is missing (one level). */
static int ensure_parent(const char *path, int dir_mode, struct acme_err *e)
{
	char dir[PATH_MAX];

	if (parent_dir(path, dir, sizeof dir) < 0)
		return aerr(e, "%s: %s", path, strerror(errno));
	if (mkdir(dir, (mode_t)dir_mode) < 0 && errno != EEXIST)
		return aerr(e, "%s: %s", dir, strerror(errno));
	return 0;
}

/* path.tmp.PID with data, fsynced; owner kept from the file it replaces. */
static int write_tmp(const char *path, char *tmp, size_t tmpsize, const void *data, size_t len,
		     int mode, struct acme_err *e)
{
	struct stat st;
	int fd;

	if (path_fmt(tmp, tmpsize, "%s.tmp.%ld", path, (long)getpid()) < 0)
		return aerr(e, "%s: %s", path, strerror(errno));
	unlink(tmp); /* a leftover of a crashed run with the same pid */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return aerr(e, "%s: %s", tmp, strerror(errno));
	if (fchmod(fd, (mode_t)mode) < 0 || fd_write_all(fd, data, len) < 0)
		goto fail;
	/* Keep the owner and group of the file being replaced (root installs a
	 * key the msgw group can read); failure to do so is not fatal. */
	if (geteuid() == 0 && stat(path, &st) == 0 && fchown(fd, st.st_uid, st.st_gid) < 0) {
		/* keep root's ownership */
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	aerr(e, "%s: %s", tmp, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

/* path.old becomes a hard link to the current path (if there is one). */
static int keep_old(const char *path, struct acme_err *e)
{
	char old[PATH_MAX], oldtmp[PATH_MAX];

	if (access(path, F_OK) < 0)
		return errno == ENOENT ? 0 : aerr(e, "%s: %s", path, strerror(errno));
	if (path_fmt(old, sizeof old, "%s.old", path) < 0 ||
	    path_fmt(oldtmp, sizeof oldtmp, "%s.old.tmp.%ld", path, (long)getpid()) < 0)
		return aerr(e, "%s: %s", path, strerror(errno));
	unlink(oldtmp);
	if (link(path, oldtmp) < 0)
		return aerr(e, "%s: %s", oldtmp, strerror(errno));
	if (rename(oldtmp, old) < 0) {
		aerr(e, "%s: %s", old, strerror(errno));
		unlink(oldtmp);
		return -1;
	}
	return 0;
}

static int sync_parent(const char *path, struct acme_err *e)
{
	char dir[PATH_MAX];

	if (parent_dir(path, dir, sizeof dir) < 0 || fsync_dir(dir) < 0)
		return aerr(e, "%s: fsync of the directory: %s", path, strerror(errno));
	return 0;
}

int install_file(const char *path, const void *data, size_t len, int mode, int dir_mode,
		 struct acme_err *e)
{
	char tmp[PATH_MAX];

	if (ensure_parent(path, dir_mode, e) < 0 || write_tmp(path, tmp, sizeof tmp, data, len, mode, e) < 0)
		return -1;
	if (rename(tmp, path) < 0) {
		aerr(e, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return sync_parent(path, e);
}

int install_pair(const char *cert_path, const char *cert_pem, size_t cert_len,
		 const char *key_path, const char *key_pem, size_t key_len, struct acme_err *e)
{
	char ktmp[PATH_MAX], ctmp[PATH_MAX];
	int rc = -1, have_k = 0, have_c = 0;

	if (strcmp(cert_path, key_path) == 0)
		return aerr(e, "tls.cert and tls.key name the same file %s", cert_path);
	if (ensure_parent(key_path, 0755, e) < 0 || ensure_parent(cert_path, 0755, e) < 0)
		return -1;
	if (write_tmp(key_path, ktmp, sizeof ktmp, key_pem, key_len, 0600, e) < 0)
		goto out;
	have_k = 1;
	if (write_tmp(cert_path, ctmp, sizeof ctmp, cert_pem, cert_len, 0644, e) < 0)
		goto out;
	have_c = 1;
	if (keep_old(key_path, e) < 0 || keep_old(cert_path, e) < 0)
		goto out;
	/* The key first: a server reading between the two renames fails one
	 * handshake on a mismatch rather than serving a cert with no key. */
	if (rename(ktmp, key_path) < 0) {
		aerr(e, "%s: %s", key_path, strerror(errno));
		goto out;
	}
	have_k = 0;
	if (rename(ctmp, cert_path) < 0) {
		int saved = errno;
		char old[PATH_MAX];
		/* Put the old key back so the pair stays consistent. */
		if (path_fmt(old, sizeof old, "%s.old", key_path) == 0 && access(old, F_OK) == 0 &&
		    link(old, ktmp) == 0 && rename(ktmp, key_path) < 0)
			unlink(ktmp);
		aerr(e, "%s: %s", cert_path, strerror(saved));
		goto out;
	}
	have_c = 0;
	if (sync_parent(key_path, e) < 0 || sync_parent(cert_path, e) < 0)
		goto out;
	rc = 0;
out:
	if (have_k)
		unlink(ktmp);
	if (have_c)
		unlink(ctmp);
	return rc;
}

/* Key and chain (PEM) to key_path / cert_path. */
static int install_slot(const char *cert_path, const char *key_path, const struct akey *k,
			const struct achain *c, struct acme_err *e)
{
	struct buf kp, cp;
	int rc = -1;

	buf_init(&kp, ACME_FILE_MAX);
	buf_init(&cp, ACME_FILE_MAX);
	if (akey_to_pem(k, &kp, e) < 0 || achain_to_pem(c, &cp, e) < 0)
		goto out;
	rc = install_pair(cert_path, cp.data, cp.len, key_path, kp.data, kp.len, e);
out:
	buf_wipe_free(&kp);
	buf_free(&cp);
	return rc;
}

/* Key and chain (PEM) to tls.key / tls.cert. */
int install_tls(const struct config *cfg, const struct akey *k, const struct achain *c,
		struct acme_err *e)
{
	return install_slot(cfg->tls.cert, cfg->tls.key, k, c, e);
}

/* Out of service: path.old keeps it, path goes (the certificate first, so
 * a front end never finds a certificate without its key). */
static int retire(const char *path, struct acme_err *e)
{
	if (keep_old(path, e) < 0)
		return -1;
	if (unlink(path) < 0 && errno != ENOENT)
		return aerr(e, "%s: %s", path, strerror(errno));
	return 0;
}

/* One pair: tls.cert/tls.key, and a second (RSA) pair left from before is
 * retired, so it is not served past its time. Two pairs: the RSA one to
 * tls.rsa_cert/tls.rsa_key, the other to tls.cert/tls.key. */
int install_tls_set(const struct config *cfg, struct akey *const *k, struct achain *const *c, size_t n,
		    struct acme_err *e)
{
	const char *rc_path = cfg->tls.rsa_cert, *rk_path = cfg->tls.rsa_key;
	size_t r;

	if (n == 1) {
		if (install_tls(cfg, k[0], c[0], e) < 0)
			return -1;
		if (rc_path[0] == '\0' || (access(rc_path, F_OK) < 0 && errno == ENOENT))
			return 0;
		return retire(rc_path, e) < 0 || retire(rk_path, e) < 0 ? -1 : sync_parent(rc_path, e);
	}
	if (n != 2 || akey_is_rsa(k[0]) == akey_is_rsa(k[1]))
		return aerr(e, "two pairs must be one RSA and one ECDSA");
	if (rc_path[0] == '\0' || rk_path[0] == '\0')
		return aerr(e, "tls.rsa_cert and tls.rsa_key must be set for a second (RSA) pair");
	r = akey_is_rsa(k[0]) ? 0 : 1;
	if (install_tls(cfg, k[1 - r], c[1 - r], e) < 0)
		return -1;
	return install_slot(rc_path, rk_path, k[r], c[r], e);
}
