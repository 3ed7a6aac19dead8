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

/* The one helper socket of this process. Several threads use it (the
 * proxy commits a copy in a thread of its own while the next message
 * arrives), so sending and receiving are apart:
 * - send_mu makes each frame whole on the wire; a request that has an
 *   answer in order takes a ticket under it;
 * - the helper answers those in the order asked, and sends three kinds of
 *   frame unasked: FAILED (a delivery's first error), COMMITTED (a commit
 *   it did in a thread of its own) and MSGEND (a piped message's end);
 * - whoever waits reads, one thread at a time (rx.reading): unasked
 *   frames are noted for their waiter, an answer is parked until the
 *   thread with the next ticket takes it. Nobody holds a lock while
 *   blocked on the socket. */
static pthread_mutex_t send_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t tickets; /* answers asked for, under send_mu */

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t turn;          /* the ticket whose answer comes next */
	int reading;            /* a thread is in wire_recv */
	int dead;               /* errno once the socket failed: everyone fails */
	struct wire_frame *f;   /* the frame read last */
	int parked, parked_fd;  /* f is an answer (with its descriptor) not taken yet */
	unsigned slots_used;
	int slot_err[WIRE_SLOTS];  /* from FAILED */
	int done[WIRE_SLOTS];      /* COMMITTED arrived */
	int result[WIRE_SLOTS];    /* its copies dropped, or -errno */
	int msg_ended, msg_err;    /* the open message's MSGEND */
} rx = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, .parked_fd = -1};

static int errno_from(uint32_t e)
{
	return e > 4095 ? EIO : (int)e;
}

static int unasked(uint8_t type)
{
	return type == WIRE_FAILED || type == WIRE_MSGEND || type == WIRE_COMMITTED;
}

/* An unasked frame (lengths fixed by wire_parse_header); -1 (EPROTO) for
 * a slot that is not there. rx.mu held. */
static int note(const struct wire_frame *f)
{
	uint32_t e = 0, v = 0;

	if (f->type == WIRE_MSGEND) {
		wire_parse_u32(f->p, 4, &e);
		rx.msg_ended = 1;
		rx.msg_err = errno_from(e);
		return 0;
	}
	if (f->p[0] >= WIRE_SLOTS || !(rx.slots_used & 1u << f->p[0])) {
		errno = EPROTO;
		return -1;
	}
	wire_parse_u32(f->p + 1, 4, &e);
	if (f->type == WIRE_FAILED) {
		rx.slot_err[f->p[0]] = e == 0 ? EIO : errno_from(e);
		return 0;
	}
	wire_parse_u32(f->p + 5, 4, &v);
	if (e == 0 && v > WIRE_MAX_RCPT) {
		errno = EPROTO;
		return -1;
	}
	rx.done[f->p[0]] = 1;
	rx.result[f->p[0]] = e != 0 ? -errno_from(e) : (int)v;
	return 0;
}

/* Read one frame while nobody else does: noted, or parked for its
 * ticket. rx.mu held (released while blocked). 1 a frame was read, 0
 * another thread reads or an answer waits to be taken (after waiting for
 * a change unless nonblock), -1 the socket failed. nonblock: read only a
 * frame that has begun to arrive. */
static int pump(int fd, int nonblock)
{
	uint8_t b;
	int got_fd = -1, rc;

	if (rx.dead) {
		errno = rx.dead;
		return -1;
	}
	if (rx.reading || rx.parked) {
		if (!nonblock)
			pthread_cond_wait(&rx.cv, &rx.mu);
		return 0;
	}
	if (nonblock && recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) != 1)
		return 0;
	if (rx.f == NULL && (rx.f = malloc(sizeof *rx.f)) == NULL)
		return -1;
	rx.reading = 1;
	pthread_mutex_unlock(&rx.mu);
	rc = wire_recv(fd, rx.f, &got_fd);
	pthread_mutex_lock(&rx.mu);
	rx.reading = 0;
	if (rc == 0 && unasked(rx.f->type)) {
		if (got_fd >= 0 || note(rx.f) < 0)
			rc = (errno = EPROTO, -1);
	} else if (rc == 0) {
		rx.parked = 1;
		rx.parked_fd = got_fd;
		got_fd = -1;
	}
	if (got_fd >= 0)
		close(got_fd);
	if (rc < 0)
		rx.dead = errno == ECONNRESET || errno == 0 ? EIO : errno;
	pthread_cond_broadcast(&rx.cv);
	if (rc < 0)
		errno = rx.dead;
	return rc < 0 ? -1 : 1;
}

/* Answers out of step with their requests: nothing after can be trusted. */
static void broken(void)
{
	pthread_mutex_lock(&rx.mu);
	if (!rx.dead)
		rx.dead = EPROTO;
	pthread_cond_broadcast(&rx.cv);
	pthread_mutex_unlock(&rx.mu);
	errno = EPROTO;
}

/* Send a frame; with ticket, one whose answer comes in order. */
static int send_frame(int fd, uint8_t type, const void *a, size_t alen, const void *b,
                      size_t blen, uint64_t *ticket)
{
	int rc;

	pthread_mutex_lock(&send_mu);
	rc = wire_send(fd, type, a, alen, b, blen, -1);
	if (rc == 0 && ticket != NULL)
		*ticket = tickets++;
	pthread_mutex_unlock(&send_mu);
	return rc;
}

/* The next frame of ticket t's answer: *f (a frame buffer of the caller's)
 * and the reader's buffer trade places, so the answer is not copied. Its
 * descriptor, or -1, goes into *got_fd (NULL closes it). last: the answer
 * ends with it, the next ticket's turn. */
static int take(int fd, uint64_t t, struct wire_frame **f, int *got_fd, int last)
{
	int rc = 0;

	pthread_mutex_lock(&rx.mu);
	while (rc >= 0 && !(rx.parked && rx.turn == t))
		rc = pump(fd, 0);
	if (rc >= 0) {
		struct wire_frame *mine = rx.f;
		rx.f = *f;
		*f = mine;
		if (got_fd != NULL)
			*got_fd = rx.parked_fd;
		else if (rx.parked_fd >= 0)
			close(rx.parked_fd);
		rx.parked = 0;
		rx.parked_fd = -1;
		if (last || mine->type == WIRE_STATUS)
			rx.turn++;
		pthread_cond_broadcast(&rx.cv);
	}
	pthread_mutex_unlock(&rx.mu);
	return rc < 0 ? -1 : 0;
}

/* A STATUS answer: 0, or -1 with errno = the helper's. */
static int take_status(int fd, uint64_t t, int *got_fd)
{
	struct wire_frame *f = malloc(sizeof *f);
	uint32_t e;
	int rc = -1;

	if (got_fd)
		*got_fd = -1;
	if (f == NULL || take(fd, t, &f, got_fd, 1) < 0)
		goto out;
	if (f->type != WIRE_STATUS || wire_parse_u32(f->p, f->len, &e) < 0)
		broken();
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

/* A request and its STATUS. */
static int call(int fd, uint8_t type, const void *a, size_t alen, const void *b, size_t blen)
{
	uint64_t t;

	if (send_frame(fd, type, a, alen, b, blen, &t) < 0)
		return -1;
	return take_status(fd, t, NULL);
}

static int wire_slot_take(unsigned *slot)
{
	int rc = -1;

	pthread_mutex_lock(&rx.mu);
	for (unsigned i = 0; i < WIRE_SLOTS; i++)
		if (!(rx.slots_used & 1u << i)) {
			rx.slots_used |= 1u << i;
			rx.slot_err[i] = 0;
			rx.done[i] = 0;
			*slot = i;
			rc = 0;
			break;
		}
	pthread_mutex_unlock(&rx.mu);
	if (rc < 0)
		errno = EAGAIN;
	return rc;
}

static void wire_slot_free(unsigned slot)
{
	pthread_mutex_lock(&rx.mu);
	rx.slots_used &= ~(1u << slot);
	pthread_mutex_unlock(&rx.mu);
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
		rc = call(fd, WIRE_BEGIN, &s, 1, ids, n * MAILBOX_ID_LEN);
		saved = errno;
		if (rc < 0)
			wire_slot_free(*slot);
		errno = saved;
	}
	free(ids);
	return rc;
}

/* The error the helper reported for slot unasked, after noting what has
 * arrived without waiting for more: 0 while healthy. */
static int slot_error(int fd, unsigned slot)
{
	int err;

	pthread_mutex_lock(&rx.mu);
	while (pump(fd, 1) == 1)
		;
	err = rx.dead ? rx.dead : rx.slot_err[slot];
	pthread_mutex_unlock(&rx.mu);
	return err;
}

int remote_delivery_write(int fd, unsigned slot, uint8_t type, const void *p, size_t n)
{
	const char *c = p;
	uint8_t s = (uint8_t)slot;
	int err;

	while (n > 0) {
		size_t k = n < WIRE_MAX_PAYLOAD - 1 ? n : WIRE_MAX_PAYLOAD - 1;
		if ((err = slot_error(fd, slot)) != 0) {
			errno = err;
			return -1;
		}
		if (send_frame(fd, type, &s, 1, c, k, NULL) < 0)
			return -1;
		c += k;
		n -= k;
	}
	return 0;
}

int remote_delivery_call(int fd, unsigned slot, uint8_t type)
{
	uint8_t s = (uint8_t)slot;
	int rc = call(fd, type, &s, 1, NULL, 0);
	int saved = errno;

	if (type != WIRE_PREPARE)
		wire_slot_free(slot);
	errno = saved;
	return rc;
}

/* The helper commits in a thread of its own and says so unasked
 * (COMMITTED: slot, errno, copies dropped), so other requests, of this
 * thread or another, go on meanwhile. */
int remote_delivery_commit(int fd, unsigned slot)
{
	uint8_t s = (uint8_t)slot;
	int rc = 0, saved;

	if (send_frame(fd, WIRE_COMMIT, &s, 1, NULL, 0, NULL) < 0)
		rc = -1;
	pthread_mutex_lock(&rx.mu);
	while (rc >= 0 && !rx.done[slot])
		rc = pump(fd, 0);
	if (rc >= 0 && rx.result[slot] < 0) {
		errno = -rx.result[slot];
		rc = -1;
	} else if (rc >= 0) {
		rc = rx.result[slot];
	}
	saved = errno;
	pthread_mutex_unlock(&rx.mu);
	wire_slot_free(slot);
	errno = saved;
	return rc;
}

int remote_call(int fd, uint8_t type, int want_status)
{
	if (!want_status)
		return send_frame(fd, type, NULL, 0, NULL, 0, NULL);
	return call(fd, type, NULL, 0, NULL, 0);
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

/* LIST frames until the STATUS that ends ticket t's answer. */
static int read_list(int fd, uint64_t t, struct list *l)
{
	struct wire_frame *f = malloc(sizeof *f);
	char uidl[WIRE_UIDL_MAX + 1];
	uint64_t size;
	uint32_t e;
	int rc = -1;

	if (f == NULL)
		return -1;
	for (;;) {
		if (take(fd, t, &f, NULL, 0) < 0)
			goto out;
		if (f->type != WIRE_LIST)
			break;
		for (size_t off = 0; off < f->len;)
			if (wire_parse_entry(f->p, f->len, &off, &size, uidl) < 0 ||
			    list_add(l, size, uidl) < 0)
				goto out;
	}
	if (f->type != WIRE_STATUS || wire_parse_u32(f->p, f->len, &e) < 0) {
		broken();
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
	uint64_t t;
	int rc;

	if (!mailbox_id_valid(id) || plen == 0 || plen > WIRE_MAX_PASSWORD) {
		errno = plen == 0 || plen > WIRE_MAX_PASSWORD ? EACCES : ENOENT;
		return -1;
	}
	errno = 0;
	rc = send_frame(fd, WIRE_LOGIN, id, MAILBOX_ID_LEN, pw, plen, &t) < 0 ||
	     read_list(fd, t, &l) < 0;
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

int remote_maildrop_request(int fd, size_t i, uint64_t *ticket)
{
	uint8_t req[4];

	if (i > UINT32_MAX) {
		errno = EINVAL;
		return -1;
	}
	wire_put32(req, (uint32_t)i);
	return send_frame(fd, WIRE_OPEN, req, sizeof req, NULL, 0, ticket);
}

/* OPEN's answer: MESSAGE (the frame goes to the reader), STATUS 0 with a
 * pipe, or a failure's STATUS. */
int remote_maildrop_reply(int fd, uint64_t ticket, struct maildrop_reader **r)
{
	struct wire_frame *f;
	uint32_t e = EPROTO;
	int pipe_fd = -1;

	*r = NULL;
	if ((f = malloc(sizeof *f)) == NULL)
		return -1;
	if (take(fd, ticket, &f, &pipe_fd, 1) < 0) {
		free(f);
		return -1;
	}
	if (f->type == WIRE_MESSAGE && pipe_fd < 0)
		return store_reader_frame(r, f);
	if (f->type == WIRE_STATUS && wire_parse_u32(f->p, f->len, &e) == 0 && e == 0 &&
	    pipe_fd >= 0) {
		free(f);
		return store_reader_remote(r, fd, pipe_fd);
	}
	if (pipe_fd >= 0)
		close(pipe_fd);
	if (f->type == WIRE_STATUS && e != 0)
		errno = errno_from(e);
	else
		broken();
	free(f);
	return -1;
}

int remote_maildrop_end(int fd)
{
	int rc = 0, err;

	pthread_mutex_lock(&rx.mu);
	while (rc >= 0 && !rx.msg_ended)
		rc = pump(fd, 0);
	err = rc < 0 ? errno : rx.msg_err;
	rx.msg_ended = 0;
	pthread_mutex_unlock(&rx.mu);
	return err;
}

int remote_maildrop_commit(int fd, const struct maildrop_msg *msgs, size_t n)
{
	uint8_t idx[4];

	for (size_t i = 0; i < n; i++) {
		if (!msgs[i].deleted)
			continue;
		wire_put32(idx, (uint32_t)i);
		if (send_frame(fd, WIRE_DELE, idx, sizeof idx, NULL, 0, NULL) < 0)
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
	rc = call(st->cfg->store_helper.fd, add ? WIRE_SEEN_ADD : WIRE_SEEN_HAS, id, MAILBOX_ID_LEN,
	          key, WIRE_SEEN_KEY);
	if (rc < 0 && !add && errno == ENOENT)
		return 0;
	return rc < 0 ? -1 : add ? 0 : 1;
}
