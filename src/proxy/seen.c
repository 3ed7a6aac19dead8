/* The per-mailbox index of upstream messages already recorded by the POP3
 * proxy, so a message fetched again (leave-on-server clients) is not
 * stored twice. One file <mailbox dir>/proxy-seen of fixed 33-byte records
 * (32 hex digits, LF): a hash of the upstream account and the message's
 * UIDL, so no user name is kept in clear. Bounded: past SEEN_MAX_RECORDS
 * the oldest half is dropped. Writers hold an exclusive flock and write at
 * the end with pwrite (O_APPEND would defeat the in-place prune); readers
 * hold a shared one. Losing the file only means a copy may be stored
 * twice, never that one is missed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proxy/proxy.h"
#include "store/helper.h"
#include "util/path.h"

#define REC (SEEN_KEY_LEN + 1)
#define SEEN_FILE "proxy-seen"

/* FNV-1a over the input from two different bases, each finished with the
 * splitmix64 mixer: 128 bits, plenty against accidental collisions among a
 * mailbox's UIDLs. Not a secret and not a defence against an upstream that
 * picks colliding UIDLs on purpose (such an upstream controls the mail it
 * serves anyway). */
static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t fnv(uint64_t h, const char *a, const char *b)
{
	const unsigned char *p;

	for (p = (const unsigned char *)a; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	h = (h ^ 0xff) * 0x100000001b3ULL; /* separator: no byte of a name */
	for (p = (const unsigned char *)b; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	return mix(h);
}

void seen_key(const char *account, const char *uidl, char out[SEEN_KEY_LEN + 1])
{
	uint64_t a = fnv(0xcbf29ce484222325ULL, account, uidl);
	uint64_t b = fnv(0x84222325cbf29ce4ULL ^ a, account, uidl);

	snprintf(out, SEEN_KEY_LEN + 1, "%016llx%016llx", (unsigned long long)a,
	         (unsigned long long)b);
}

static int seen_path(const char *mbdir, char *out, size_t size)
{
	return path_join(out, size, mbdir, SEEN_FILE);
}

int seen_has(const struct proxy_box *b, const char *key)
{
	if (b->st.cfg->store_helper.on)
		return store_helper_seen(&b->st, b->mb.id, key, 0);
	return seen_file_has(b->mb.dir, key);
}

int seen_add(const struct proxy_box *b, const char *key)
{
	if (b->st.cfg->store_helper.on)
		return store_helper_seen(&b->st, b->mb.id, key, 1) < 0 ? -1 : 0;
	return seen_file_add(b->mb.dir, key);
}

int seen_file_has(const char *mbdir, const char *key)
{
	char path[PATH_MAX], blk[REC * 1024];
	int fd, found = 0;
	ssize_t r;

	if (seen_path(mbdir, path, sizeof path) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (flock(fd, LOCK_SH) < 0) {
		found = -1;
		goto out;
	}
	while (!found && (r = read(fd, blk, sizeof blk)) > 0) {
		size_t i;
		/* records are written whole; a short tail is ignored */
		for (i = 0; i + REC <= (size_t)r; i += REC)
			if (memcmp(blk + i, key, SEEN_KEY_LEN) == 0) {
				found = 1;
				break;
			}
		if ((size_t)r % REC != 0 && lseek(fd, -(off_t)((size_t)r % REC), SEEK_CUR) < 0)
			break;
	}
out:
	close(fd);
	return found;
}

/* Keep the newest half of the records, in place (the file is locked). */
static int prune(int fd, off_t size)
{
	size_t keep = (SEEN_MAX_RECORDS / 2) * REC;
	off_t from = size - (off_t)keep;
	char *tail;
	int rc = -1;

	if (from < 0)
		return 0;
	if ((tail = malloc(keep)) == NULL)
		return -1;
	if (pread(fd, tail, keep, from) != (ssize_t)keep)
		goto out;
	if (pwrite(fd, tail, keep, 0) != (ssize_t)keep || ftruncate(fd, (off_t)keep) < 0)
		goto out;
	rc = 0;
out:
	free(tail);
	return rc;
}

int seen_file_add(const char *mbdir, const char *key)
{
	char path[PATH_MAX], rec[REC];
	struct stat st;
	int fd, rc = -1;

	if (seen_path(mbdir, path, sizeof path) < 0)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX) < 0 || fstat(fd, &st) < 0)
		goto out;
	if (st.st_size % REC != 0 && ftruncate(fd, st.st_size - st.st_size % REC) < 0)
		goto out; /* a torn record from a crash: drop it */
	if (st.st_size / REC >= SEEN_MAX_RECORDS && prune(fd, st.st_size - st.st_size % REC) < 0)
		goto out;
	if (fstat(fd, &st) < 0)
		goto out;
	memcpy(rec, key, SEEN_KEY_LEN);
	rec[SEEN_KEY_LEN] = '\n';
	/* no fsync: a record lost in a crash only costs a duplicate copy */
	if (pwrite(fd, rec, REC, st.st_size) != REC)
		goto out;
	rc = 0;
out:
	close(fd);
	return rc;
}
