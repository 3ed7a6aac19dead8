/* Delivery: one pass over the message, one age encryptor per recipient
 * mailbox, each writing into that mailbox's tmp/. Commit finishes and
 * fsyncs every copy before the first rename into new/, and takes back the
 * renames already done if a later one fails, so a delivery is all or
 * nothing. A mailbox with an escrow recipient gets a second stanza; one
 * with de-duplication has its copy dropped when the index (store/dedup.h)
 * knows the content, which is hashed from after the trace header on. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/dedup.h"
#include "store/escrow.h"
#include "store/internal.h"
#include "store/remote.h"
#include "util/path.h"
#include "util/wipe.h"

#define TMP_CLEAN_LIMIT 1000

struct copy {
	char dir[PATH_MAX];                 /* the mailbox folder */
	char unique[STORE_NAME_MAX];
	char tmp[PATH_MAX];
	char final[PATH_MAX];
	int fd;
	struct age_encryptor *enc;
	int renamed;
	int64_t window;                     /* de-duplication window, 0: off */
	uint8_t dkey[STORE_DEDUP_KEY_SIZE];
	char dname[STORE_DEDUP_NAME_LEN + 1];
	int duplicate;                      /* dropped: the index knew it */
};

struct delivery {
	struct copy *c;
	size_t n;
	uint64_t wsize;     /* message bytes counted with CRLF line ends */
	int last_cr;
	int prepared;       /* every copy finished and fsynced in tmp/ */
	int err;            /* errno of the first failure; 0 while healthy */
	struct crypt_sha256 *hash;   /* of the content, when a copy de-duplicates */
	int traced;         /* delivery_trace came first: the hash is of the content */
	int written;
	int helper;         /* privilege separation: the store helper's socket, or -1 */
	unsigned slot;      /* this delivery's slot there */
	uint8_t *wbuf;      /* helper: what is not sent yet, at most one frame's worth */
	size_t wlen;
	uint8_t wtype;      /* WIRE_DATA or WIRE_TRACE: what wbuf holds */
};

/* One frame's payload after its slot byte: the helper wakes once per 64 KiB. */
#define WBUF_SIZE (WIRE_MAX_PAYLOAD - 1)

static void copy_discard(struct copy *c)
{
	if (c->enc) {
		age_encrypt_abort(c->enc);
		c->enc = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	if (c->tmp[0]) {
		unlink(c->tmp);
		c->tmp[0] = '\0';
	}
}

static void delivery_free(struct delivery *d)
{
	if (d->helper >= 0)
		remote_delivery_call(d->helper, d->slot, WIRE_ABORT);
	for (size_t i = 0; i < d->n; i++) {
		copy_discard(&d->c[i]);
		wipe(d->c[i].dkey, sizeof d->c[i].dkey);
	}
	crypt_sha256_free(d->hash);
	free(d->wbuf);
	free(d->c);
	free(d);
}

static int copy_begin(struct copy *c, const struct store *st, const struct mailbox *mb)
{
	struct age_recipient r[2];
	char tmpdir[PATH_MAX];
	int rc, escrow;

	if (mb->suspended) {
		errno = EPERM;
		return -1;
	}
	if (path_join(c->dir, sizeof c->dir, mb->dir, "") < 0 ||
	    path_join(tmpdir, sizeof tmpdir, mb->dir, "tmp") < 0)
		return -1;
	maildir_clean_tmp(tmpdir, STORE_TMP_MAX_AGE, TMP_CLEAN_LIMIT);
	if (store_read_recipient(mb, &r[0]) < 0 || (escrow = store_escrow_recipient(st, mb, &r[1])) < 0 ||
	    maildir_unique(c->unique, sizeof c->unique) < 0 ||
	    path_join(c->tmp, sizeof c->tmp, tmpdir, c->unique) < 0)
		return -1;
	c->window = mb->dedup_window;
	if (c->window > 0 && store_dedup_key(mb->dir, c->dkey) < 0)
		return -1;
	c->fd = open(c->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (c->fd < 0) {
		c->tmp[0] = '\0';
		return -1;
	}
	rc = age_encrypt_begin(&c->enc, r, escrow ? 2 : 1, c->fd);
	if (rc != 0) {
		c->enc = NULL;
		return store_age_errno(rc);
	}
	return 0;
}

int delivery_begin(struct delivery **dp, const struct store *st,
		   const struct mailbox *const *mbs, size_t n)
{
	struct delivery *d;
	int saved;

	*dp = NULL;
	if (n == 0 || mbs == NULL) {
		errno = EINVAL;
		return -1;
	}
	d = calloc(1, sizeof *d);
	if (d == NULL || (d->c = calloc(n, sizeof *d->c)) == NULL) {
		free(d);
		errno = ENOMEM;
		return -1;
	}
	d->helper = -1;
	if (st->cfg->store_helper.on) {
		if (remote_delivery_begin(st->cfg->store_helper.fd, mbs, n, &d->slot) < 0) {
			saved = errno;
			delivery_free(d);
			errno = saved;
			return -1;
		}
		d->helper = st->cfg->store_helper.fd;
		if ((d->wbuf = malloc(WBUF_SIZE)) == NULL) {
			delivery_free(d);
			errno = ENOMEM;
			return -1;
		}
		*dp = d;
		return 0;
	}
	for (d->n = 0; d->n < n; d->n++) {
		struct copy *c = &d->c[d->n];
		c->fd = -1;
		if (copy_begin(c, st, mbs[d->n]) < 0)
			goto fail;
		if (c->window > 0 && d->hash == NULL && (d->hash = crypt_sha256_new()) == NULL) {
			errno = ENOMEM;
			goto fail;
		}
	}
	*dp = d;
	return 0;
fail:
	saved = errno;
	d->n++;
	delivery_free(d);
	errno = saved;
	return -1;
}

/* A bare LF will go out as CRLF: it counts two. */
static void count_crlf(struct delivery *d, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n' && !d->last_cr)
			d->wsize++;
		d->last_cr = p[i] == '\r';
	}
	d->wsize += n;
}

static int remote_flush(struct delivery *d)
{
	size_t n = d->wlen;

	d->wlen = 0;
	if (n > 0 && remote_delivery_write(d->helper, d->slot, d->wtype, d->wbuf, n) < 0) {
		d->err = errno ? errno : EIO;
		return -1;
	}
	return 0;
}

/* To the helper in whole frames: small writes (a TLS record, a line) are
 * gathered, a large one goes straight out. */
static int remote_write(struct delivery *d, uint8_t type, const uint8_t *p, size_t n)
{
	if (d->wtype != type && remote_flush(d) < 0)
		return -1;
	d->wtype = type;
	if (d->wlen == 0 && n >= WBUF_SIZE) {
		size_t whole = n - n % WBUF_SIZE;
		if (remote_delivery_write(d->helper, d->slot, type, p, whole) < 0) {
			d->err = errno ? errno : EIO;
			return -1;
		}
		p += whole;
		n -= whole;
	}
	while (n > 0) {
		size_t k = WBUF_SIZE - d->wlen < n ? WBUF_SIZE - d->wlen : n;
		memcpy(d->wbuf + d->wlen, p, k);
		d->wlen += k;
		p += k;
		n -= k;
		if (d->wlen == WBUF_SIZE && remote_flush(d) < 0)
			return -1;
	}
	return 0;
}

/* type: WIRE_DATA, or WIRE_TRACE for msgw's trace header (to a helper). */
static int write_all(struct delivery *d, uint8_t type, const void *p, size_t n)
{
	int rc;

	if (d->prepared && !d->err)
		d->err = EINVAL;   /* the copies are already finished */
	if (d->err) {
		errno = d->err;
		return -1;
	}
	if (d->helper >= 0)
		return remote_write(d, type, p, n);
	count_crlf(d, p, n);
	for (size_t i = 0; i < d->n; i++) {
		rc = age_encrypt_update(d->c[i].enc, p, n);
		if (rc != 0) {
			store_age_errno(rc);
			d->err = errno;
			return -1;
		}
	}
	return 0;
}

int delivery_trace(struct delivery *d, const void *p, size_t n)
{
	if (d->written && !d->err)
		d->err = EINVAL;    /* the trace header comes first */
	if (write_all(d, WIRE_TRACE, p, n) < 0)
		return -1;
	d->traced = 1;
	d->written = 1;
	return 0;
}

int delivery_write(struct delivery *d, const void *p, size_t n)
{
	if (write_all(d, WIRE_DATA, p, n) < 0)
		return -1;
	d->written = 1;
	if (d->hash && d->traced)
		crypt_sha256_update(d->hash, p, n);
	return 0;
}

/* Finish the ciphertext, fsync, close: the copy is complete in tmp/. */
static int copy_finish(struct copy *c, uint64_t wsize)
{
	uint64_t total = 0;
	int rc = age_encrypt_finish(c->enc, &total);

	c->enc = NULL;
	if (rc != 0)
		return store_age_errno(rc);
	if (fsync(c->fd) < 0)
		return -1;
	rc = close(c->fd);
	c->fd = -1;
	if (rc < 0)
		return -1;
	return path_fmt(c->final, sizeof c->final, "%snew/%s,S=%llu,W=%llu", c->dir, c->unique,
			(unsigned long long)total, (unsigned long long)wsize);
}

static void undo_renames(struct delivery *d)
{
	for (size_t i = 0; i < d->n; i++) {
		struct copy *c = &d->c[i];
		if (c->renamed) {
			char newdir[PATH_MAX];
			unlink(c->final);
			if (path_join(newdir, sizeof newdir, c->dir, "new") == 0)
				fsync_dir(newdir);
			c->renamed = 0;
		}
	}
}

int delivery_prepare(struct delivery *d)
{
	if (d->prepared)
		return 0;
	if (d->err) {
		errno = d->err;
		return -1;
	}
	if (d->helper >= 0) {
		if (remote_flush(d) < 0 || remote_delivery_call(d->helper, d->slot, WIRE_PREPARE) < 0) {
			d->err = errno;
			return -1;
		}
		d->prepared = 1;
		return 0;
	}
	for (size_t i = 0; i < d->n; i++) {
		if (copy_finish(&d->c[i], d->wsize) < 0) {
			d->err = errno;
			return -1;
		}
	}
	d->prepared = 1;
	return 0;
}

/* Before the renames: drop the copies whose content the index knows. */
static void drop_known(struct delivery *d)
{
	uint8_t digest[CRYPT_SHA256_SIZE];

	if (d->hash == NULL || !d->traced)
		return;
	crypt_sha256_final(d->hash, digest);
	d->hash = NULL;
	for (size_t i = 0; i < d->n; i++) {
		struct copy *c = &d->c[i];
		if (c->window <= 0)
			continue;
		dedup_entry_name(c->dkey, digest, c->dname);
		if (dedup_seen(c->dir, c->dname, c->window)) {
			unlink(c->tmp);
			c->tmp[0] = '\0';
			c->duplicate = 1;
			dedup_count_dropped(c->dir);
		}
	}
}

/* A test hook (man/msgw-store.5): MSGW_TEST_CRASH=dedup-index kills the
 * process between the renames and the index update. */
static void crash_point(const char *where)
{
	const char *v = getenv("MSGW_TEST_CRASH");

	if (v != NULL && strcmp(v, where) == 0)
		raise(SIGKILL);
}

/* After every copy is durable: the index learns the new content. A copy
 * that lost a race with another delivery of the same content (another
 * gateway, another session) is taken back: the winner's copy is stored. */
static void index_copies(struct delivery *d)
{
	for (size_t i = 0; i < d->n; i++) {
		struct copy *c = &d->c[i];
		char newdir[PATH_MAX];
		if (c->window <= 0 || c->duplicate || c->dname[0] == '\0')
			continue;
		crash_point("dedup-index");
		if (dedup_record(c->dir, c->dname, c->window) == 1 && unlink(c->final) == 0) {
			if (path_join(newdir, sizeof newdir, c->dir, "new") == 0)
				fsync_dir(newdir);
			dedup_count_dropped(c->dir);
			c->duplicate = 1;
		}
		dedup_sweep(c->dir, c->window);
	}
}

/* The helper renames and fsyncs; without an answer the message is not taken. */
static int remote_commit(struct delivery *d)
{
	int rc, saved;

	(void)remote_flush(d);
	rc = d->err ? remote_delivery_call(d->helper, d->slot, WIRE_ABORT)
		    : remote_delivery_commit(d->helper, d->slot);
	saved = d->err ? d->err : errno;
	if (d->err)
		rc = -1;
	free(d->wbuf);
	free(d->c);
	free(d);
	errno = saved;
	return rc;
}

int delivery_commit(struct delivery *d)
{
	size_t i;
	int saved, dropped = 0;

	if (d->helper >= 0)
		return remote_commit(d);
	if (delivery_prepare(d) < 0)
		goto fail;
	drop_known(d);
	for (i = 0; i < d->n; i++) {
		struct copy *c = &d->c[i];
		char newdir[PATH_MAX];
		if (c->duplicate)
			continue;
		if (rename(c->tmp, c->final) < 0)
			goto fail;
		c->renamed = 1;
		c->tmp[0] = '\0';
		if (path_join(newdir, sizeof newdir, c->dir, "new") < 0 || fsync_dir(newdir) < 0)
			goto fail;
	}
	for (i = 0; i < d->n; i++)
		d->c[i].renamed = 0;
	index_copies(d);
	for (i = 0; i < d->n; i++)
		dropped += d->c[i].duplicate;
	delivery_free(d);
	return dropped;
fail:
	saved = errno;
	undo_renames(d);
	delivery_free(d);
	errno = saved;
	return -1;
}

void delivery_abort(struct delivery *d)
{
	if (d != NULL)
		delivery_free(d);
}
