/* The per-mailbox index of upstream messages already recorded by the POP3
 * proxy, so a message fetched again (leave-on-server clients) is not
 * stored twice. One file <mailbox dir>/proxy-seen of fixed 33-byte records
 * (32 hex digits, LF). The proxy names a message by a digest of the
 * upstream account and its UIDL (seen_key, unkeyed: the parser computes it
 * without any secret); a record is HMAC-SHA256 (first 128 bits) of that
 * digest under the mailbox's own secret (proxy-seen.key), computed where
 * the file is touched (the store helper under privilege separation). So
 * no user name is kept in clear, and nobody without the secret can plant a
 * record that suppresses a copy. Bounded: past SEEN_MAX_RECORDS
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

#include "crypt/age.h"
#include "crypt/digest.h"
#include "proxy/proxy.h"
#include "store/helper.h"
#include "util/path.h"
#include "util/wipe.h"

#define REC (SEEN_KEY_LEN + 1)
#define SEEN_FILE "proxy-seen"
#define SEEN_KEY_FILE "proxy-seen.key"
#define SEEN_SECRET_LEN 32

static int write_new_file(const char *path, const void *p, size_t n);

/* The mailbox's secret for the index: 32 random bytes in SEEN_KEY_FILE,
 * made on first use (O_EXCL: of two sessions racing, one makes it, the
 * other reads it). Without it, nobody can compute a record that matches
 * a real message, so records planted in proxy-seen suppress nothing. */
static int seen_secret(const char *mbdir, uint8_t key[SEEN_SECRET_LEN])
{
	char path[PATH_MAX];
	int fd, tries;

	if (path_join(path, sizeof path, mbdir, SEEN_KEY_FILE) < 0)
		return -1;
	for (tries = 0; tries < 3; tries++) {
		if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0) {
			ssize_t n = read(fd, key, SEEN_SECRET_LEN);
			int e = errno;
			close(fd);
			if (n == SEEN_SECRET_LEN)
				return 0;
			errno = n < 0 ? e : EBADMSG; /* short: being written, or damaged */
		} else if (errno != ENOENT) {
			return -1;
		} else if (crypt_random(key, SEEN_SECRET_LEN) == 0 &&
		           write_new_file(path, key, SEEN_SECRET_LEN) == 0) {
			return 0;
		}
		usleep(10000);
	}
	wipe(key, SEEN_SECRET_LEN);
	return -1;
}

/* A new file with exactly these bytes, or -1 (EEXIST when another made it). */
static int write_new_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	int rc = -1;

	if (fd < 0)
		return -1;
	if (write(fd, p, n) == (ssize_t)n && fsync(fd) == 0)
		rc = 0;
	if (close(fd) != 0)
		rc = -1;
	if (rc < 0)
		(void)unlink(path);
	return rc;
}

static void hex128(const uint8_t mac[CRYPT_SHA256_SIZE], char out[SEEN_KEY_LEN + 1])
{
	for (size_t i = 0; i < SEEN_KEY_LEN / 2; i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
}

void seen_key(const char *account, const char *uidl, char out[SEEN_KEY_LEN + 1])
{
	static const char domain[] = "msgw proxy-seen v2";
	uint8_t mac[CRYPT_SHA256_SIZE];
	size_t al = strnlen(account, PROXY_USER_MAX + PROXY_HOST_MAX + 2);
	size_t ul = strnlen(uidl, 128);
	char msg[PROXY_USER_MAX + PROXY_HOST_MAX + 2 + 1 + 128];

	/* account NUL uidl: no byte of either is a NUL, so no two pairs meet;
	 * both are bounded by the log-in and UIDL parsers, and cut here. */
	memcpy(msg, account, al);
	msg[al] = '\0';
	memcpy(msg + al + 1, uidl, ul);
	crypt_hmac_sha256(domain, sizeof domain - 1, msg, al + 1 + ul, mac);
	hex128(mac, out);
}

/* The record stored for a message digest: keyed with the mailbox's secret. */
static int seen_record(const char *mbdir, const char *digest, char rec[SEEN_KEY_LEN + 1])
{
	uint8_t key[SEEN_SECRET_LEN], mac[CRYPT_SHA256_SIZE];

	if (seen_secret(mbdir, key) < 0)
		return -1;
	crypt_hmac_sha256(key, sizeof key, digest, SEEN_KEY_LEN, mac);
	hex128(mac, rec);
	wipe(key, sizeof key);
	wipe(mac, sizeof mac);
	return 0;
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

int seen_file_has(const char *mbdir, const char *digest)
{
	char path[PATH_MAX], blk[REC * 1024], key[SEEN_KEY_LEN + 1];
	int fd, found = 0;
	ssize_t r;

	if (seen_path(mbdir, path, sizeof path) < 0 || seen_record(mbdir, digest, key) < 0)
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

int seen_file_add(const char *mbdir, const char *digest)
{
	char path[PATH_MAX], rec[REC], key[SEEN_KEY_LEN + 1];
	struct stat st;
	int fd, rc = -1;

	if (seen_path(mbdir, path, sizeof path) < 0 || seen_record(mbdir, digest, key) < 0)
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
