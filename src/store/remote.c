/* The front end's side of the store helper: delivery and maildrop calls
 * turned into wire frames (store/wire.h). The helper does the file work
 * with the store's credentials; nothing here opens a file of the store. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/helper.h"
#include "store/remote.h"
#include "store/wire.h"
#include "util/wipe.h"

#define REMOTE_MAILDROP_MAX 1000000

_Static_assert(WIRE_UIDL_MAX == STORE_UIDL_MAX, "wire and store agree on UIDL length");

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
	p[3] = (uint8_t)v;
}

/* The one helper socket of this process and its slots. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned slots_used;
static int slot_err[WIRE_SLOTS]; /* from WIRE_FAILED */
static int msg_ended, msg_err;   /* the open message's WIRE_MSGEND */

static int errno_from(uint32_t e)
{
	return e > 4095 ? EIO : (int)e;
}

/* A WIRE_FAILED or WIRE_MSGEND (their lengths are fixed by
 * wire_parse_header): -1 (EPROTO) for a FAILED of a slot that is not
 * there. Locked. */
static int note(const struct wire_frame *f)
{
	uint32_t e = 0;

	if (f->type == WIRE_MSGEND) {
		wire_parse_u32(f->p, 4, &e);
		msg_ended = 1;
		msg_err = errno_from(e);
		return 0;
	}
	if (f->p[0] >= WIRE_SLOTS) {
		errno = EPROTO;
		return -1;
	}
	wire_parse_u32(f->p + 1, 4, &e);
	slot_err[f->p[0]] = e == 0 ? EIO : errno_from(e);
	return 0;
}

static int noted(const struct wire_frame *f)
{
	return f->type == WIRE_FAILED || f->type == WIRE_MSGEND;
}

/* The next frame that is not a WIRE_FAILED or WIRE_MSGEND (those are
 * noted). Locked. */
static int next_frame(int fd, struct wire_frame *f, int *got_fd)
{
	for (;;) {
		if (wire_recv(fd, f, got_fd) < 0)
			return -1;
		if (!noted(f))
			return 0;
		if (note(f) < 0)
			return -1;
	}
}

/* STATUS, after any WIRE_FAILED. Locked. */
static int status_locked(int fd, int *got_fd)
{
	struct wire_frame *f = malloc(sizeof *f);
	uint32_t e;
	int rc = -1;

	if (f == NULL)
		return -1;
	if (got_fd)
		*got_fd = -1;
	if (next_frame(fd, f, got_fd) < 0)
		goto out;
	if (f->type != WIRE_STATUS || wire_parse_u32(f->p, f->len, &e) < 0)
		errno = EPROTO;
	else if (e != 0)
		errno = errno_from(e);
	else
		rc = 0;
out:
	if (rc < 0 && got_fd && *got_fd >= 0) {
		int saved = errno;
		close(*got_fd);
		*got_fd = -1;
		errno = saved;
	}
	free(f);
	return rc;
}

/* Note the WIRE_FAILED and WIRE_MSGEND frames already waiting, without
 * blocking: nothing else can come unasked. Locked. */
static int drain_failed(int fd)
{
	uint8_t h[WIRE_HDR];
	struct wire_frame *f = NULL;
	int rc = 0;

	while (rc == 0 && recv(fd, h, 1, MSG_PEEK | MSG_DONTWAIT) == 1) {
		if (f == NULL && (f = malloc(sizeof *f)) == NULL)
			return -1;
		if (wire_recv(fd, f, NULL) < 0)
			rc = -1;
		else if (!noted(f))
			rc = (errno = EPROTO, -1);
		else
			rc = note(f);
	}
	free(f);
	return rc;
}

static int send_locked(int fd, uint8_t type, const void *a, size_t alen, const void *b, size_t blen,
                       int want_status)
{
	int rc;

	pthread_mutex_lock(&lock);
	rc = wire_send(fd, type, a, alen, b, blen, -1);
	if (rc == 0 && want_status)
		rc = status_locked(fd, NULL);
	pthread_mutex_unlock(&lock);
	return rc;
}

static int wire_slot_take(unsigned *slot)
{
	int rc = -1;

	pthread_mutex_lock(&lock);
	for (unsigned i = 0; i < WIRE_SLOTS; i++)
		if (!(slots_used & 1u << i)) {
			slots_used |= 1u << i;
			slot_err[i] = 0;
			*slot = i;
			rc = 0;
			break;
		}
	pthread_mutex_unlock(&lock);
	if (rc < 0)
		errno = EAGAIN;
	return rc;
}

static void wire_slot_free(unsigned slot)
{
	pthread_mutex_lock(&lock);
	slots_used &= ~(1u << slot);
	pthread_mutex_unlock(&lock);
}

int remote_delivery_begin(int fd, const struct mailbox *const *mbs, size_t n, unsigned *slot)
{
	static const size_t max = WIRE_MAX_RCPT;
	uint8_t s;
	char *ids;
	int rc, saved;

	if (n == 0 || mbs == NULL || n > max) {
		errno = EINVAL;
		return -1;
	}
	if ((ids = malloc(n * MAILBOX_ID_LEN)) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		memcpy(ids + i * MAILBOX_ID_LEN, mbs[i]->id, MAILBOX_ID_LEN);
	rc = wire_slot_take(slot);
	if (rc == 0) {
		s = (uint8_t)*slot;
		rc = send_locked(fd, WIRE_BEGIN, &s, 1, ids, n * MAILBOX_ID_LEN, 1);
		saved = errno;
		if (rc < 0)
			wire_slot_free(*slot);
		errno = saved;
	}
	free(ids);
	return rc;
}

int remote_delivery_write(int fd, unsigned slot, uint8_t type, const void *p, size_t n)
{
	const char *c = p;
	uint8_t s = (uint8_t)slot;

	int rc = 0, err;

	pthread_mutex_lock(&lock);
	while (rc == 0 && n > 0) {
		size_t k = n < WIRE_MAX_PAYLOAD - 1 ? n : WIRE_MAX_PAYLOAD - 1;
		rc = drain_failed(fd);
		if (rc == 0 && (err = slot_err[slot]) != 0) {
			errno = err;
			rc = -1;
		}
		if (rc == 0)
			rc = wire_send(fd, type, &s, 1, c, k, -1);
		c += k;
		n -= k;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

int remote_delivery_call(int fd, unsigned slot, uint8_t type)
{
	uint8_t s = (uint8_t)slot;
	int rc = send_locked(fd, type, &s, 1, NULL, 0, 1);
	int saved = errno;

	if (type != WIRE_PREPARE)
		wire_slot_free(slot);
	errno = saved;
	return rc;
}

/* COMMITTED (u32 copies dropped) or a failure's STATUS. Locked. */
static int committed_locked(int fd)
{
	struct wire_frame *f = malloc(sizeof *f);
	uint32_t v;
	int rc = -1;

	if (f == NULL)
		return -1;
	if (next_frame(fd, f, NULL) < 0)
		goto out;
	if (f->type == WIRE_COMMITTED && wire_parse_u32(f->p, f->len, &v) == 0 && v <= WIRE_MAX_RCPT)
		rc = (int)v;
	else if (f->type == WIRE_STATUS && wire_parse_u32(f->p, f->len, &v) == 0 && v != 0)
		errno = errno_from(v);
	else
		errno = EPROTO;
out:
	free(f);
	return rc;
}

int remote_delivery_commit(int fd, unsigned slot)
{
	uint8_t s = (uint8_t)slot;
	int rc, saved;

	pthread_mutex_lock(&lock);
	rc = wire_send(fd, WIRE_COMMIT, &s, 1, NULL, 0, -1);
	if (rc == 0)
		rc = committed_locked(fd);
	pthread_mutex_unlock(&lock);
	saved = errno;
	wire_slot_free(slot);
	errno = saved;
	return rc;
}

int remote_call(int fd, uint8_t type, int want_status)
{
	return send_locked(fd, type, NULL, 0, NULL, 0, want_status);
}

struct list {
	struct maildrop_msg *msgs;
	char (*uidls)[STORE_UIDL_MAX + 1];
	size_t n, cap;
};

static int list_add(struct list *l, uint64_t size, const char *uidl)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		void *m, *u;
		if (l->cap >= REMOTE_MAILDROP_MAX) {
			errno = EPROTO;
			return -1;
		}
		if ((m = realloc(l->msgs, cap * sizeof *l->msgs)) == NULL)
			return -1;
		l->msgs = m;
		if ((u = realloc(l->uidls, cap * sizeof *l->uidls)) == NULL)
			return -1;
		l->uidls = u;
		l->cap = cap;
	}
	memcpy(l->uidls[l->n], uidl, strlen(uidl) + 1);
	l->msgs[l->n] = (struct maildrop_msg){.size = size};
	l->n++;
	return 0;
}

/* LIST frames until the STATUS that ends the reply. */
static int read_list(int fd, struct list *l)
{
	struct wire_frame *f = malloc(sizeof *f);
	char uidl[WIRE_UIDL_MAX + 1];
	uint64_t size;
	uint32_t e;
	int rc = -1;

	if (f == NULL)
		return -1;
	for (;;) {
		if (next_frame(fd, f, NULL) < 0)
			goto out;
		if (f->type != WIRE_LIST)
			break;
		for (size_t off = 0; off < f->len;)
			if (wire_parse_entry(f->p, f->len, &off, &size, uidl) < 0 ||
			    list_add(l, size, uidl) < 0)
				goto out;
	}
	if (f->type != WIRE_STATUS || wire_parse_u32(f->p, f->len, &e) < 0) {
		errno = EPROTO;
		goto out;
	}
	errno = errno_from(e);
	rc = e == 0 ? 0 : -1;
out:
	free(f);
	return rc;
}

int remote_maildrop_login(int fd, const char *id, const char *pw, size_t plen,
                          struct maildrop_msg **msgs, char (**uidls)[STORE_UIDL_MAX + 1], size_t *n)
{
	struct list l = {0};
	int rc;

	if (!mailbox_id_valid(id) || plen == 0 || plen > WIRE_MAX_PASSWORD) {
		errno = plen == 0 || plen > WIRE_MAX_PASSWORD ? EACCES : ENOENT;
		return -1;
	}
	errno = 0;
	pthread_mutex_lock(&lock);
	rc = wire_send(fd, WIRE_LOGIN, id, MAILBOX_ID_LEN, pw, plen, -1) < 0 ||
	     read_list(fd, &l) < 0;
	pthread_mutex_unlock(&lock);
	if (rc) {
		int saved = errno ? errno : EPROTO;
		free(l.msgs);
		free(l.uidls);
		errno = saved;
		return -1;
	}
	for (size_t i = 0; i < l.n; i++)
		l.msgs[i].uidl = l.uidls[i];
	*msgs = l.msgs;
	*uidls = l.uidls;
	*n = l.n;
	return 0;
}

/* OPEN's answer: MESSAGE (the frame goes to the reader), STATUS 0 with a
 * pipe, or a failure's STATUS. Locked. */
static int open_reply_locked(int fd, struct wire_frame *f, int *pipe_fd)
{
	uint32_t e = EPROTO;

	if (next_frame(fd, f, pipe_fd) < 0)
		return -1;
	if (f->type == WIRE_MESSAGE && *pipe_fd < 0)
		return 0;
	if (f->type == WIRE_STATUS && wire_parse_u32(f->p, f->len, &e) == 0 && e == 0 &&
	    *pipe_fd >= 0)
		return 0;
	if (*pipe_fd >= 0)
		close(*pipe_fd);
	*pipe_fd = -1;
	errno = f->type == WIRE_STATUS && e != 0 ? errno_from(e) : EPROTO;
	return -1;
}

int remote_maildrop_request(int fd, size_t i)
{
	uint8_t req[4];

	if (i > UINT32_MAX) {
		errno = EINVAL;
		return -1;
	}
	put32(req, (uint32_t)i);
	return send_locked(fd, WIRE_OPEN, req, sizeof req, NULL, 0, 0);
}

int remote_maildrop_reply(int fd, struct maildrop_reader **r)
{
	struct wire_frame *f;
	int pipe_fd = -1, rc;

	*r = NULL;
	if ((f = malloc(sizeof *f)) == NULL)
		return -1;
	pthread_mutex_lock(&lock);
	rc = open_reply_locked(fd, f, &pipe_fd);
	pthread_mutex_unlock(&lock);
	if (rc < 0) {
		free(f);
		return -1;
	}
	if (pipe_fd < 0)
		return store_reader_frame(r, f);
	free(f);
	return store_reader_remote(r, fd, pipe_fd);
}

int remote_maildrop_end(int fd)
{
	struct wire_frame *f = NULL;
	int err = 0;

	pthread_mutex_lock(&lock);
	while (!msg_ended && err == 0) {
		if (f == NULL && (f = malloc(sizeof *f)) == NULL)
			err = ENOMEM;
		else if (wire_recv(fd, f, NULL) < 0)
			err = errno == ECONNRESET ? EIO : errno; /* the helper is gone */
		else if (!noted(f) || note(f) < 0)
			err = EPROTO;
	}
	if (err == 0)
		err = msg_err;
	msg_ended = 0;
	pthread_mutex_unlock(&lock);
	free(f);
	return err;
}

int remote_maildrop_commit(int fd, const struct maildrop_msg *msgs, size_t n)
{
	uint8_t idx[4];

	for (size_t i = 0; i < n; i++) {
		if (!msgs[i].deleted)
			continue;
		put32(idx, (uint32_t)i);
		if (send_locked(fd, WIRE_DELE, idx, sizeof idx, NULL, 0, 0) < 0)
			return -1;
	}
	return remote_call(fd, WIRE_MCOMMIT, 1);
}

int store_helper_seen(const struct store *st, const char *id, const char *key, int add)
{
	int rc;

	if (!st->cfg->store_helper.on || !mailbox_id_valid(id) || strlen(key) != WIRE_SEEN_KEY) {
		errno = EINVAL;
		return -1;
	}
	rc = send_locked(st->cfg->store_helper.fd, add ? WIRE_SEEN_ADD : WIRE_SEEN_HAS, id,
	                 MAILBOX_ID_LEN, key, WIRE_SEEN_KEY, 1);
	if (rc < 0 && !add && errno == ENOENT)
		return 0;
	return rc < 0 ? -1 : add ? 0 : 1;
}
