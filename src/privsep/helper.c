/* The store helper: the only process of a connection with the store's
 * credentials. It reads wire frames (store/wire.h) from the parser and
 * does the file work; every request is checked against what this role
 * and this state allow, and anything else ends the helper (and with it
 * the session). Its reading buffer holds the password during a log-in:
 * it is secure memory, wiped after each request. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privsep/privsep.h"
#include "proxy/proxy.h"
#include "store/wire.h"
#include "util/fdio.h"
#include "util/log.h"
#include "util/secmem.h"
#include "util/wipe.h"

#define HELPER_MAX_LOGINS 16

/* A commit runs in a thread of its own, so the next message's frames are
 * read (and its file written) while this one's fsyncs run; it says
 * COMMITTED unasked when done. */
struct commit {
	struct helper *h;
	struct delivery *d;
	unsigned slot;
	pthread_t th;
	int running; /* th is to be joined */
};

struct helper {
	struct store st;
	enum privsep_role role;
	int fd;
	pthread_mutex_t send_mu; /* frames whole on the socket: the commits send too */
	struct commit c[WIRE_SLOTS];
	struct delivery *d[WIRE_SLOTS];
	int failed[WIRE_SLOTS]; /* WIRE_FAILED sent for this delivery */
	struct maildrop *md;
	int logins;  /* log-in attempts so far */
	int md_done; /* the maildrop was closed: no second log-in */
	struct wire_frame *f;
};

static int hsend(struct helper *h, uint8_t type, const void *a, size_t alen, const void *b,
                 size_t blen, int pass_fd)
{
	int rc;

	pthread_mutex_lock(&h->send_mu);
	rc = wire_send(h->fd, type, a, alen, b, blen, pass_fd);
	pthread_mutex_unlock(&h->send_mu);
	return rc;
}

static int send_u32(struct helper *h, uint8_t type, int v)
{
	uint8_t p[4];

	wire_put32(p, (uint32_t)v);
	return hsend(h, type, p, sizeof p, NULL, 0, -1);
}

static int reply(struct helper *h, int err)
{
	return send_u32(h, WIRE_STATUS, err);
}

static int reply_rc(struct helper *h, int rc)
{
	return reply(h, rc < 0 ? (errno ? errno : EIO) : 0);
}

static int begin(struct helper *h, unsigned slot)
{
	char(*ids)[MAILBOX_ID_LEN + 1] = malloc(WIRE_MAX_RCPT * sizeof *ids);
	struct mailbox *mbs = NULL;
	const struct mailbox **ptrs = NULL;
	size_t n = 0;
	int rc = -1;

	if (ids == NULL || h->d[slot] != NULL ||
	    wire_parse_ids(h->f->p + 1, h->f->len - 1, ids, &n) < 0)
		goto out;
	rc = 0;
	mbs = calloc(n, sizeof *mbs);
	ptrs = calloc(n, sizeof *ptrs);
	if (mbs == NULL || ptrs == NULL) {
		rc = reply(h, ENOMEM);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (store_mailbox_load(&h->st, ids[i], &mbs[i]) < 0) {
			rc = reply_rc(h, -1);
			goto out;
		}
		ptrs[i] = &mbs[i];
	}
	rc = reply_rc(h, delivery_begin(&h->d[slot], &h->st, ptrs, n));
out:
	free(ids);
	free(mbs);
	free(ptrs);
	return rc;
}

static int login(struct helper *h)
{
	char id[MAILBOX_ID_LEN + 1];
	const uint8_t *pw;
	size_t plen;

	if (h->role != PRIVSEP_POP3 || h->md != NULL || h->md_done ||
	    h->logins >= HELPER_MAX_LOGINS ||
	    wire_parse_login(h->f->p, h->f->len, id, &pw, &plen) < 0)
		return -1;
	h->logins++;
	if (maildrop_open(&h->md, &h->st, id, (const char *)pw, plen) < 0)
		return reply_rc(h, -1);
	wipe(h->f->p, h->f->len);
	return 0;
}

/* The list the parser needs: (size, UIDL) per message, in frames. */
static int send_list(struct helper *h)
{
	uint8_t *p = h->f->p;
	size_t len = 0, count = maildrop_count(h->md);

	for (size_t i = 0; i < count; i++) {
		const struct maildrop_msg *m = maildrop_get(h->md, i);
		size_t ul = strlen(m->uidl);
		if (len + 9 + ul > WIRE_MAX_PAYLOAD) {
			if (hsend(h, WIRE_LIST, p, len, NULL, 0, -1) < 0)
				return -1;
			len = 0;
		}
		for (int k = 0; k < 8; k++)
			p[len + (size_t)k] = (uint8_t)(m->size >> (56 - 8 * k));
		p[len + 8] = (uint8_t)ul;
		memcpy(p + len + 9, m->uidl, ul);
		len += 9 + ul;
	}
	if (len > 0 && hsend(h, WIRE_LIST, p, len, NULL, 0, -1) < 0)
		return -1;
	return reply(h, 0);
}

/* Up to cap bytes of the message into buf: their number, with *eof when
 * the whole message verified within them; -1 after logging a damaged file. */
static ssize_t read_head(struct maildrop_reader *r, uint8_t *buf, size_t cap, int *eof)
{
	size_t have = 0;

	*eof = 0;
	while (have < cap) {
		ssize_t k = maildrop_read(r, buf + have, cap - have);
		if (k < 0) {
			log_warning("event=retr_damaged error=\"%s\"", maildrop_read_error(r));
			return -1;
		}
		if (k == 0) {
			*eof = 1;
			break;
		}
		have += (size_t)k;
	}
	return (ssize_t)have;
}

/* The rest of the plaintext, after the head in buf, into the pipe the
 * parser reads at its pace; the verdict on the whole message: 0, EBADMSG
 * for a damaged stored file (the parser has then read only part of it),
 * EPIPE when the parser stopped reading (TOP, a client gone). */
static int copy_message(struct maildrop_reader *in, uint8_t *buf, size_t head, int out)
{
	ssize_t n = (ssize_t)head;

	do
		if (fd_write_all(out, buf, (size_t)n) < 0)
			return errno ? errno : EIO;
	while ((n = maildrop_read(in, buf, WIRE_MAX_PAYLOAD)) > 0);
	if (n < 0) {
		log_warning("event=retr_damaged error=\"%s\"", maildrop_read_error(in));
		return errno ? errno : EIO;
	}
	return 0;
}

/* A message larger than one frame: STATUS with the read end of a pipe,
 * the plaintext through it, then MSGEND. */
static int send_piped(struct helper *h, struct maildrop_reader *r, size_t head)
{
	int p[2], err;

	if (pipe2(p, O_CLOEXEC) < 0)
		return reply_rc(h, -1);
	err = hsend(h, WIRE_STATUS, "\0\0\0\0", 4, NULL, 0, p[0]);
	close(p[0]);
	if (err == 0)
		err = copy_message(r, h->f->p, head, p[1]);
	else
		err = -1;
	close(p[1]);
	return err < 0 ? -1 : send_u32(h, WIRE_MSGEND, err);
}

/* OPEN: a message that fits one frame goes whole and verified in one
 * MESSAGE (the common case costs one round trip); a larger one through a
 * pipe. The request's buffer (secure memory) holds the plaintext. */
static int open_message(struct helper *h)
{
	struct maildrop_reader *r = NULL;
	uint32_t i;
	ssize_t head;
	int eof, rc;

	if (h->md == NULL || wire_parse_u32(h->f->p, h->f->len, &i) < 0)
		return -1;
	if (i >= maildrop_count(h->md))
		return reply(h, EINVAL);
	if (maildrop_open_message(h->md, i, &r) < 0)
		return reply_rc(h, -1);
	head = read_head(r, h->f->p, WIRE_MAX_PAYLOAD, &eof);
	if (head < 0)
		rc = reply_rc(h, -1);
	else if (eof)
		rc = hsend(h, WIRE_MESSAGE, h->f->p, (size_t)head, NULL, 0, -1);
	else
		rc = send_piped(h, r, (size_t)head);
	maildrop_reader_end(r);
	/* what of the buffer held mail is wiped after the request */
	h->f->len = head >= 0 && eof ? (uint32_t)head : WIRE_MAX_PAYLOAD;
	return rc;
}

static int dele(struct helper *h)
{
	uint32_t i;

	if (h->md == NULL || wire_parse_u32(h->f->p, h->f->len, &i) < 0)
		return -1;
	return maildrop_delete(h->md, i);
}

static int send_failed(struct helper *h, unsigned slot, int err)
{
	uint8_t p[5] = {(uint8_t)slot};

	wire_put32(p + 1, (uint32_t)err);
	return hsend(h, WIRE_FAILED, p, sizeof p, NULL, 0, -1);
}

/* COMMITTED: slot, errno (0: committed), copies de-duplication dropped. */
static void *commit_main(void *arg)
{
	struct commit *c = arg;
	uint8_t p[9] = {(uint8_t)c->slot};
	int rc;

	errno = 0;
	rc = delivery_commit(c->d);
	wire_put32(p + 1, rc < 0 ? (uint32_t)(errno ? errno : EIO) : 0);
	wire_put32(p + 5, rc < 0 ? 0 : (uint32_t)rc);
	c->d = NULL;
	(void)hsend(c->h, WIRE_COMMITTED, p, sizeof p, NULL, 0, -1);
	return NULL;
}

static void commit_join(struct commit *c)
{
	if (c->running)
		pthread_join(c->th, NULL);
	c->running = 0;
}

static int commit_start(struct helper *h, unsigned slot, struct delivery *d)
{
	struct commit *c = &h->c[slot];

	commit_join(c);
	*c = (struct commit){.h = h, .d = d, .slot = slot};
	if (pthread_create(&c->th, NULL, commit_main, c) == 0)
		c->running = 1;
	else
		(void)commit_main(c); /* no thread to be had: commit right here */
	return 0;
}

/* A delivery request, in the slot its first byte names. */
static int deliver(struct helper *h)
{
	struct delivery *d;
	unsigned s;

	if (wire_parse_slot(h->f->p, h->f->len, &s) < 0)
		return -1;
	d = h->d[s];
	if (h->f->type == WIRE_BEGIN) {
		h->failed[s] = 0;
		commit_join(&h->c[s]); /* its COMMITTED was the thread's last act */
		return begin(h, s);
	}
	if (d == NULL)
		return -1;
	switch (h->f->type) {
	case WIRE_DATA:
	case WIRE_TRACE:
		if ((h->f->type == WIRE_TRACE ? delivery_trace : delivery_write)(d, h->f->p + 1,
										  h->f->len - 1) == 0 ||
		    h->failed[s])
			return 0;
		h->failed[s] = 1; /* the same error comes again with the commit */
		return send_failed(h, s, errno ? errno : EIO);
	case WIRE_PREPARE:
		return reply_rc(h, delivery_prepare(d));
	case WIRE_COMMIT:
		h->d[s] = NULL;
		return commit_start(h, s, d);
	default:
		h->d[s] = NULL;
		delivery_abort(d);
		return reply(h, 0);
	}
}

/* The POP3 proxy's index of upstream messages already recorded. */
static int seen(struct helper *h)
{
	char id[MAILBOX_ID_LEN + 1], key[WIRE_SEEN_KEY + 1];
	struct mailbox mb;
	int rc;

	if (h->role != PRIVSEP_POP3 || wire_parse_seen(h->f->p, h->f->len, id, key) < 0)
		return -1;
	if (store_mailbox_load(&h->st, id, &mb) < 0)
		return reply_rc(h, -1);
	if (h->f->type == WIRE_SEEN_ADD)
		return reply_rc(h, seen_file_add(mb.dir, key));
	rc = seen_file_has(mb.dir, key);
	return rc < 0 ? reply_rc(h, -1) : reply(h, rc ? 0 : ENOENT);
}

/* One request; -1 refuses it (and ends the helper). */
static int handle(struct helper *h)
{
	switch (h->f->type) {
	case WIRE_BEGIN:
	case WIRE_DATA:
	case WIRE_TRACE:
	case WIRE_PREPARE:
	case WIRE_COMMIT:
	case WIRE_ABORT:
		return deliver(h);
	case WIRE_LOGIN:
		if (login(h) < 0)
			return -1;
		return h->md ? send_list(h) : 0;
	case WIRE_OPEN:
		return open_message(h);
	case WIRE_SEEN_HAS:
	case WIRE_SEEN_ADD:
		return seen(h);
	case WIRE_DELE:
		return dele(h);
	case WIRE_MCOMMIT:
		return h->md ? reply_rc(h, maildrop_commit(h->md)) : -1;
	case WIRE_MCLOSE:
		if (h->md == NULL)
			return -1;
		maildrop_close(h->md);
		h->md = NULL;
		h->md_done = 1;
		return reply(h, 0);
	default:
		return -1;
	}
}

int privsep_helper(int fd, const struct config *cfg, enum privsep_role role)
{
	struct helper h = {.role = role, .fd = fd, .send_mu = PTHREAD_MUTEX_INITIALIZER};
	int rc = 0;

	if (store_init(&h.st, cfg) < 0 || (h.f = secmem_alloc(sizeof *h.f)) == NULL) {
		log_error("event=store_helper error=\"%s\"", strerror(errno));
		return -1;
	}
	for (;;) {
		errno = 0;
		if (wire_recv(fd, h.f, NULL) < 0) {
			if (errno != ECONNRESET) {
				log_error("event=store_helper_refused error=\"%s\"",
				          strerror(errno));
				rc = -1;
			}
			break;
		}
		errno = 0;
		if (handle(&h) < 0) {
			log_error("event=store_helper_refused type=%u len=%u", h.f->type, h.f->len);
			rc = -1;
			break;
		}
		wipe(h.f->p, h.f->len);
	}
	for (size_t i = 0; i < WIRE_SLOTS; i++) {
		commit_join(&h.c[i]); /* a commit asked for is finished */
		delivery_abort(h.d[i]);
	}
	maildrop_close(h.md);
	secmem_free(h.f, sizeof *h.f);
	return rc;
}
