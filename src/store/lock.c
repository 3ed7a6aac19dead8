/* The maildrop lock (RFC 1939 asks for an exclusive one per maildrop).
 * flock/fcntl locks are unreliable over NFS, so this is the classic
 * link(2) lock: write a unique file naming host and pid, link it to
 * maildrop.lock, and trust the link count rather than link's return value
 * (NFS may report a failure for a link that succeeded). A lock is broken
 * only when provably stale: it names this host and its pid no longer runs. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypt/age.h"
#include "store/admin.h"
#include "store/internal.h"
#include "util/fdio.h"
#include "util/path.h"

#define LOCK_TRIES 3

static void host_name(char *out, size_t size)
{
	if (gethostname(out, size) < 0 || out[0] == '\0')
		snprintf(out, size, "localhost");
	out[size - 1] = '\0';
	for (char *p = out; *p; p++)
		if (*p == ' ' || *p == '\n' || *p == '/')
			*p = '_';
}

/* Is the lock at path held by a dead process of this host? On 1, *ino is
 * the inode that was examined. */
static int lock_is_stale(const char *path, ino_t *ino)
{
	char buf[160], me[64], host[64];
	long pid;
	ssize_t n;
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), stale = 0;

	if (fd < 0)
		return 0;
	if (fstat(fd, &sb) < 0)
		goto out;
	n = read(fd, buf, sizeof buf - 1);
	if (n <= 0)
		goto out;
	buf[n] = '\0';
	host_name(me, sizeof me);
	if (sscanf(buf, "%63s %ld", host, &pid) != 2 || pid <= 0 || strcmp(host, me) != 0)
		goto out;
	if (kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
		stale = 1;
		*ino = sb.st_ino;
	}
out:
	close(fd);
	return stale;
}

/* Move a stale lock aside and remove it, unless in the meantime it was
 * replaced by a live one (then put that one back). */
static void lock_break(const struct store_lock *l, ino_t stale_ino)
{
	char aside[PATH_MAX];
	struct stat sb;

	if (path_fmt(aside, sizeof aside, "%s.stale.%ld", l->path, (long)getpid()) < 0)
		return;
	if (rename(l->path, aside) < 0)
		return;
	if (stat(aside, &sb) == 0 && sb.st_ino != stale_ino) {
		if (link(aside, l->path) < 0 && errno != EEXIST)
			return;
	}
	unlink(aside);
}

static int lock_try(struct store_lock *l, const char *tmp)
{
	struct stat sb;

	if (link(tmp, l->path) == 0)
		return 0;
	/* On NFS a lost reply makes link fail although it worked. */
	if (stat(tmp, &sb) == 0 && sb.st_nlink == 2)
		return 0;
	return -1;
}

int store_lock_take(struct store_lock *l, const char *mbdir)
{
	char tmp[PATH_MAX], host[64];
	unsigned char r[8];
	int fd = -1, rc = -1, saved, i;
	ino_t ino;

	memset(l, 0, sizeof *l);
	host_name(host, sizeof host);
	if (crypt_random(r, sizeof r) != 0)
		return store_age_errno(AGE_ERR_IO);
	snprintf(l->token, sizeof l->token, "%s %ld %02x%02x%02x%02x%02x%02x%02x%02x\n", host,
		 (long)getpid(), r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
	if (path_join(l->path, sizeof l->path, mbdir, STORE_LOCK_NAME) < 0 ||
	    path_fmt(tmp, sizeof tmp, "%s.%s.%ld.%02x%02x%02x%02x", l->path, host, (long)getpid(),
		     r[0], r[1], r[2], r[3]) < 0)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	if (fd_write_all(fd, l->token, strlen(l->token)) < 0 || fsync(fd) < 0)
		goto out;
	for (i = 0; i < LOCK_TRIES; i++) {
		if (lock_try(l, tmp) == 0) {
			l->held = 1;
			rc = 0;
			goto out;
		}
		if (errno != EEXIST && errno != ENOENT)
			goto out;
		if (!lock_is_stale(l->path, &ino))
			break;
		lock_break(l, ino);
	}
	errno = EBUSY;
out:
	saved = errno;
	close(fd);
	unlink(tmp);
	errno = saved;
	return rc;
}

int store_lock_holder(const struct mailbox *mb, char *out, size_t size)
{
	char path[PATH_MAX], buf[160], host[64];
	long pid;
	ssize_t n;
	int fd;

	if (path_join(path, sizeof path, mb->dir, STORE_LOCK_NAME) < 0)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (sscanf(buf, "%63s %ld", host, &pid) == 2)
		snprintf(out, size, "%s %ld", host, pid);
	else
		snprintf(out, size, "unreadable lock file");
	return 1;
}

/* Remove the lock only while it is still ours (its text is our token). */
void store_lock_release(struct store_lock *l)
{
	char buf[sizeof l->token];
	ssize_t n;
	int fd;

	if (!l->held)
		return;
	l->held = 0;
	fd = open(l->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		if (strcmp(buf, l->token) == 0)
			unlink(l->path);
	}
}
