/* The store helper: the only process of a connection with the store's
 * credentials. It reads wire frames (store/wire.h) from the parser and
 * does the file work; every request is checked against what this role
 * and this state allow, and anything else ends the helper (and with it
 * the session). Its reading buffer holds the password during a log-in:
 * it is secure memory, wiped after each request. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privsep/privsep.h"
#include "proxy/proxy.h"
#include "store/wire.h"
#include "util/log.h"
#include "util/secmem.h"
#include "util/wipe.h"

#define HELPER_MAX_LOGINS 16
#define STREAM_BUF 65536

struct helper {
	struct store st;
	enum privsep_role role;
	int fd;
	struct delivery *d[WIRE_SLOTS];
	int failed[WIRE_SLOTS]; /* WIRE_FAILED sent for this delivery */
	struct maildrop *md;
	int logins;  /* log-in attempts so far */
	int md_done; /* the maildrop was closed: no second log-in */
	struct wire_frame *f;
};

static int reply(struct helper *h, int err)
{
	uint8_t p[4] = {(uint8_t)(err >> 24), (uint8_t)(err >> 16), (uint8_t)(err >> 8),
	                (uint8_t)err};

	return wire_send(h->fd, WIRE_STATUS, p, sizeof p, NULL, 0, -1);
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
			if (wire_send(h->fd, WIRE_LIST, p, len, NULL, 0, -1) < 0)
				return -1;
			len = 0;
		}
		for (int k = 0; k < 8; k++)
			p[len + (size_t)k] = (uint8_t)(m->size >> (56 - 8 * k));
		p[len + 8] = (uint8_t)ul;
		memcpy(p + len + 9, m->uidl, ul);
		len += 9 + ul;
	}
	if (len > 0 && wire_send(h->fd, WIRE_LIST, p, len, NULL, 0, -1) < 0)
		return -1;
	return reply(h, 0);
}

/* Decrypt with the mailbox key, encrypt to the parser's one-message key:
 * a pipe the parser reads at its pace; a parser that stops reading closes
 * it (EPIPE here ends the copy). A damaged stored file ends the stream
 * without its final chunk, which the parser's decryptor reports. */
static void copy_message(struct age_decryptor *in, const struct age_recipient *r, int out)
{
	struct age_encryptor *e = NULL;
	uint8_t *buf = malloc(STREAM_BUF);
	ssize_t n = -1;

	if (buf == NULL || age_encrypt_begin(&e, r, 1, out) != 0) {
		e = NULL;
		goto out;
	}
	while ((n = age_decrypt_read(in, buf, STREAM_BUF)) > 0)
		if (age_encrypt_update(e, buf, (size_t)n) != 0)
			break;
	if (n == 0 && age_encrypt_finish(e, NULL) == 0)
		e = NULL;
	else if (n < 0)
		log_warning("event=retr_damaged error=\"%s\"", age_strerror((int)n));
out:
	if (e)
		age_encrypt_abort(e);
	free(buf);
}

static int open_message(struct helper *h)
{
	struct age_decryptor *dec = NULL;
	struct age_recipient r;
	uint32_t i;
	int p[2];

	if (h->md == NULL || wire_parse_open(h->f->p, h->f->len, &i, r.pub) < 0)
		return -1;
	if (i >= maildrop_count(h->md))
		return reply(h, EINVAL);
	if (maildrop_open_message(h->md, i, &dec) < 0)
		return reply_rc(h, -1);
	if (pipe2(p, O_CLOEXEC) < 0) {
		int rc = reply_rc(h, -1);
		age_decrypt_end(dec);
		return rc;
	}
	if (wire_send(h->fd, WIRE_STATUS, "\0\0\0\0", 4, NULL, 0, p[0]) == 0)
		copy_message(dec, &r, p[1]);
	close(p[0]);
	close(p[1]);
	age_decrypt_end(dec);
	return 0;
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
	uint8_t p[5] = {(uint8_t)slot, (uint8_t)(err >> 24), (uint8_t)(err >> 16),
	                (uint8_t)(err >> 8), (uint8_t)err};

	return wire_send(h->fd, WIRE_FAILED, p, sizeof p, NULL, 0, -1);
}

/* COMMIT's answer: COMMITTED with the copies de-duplication dropped, or
 * the failure's STATUS. */
static int committed(struct helper *h, int rc)
{
	uint8_t p[4] = {(uint8_t)(rc >> 24), (uint8_t)(rc >> 16), (uint8_t)(rc >> 8), (uint8_t)rc};

	if (rc < 0)
		return reply_rc(h, rc);
	return wire_send(h->fd, WIRE_COMMITTED, p, sizeof p, NULL, 0, -1);
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
		return committed(h, delivery_commit(d));
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
	struct helper h = {.role = role, .fd = fd};
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
	for (size_t i = 0; i < WIRE_SLOTS; i++)
		delivery_abort(h.d[i]);
	maildrop_close(h.md);
	secmem_free(h.f, sizeof *h.f);
	return rc;
}
