/* The de-duplication index of a mailbox (store/dedup.h). Layout:
 *   <mailbox>/dedup.key        32 random bytes, mode 0600
 *   <mailbox>/dedup/<64 hex>   one name per stored message: a hard link to an anchor
 *   <mailbox>/dedup/.a-<span>-<pid>-<host>  the anchor of one process for one
 *                              span of time (window/24, 1 min to 1 h); mtime = made
 *   <mailbox>/dedup/.swept     mtime = last sweep
 *   <mailbox>/dedup/.dropped   one byte per duplicate dropped
 * Everything is a plain create, stat, utime or unlink, which NFS and
 * GlusterFS do atomically; no lock is taken. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/dedup.h"
#include "store/internal.h"
#include "util/fdio.h"
#include "util/path.h"
#include "util/wipe.h"

#define SWEEP_EVERY 3600
#define ANCHOR_PREFIX ".a-"
#define ANCHOR_SPAN_MIN 60
#define ANCHOR_SPAN_MAX 3600
#define SWEEP_SCAN_MAX (4 * STORE_DEDUP_INDEX_MAX)
#define DROPPED_MAX (1LL << 30)   /* the counter file stops growing here */

int store_dedup_window_parse(const char *s, int64_t *seconds)
{
	char *end;
	long long v, unit = 1;

	if (strcmp(s, "off") == 0) {
		*seconds = 0;
		return 0;
	}
	if (s[0] < '0' || s[0] > '9')
		goto bad;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0)
		goto bad;
	if (*end != '\0') {
		switch (*end) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		default: goto bad;
		}
		if (end[1] != '\0')
			goto bad;
	}
	if (v > STORE_DEDUP_WINDOW_MAX / unit)
		goto bad;
	*seconds = v * unit;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

void store_dedup_window_format(int64_t w, char *out, size_t size)
{
	if (w == 0)
		snprintf(out, size, "off");
	else if (w % 86400 == 0)
		snprintf(out, size, "%lldd", (long long)(w / 86400));
	else if (w % 3600 == 0)
		snprintf(out, size, "%lldh", (long long)(w / 3600));
	else if (w % 60 == 0)
		snprintf(out, size, "%lldm", (long long)(w / 60));
	else
		snprintf(out, size, "%llds", (long long)w);
}

static int read_key(const char *path, uint8_t key[STORE_DEDUP_KEY_SIZE])
{
	char *text = NULL;
	size_t len = 0;
	int rc = -1;

	if (read_file_bounded(path, 64, &text, &len) < 0)
		return -1;
	if (len == STORE_DEDUP_KEY_SIZE) {
		memcpy(key, text, STORE_DEDUP_KEY_SIZE);
		rc = 0;
	} else {
		errno = EBADMSG;
	}
	wipe(text, len);
	free(text);
	return rc;
}

/* A fresh random key in a unique file, linked to path: the first link
 * wins, the others then read the winner's key. */
static int create_key(const char *mbdir, const char *path)
{
	uint8_t key[STORE_DEDUP_KEY_SIZE], r[8];
	char tmp[PATH_MAX];
	int fd, rc = -1, saved;

	if (crypt_random(key, sizeof key) != 0 || crypt_random(r, sizeof r) != 0)
		return store_age_errno(AGE_ERR_IO);
	if (path_fmt(tmp, sizeof tmp, "%s/.dedup.key.%ld.%02x%02x%02x%02x%02x%02x%02x%02x", mbdir,
		     (long)getpid(), r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]) < 0)
		goto out;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		goto out;
	if (fd_write_all(fd, key, sizeof key) < 0 || fsync(fd) < 0) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		goto out;
	}
	if (close(fd) < 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		goto out;
	}
	/* NFS may report a link that happened as failed: the key file
	 * itself is the answer, read below. */
	(void)link(tmp, path);
	unlink(tmp);
	rc = fsync_dir(mbdir);
out:
	wipe(key, sizeof key);
	return rc;
}

int store_dedup_key(const char *mbdir, uint8_t key[STORE_DEDUP_KEY_SIZE])
{
	char path[PATH_MAX];

	if (path_join(path, sizeof path, mbdir, "dedup.key") < 0)
		return -1;
	if (read_key(path, key) == 0)
		return 0;
	if (errno != ENOENT || create_key(mbdir, path) < 0)
		return -1;
	return read_key(path, key);
}

void dedup_entry_name(const uint8_t key[STORE_DEDUP_KEY_SIZE],
		      const uint8_t digest[CRYPT_SHA256_SIZE], char name[STORE_DEDUP_NAME_LEN + 1])
{
	uint8_t mac[CRYPT_SHA256_SIZE];

	crypt_hmac_sha256(key, STORE_DEDUP_KEY_SIZE, digest, CRYPT_SHA256_SIZE, mac);
	for (size_t i = 0; i < sizeof mac; i++)
		snprintf(name + 2 * i, 3, "%02x", mac[i]);
}

static int entry_path(char *out, size_t size, const char *mbdir, const char *name)
{
	return path_fmt(out, size, "%s/dedup/%s", mbdir, name);
}

/* An entry dated in the future (clock skew between hosts) counts as fresh. */
static int fresh(const struct stat *sb, int64_t window, time_t now)
{
	return (int64_t)sb->st_mtime > (int64_t)now - window;
}

int dedup_seen(const char *mbdir, const char *name, int64_t window)
{
	char path[PATH_MAX];
	struct stat sb;

	if (entry_path(path, sizeof path, mbdir, name) < 0 || stat(path, &sb) < 0)
		return 0;
	return fresh(&sb, window, time(NULL));
}

/* Create a file of <mbdir>/dedup (made on first use): the fd, or -1. */
static int open_in_index(const char *mbdir, const char *path, int flags)
{
	char dir[PATH_MAX];
	int fd = open(path, flags | O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd >= 0 || errno != ENOENT)
		return fd;
	if (path_join(dir, sizeof dir, mbdir, "dedup") < 0 || store_mkdir(dir) < 0)
		return -1;
	return open(path, flags | O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
}

/* Entries are hard links to an anchor: an empty file of this process for
 * one span of time, whose mtime dates them all. A link costs a fraction
 * of a file creation, which matters at one entry per message. */
static time_t anchor_span(int64_t window)
{
	int64_t span = window / 24;

	return (time_t)(span < ANCHOR_SPAN_MIN ? ANCHOR_SPAN_MIN : span > ANCHOR_SPAN_MAX ? ANCHOR_SPAN_MAX : span);
}

static int anchor_path(char *out, size_t size, const char *mbdir, int64_t window)
{
	char host[STORE_HOST_MAX];

	maildir_host(host);
	return path_fmt(out, size, "%s/dedup/" ANCHOR_PREFIX "%lld-%ld-%s", mbdir,
			(long long)(time(NULL) / anchor_span(window)), (long)getpid(), host);
}

/* Link path to the anchor, made when missing; where hard links are not
 * possible, a file of its own with O_EXCL. EEXIST when path exists. */
static int make_entry(const char *mbdir, const char *path, const char *anchor)
{
	int fd;

	if (link(anchor, path) == 0)
		return 0;
	if (errno == ENOENT && (fd = open_in_index(mbdir, anchor, 0)) >= 0) {
		close(fd);
		if (link(anchor, path) == 0)
			return 0;
	}
	if (errno != EMLINK && errno != EPERM && errno != ENOTSUP && errno != EXDEV && errno != ENOENT)
		return -1;
	fd = open_in_index(mbdir, path, O_EXCL);
	return fd < 0 ? -1 : close(fd);
}

/* 0 when the entry is ours, 1 when another delivery's fresh entry is
 * there, 2 when a stale one is, -1 on errors. */
static int try_entry(const char *mbdir, const char *path, const char *anchor, int64_t window)
{
	struct stat sb, ab;

	if (make_entry(mbdir, path, anchor) == 0)
		return 0;
	if (errno != EEXIST || stat(path, &sb) < 0)
		return -1;
	if (!fresh(&sb, window, time(NULL)))
		return 2;
	/* Our own link reported as failed (a retransmitted NFS LINK) is no
	 * other delivery: keeping our copy costs at most a duplicate. */
	if (stat(anchor, &ab) == 0 && ab.st_dev == sb.st_dev && ab.st_ino == sb.st_ino)
		return 0;
	return 1;
}

int dedup_record(const char *mbdir, const char *name, int64_t window)
{
	char path[PATH_MAX], anchor[PATH_MAX];
	int rc;

	if (entry_path(path, sizeof path, mbdir, name) < 0 ||
	    anchor_path(anchor, sizeof anchor, mbdir, window) < 0)
		return -1;
	/* Entries are made only after their message is durable: a fresh
	 * one of another delivery means this content is stored. */
	rc = try_entry(mbdir, path, anchor, window);
	if (rc != 2)
		return rc;
	if (unlink(path) < 0 && errno != ENOENT)
		return -1;
	rc = try_entry(mbdir, path, anchor, window);
	return rc == 2 ? -1 : rc;
}

void dedup_count_dropped(const char *mbdir)
{
	char path[PATH_MAX];
	struct stat sb;
	int fd;

	if (entry_path(path, sizeof path, mbdir, ".dropped") < 0)
		return;
	fd = open_in_index(mbdir, path, O_APPEND);
	if (fd < 0)
		return;
	if (fstat(fd, &sb) == 0 && sb.st_size < DROPPED_MAX)
		(void)fd_write_all(fd, "d", 1);
	close(fd);
}

static int entry_name_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == STORE_DEDUP_NAME_LEN;
}

/* 1 when this process should sweep now (and has claimed it). */
static int sweep_due(const char *dir, time_t now)
{
	char path[PATH_MAX];
	struct stat sb;
	int fd;

	if (path_join(path, sizeof path, dir, ".swept") < 0)
		return 0;
	if (stat(path, &sb) == 0)
		return sb.st_mtime + SWEEP_EVERY <= now && utimensat(AT_FDCWD, path, NULL, 0) == 0;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

void dedup_sweep(const char *mbdir, int64_t window)
{
	char dir[PATH_MAX];
	DIR *d;
	struct dirent *e;
	time_t now = time(NULL);
	size_t seen = 0, kept = 0;

	if (path_join(dir, sizeof dir, mbdir, "dedup") < 0 || !sweep_due(dir, now) ||
	    (d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL && seen++ < SWEEP_SCAN_MAX) {
		struct stat sb;
		int anchor = strncmp(e->d_name, ANCHOR_PREFIX, strlen(ANCHOR_PREFIX)) == 0;
		if ((!anchor && !entry_name_valid(e->d_name)) ||
		    fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		/* An anchor's name goes after its span; its entries keep the file. */
		if (anchor) {
			if (sb.st_mtime + 2 * anchor_span(window) < now)
				unlinkat(dirfd(d), e->d_name, 0);
			continue;
		}
		/* Past the cap, the entries beyond it go too: each costs at
		 * most one duplicate later. */
		if (!fresh(&sb, window, now) || kept >= STORE_DEDUP_INDEX_MAX)
			unlinkat(dirfd(d), e->d_name, 0);
		else
			kept++;
	}
	closedir(d);
}

int store_dedup_stats(const struct mailbox *mb, struct store_dedup_stats *s)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct stat sb;
	DIR *d;
	struct dirent *e;
	size_t seen = 0;

	memset(s, 0, sizeof *s);
	if (path_join(dir, sizeof dir, mb->dir, "dedup") < 0 ||
	    path_join(path, sizeof path, dir, ".dropped") < 0)
		return -1;
	if (stat(path, &sb) == 0)
		s->dropped = (uint64_t)sb.st_size;
	else if (errno != ENOENT)
		return -1;
	d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d)) != NULL && seen++ < SWEEP_SCAN_MAX)
		if (entry_name_valid(e->d_name))
			s->entries++;
	closedir(d);
	return 0;
}
