/* Re-sealing a mailbox identity at the configured scrypt work factor after
 * a successful log-in, so identities sealed at an older cost move to the
 * new one without anybody typing the password again. Atomic: a new file
 * in the mailbox folder (exclusive create, fsync), renamed over
 * identity.age, then the folder fsynced; a crash leaves the old file or
 * the new one, and both open with the same password. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/admin.h"
#include "store/internal.h"
#include "util/log.h"
#include "util/path.h"

int store_write_sealed(const char *path, const struct age_identity *id, const char *pw,
		       size_t plen, int log_n)
{
	int fd, rc, saved;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	rc = age_identity_seal(id, time(NULL), pw, plen, log_n, fd);
	if (rc != 0)
		rc = store_age_errno(rc);
	else if (fsync(fd) < 0)
		rc = -1;
	saved = errno;
	if (close(fd) < 0 && rc == 0)
		rc = -1, saved = errno;
	if (rc < 0)
		unlink(path);
	errno = saved;
	return rc;
}

int store_identity_refresh(const struct store *st, const struct mailbox *mb,
			   const struct age_identity *id, const char *pw, size_t plen)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int want = st->cfg->crypt.scrypt_log_n, have, fd;

	if (path_join(path, sizeof path, mb->dir, "identity.age") < 0 ||
	    path_fmt(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) < 0)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return -1;
	have = age_scrypt_work_factor(fd);
	close(fd);
	if (have < 0)
		return store_age_errno(have);
	if (have == want)
		return 0;
	unlink(tmp);   /* left by a crashed process with our pid: never renamed */
	if (store_write_sealed(tmp, id, pw, plen, want) < 0)
		return -1;
	if (rename(tmp, path) < 0) {
		int saved = errno;

		unlink(tmp);
		errno = saved;
		return -1;
	}
	if (fsync_dir(mb->dir) < 0)
		return -1;
	log_info("event=identity_resealed mailbox=%s from_log_n=%d to_log_n=%d", mb->id, have, want);
	return 0;
}
