/* The recorded copy: one delivery into the named mailbox per message,
 * started with the proxy's trace header, committed only when the message
 * really went through. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proxy/proxy.h"
#include "util/path.h"

int box_open(struct proxy_box *b, const struct config *cfg, const char *id)
{
	if (store_init(&b->st, cfg) < 0)
		return -1;
	if (store_mailbox_load(&b->st, id, &b->mb) < 0)
		return -1;
	if (b->mb.suspended) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

int tee_begin(struct tee *t, const struct proxy_box *b, const char *header, size_t hlen,
              uint64_t max)
{
	const struct mailbox *mbs[1] = {&b->mb};

	memset(t, 0, sizeof *t);
	t->max = max;
	t->dir = b->mb.dir;
	t->box = b;
	if (delivery_begin(&t->d, &b->st, mbs, 1) < 0) {
		t->err = errno ? errno : EIO;
		t->d = NULL;
		return -1;
	}
	if (hlen > 0 && delivery_write(t->d, header, hlen) < 0) {
		t->err = errno ? errno : EIO;
		delivery_abort(t->d);
		t->d = NULL;
		return -1;
	}
	return 0;
}

int tee_active(const struct tee *t)
{
	return t->d != NULL;
}

int tee_write(struct tee *t, const void *p, size_t n)
{
	if (t->d == NULL)
		return -1;
	if (t->bytes + n > t->max) {
		t->err = EFBIG;
		goto fail;
	}
	if (delivery_write(t->d, p, n) < 0) {
		t->err = errno ? errno : EIO;
		goto fail;
	}
	t->bytes += n;
	return 0;
fail:
	delivery_abort(t->d);
	t->d = NULL;
	return -1;
}

int tee_commit(struct tee *t)
{
	struct delivery *d = t->d;

	if (d == NULL)
		return -1;
	t->d = NULL;
	if (delivery_commit(d) < 0) {
		t->err = errno ? errno : EIO;
		return -1;
	}
	return 0;
}

void tee_abort(struct tee *t)
{
	if (t->d)
		delivery_abort(t->d);
	t->d = NULL;
}

/* Before the final dot (or BDAT LAST) goes upstream, the copy is
 * finished and fsynced in tmp/ (delivery_prepare): a full disk then means
 * a temporary error and nothing sent, never a sent message without its
 * copy. Only the rename into new/ waits for the upstream's answer. */
int tee_ready(struct tee *t)
{
	/* Finish and fsync the copy now: after this only renames remain, so
	 * the message may go upstream without ever leaving unrecorded. */
	if (t->d == NULL)
		return -1;
	if (delivery_prepare(t->d) < 0) {
		t->err = errno ? errno : EIO;
		tee_abort(t);
		return -1;
	}
	return 0;
}

static void *commit_main(void *arg)
{
	struct committer *c = arg;

	c->rc = tee_commit(&c->tee);
	c->seen_rc = 0;
	if (c->rc == 0 && c->key[0] && seen_add(c->tee.box, c->key) < 0)
		c->seen_rc = errno ? errno : EIO;
	return NULL;
}

int committer_wait(struct committer *c)
{
	if (!c->running)
		return 0;
	if (c->threaded)
		pthread_join(c->th, NULL);
	c->running = 0;
	return 1;
}

void committer_start(struct committer *c, struct tee *t, const char *seen_key)
{
	c->tee = *t;
	t->d = NULL;
	snprintf(c->key, sizeof c->key, "%s", seen_key ? seen_key : "");
	c->threaded = pthread_create(&c->th, NULL, commit_main, c) == 0;
	if (!c->threaded) /* no thread to be had: commit right here */
		(void)commit_main(c);
	c->running = 1;
}
