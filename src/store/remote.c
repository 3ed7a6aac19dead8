/* The front end's side of the store helper: delivery and maildrop calls
 * turned into wire frames (store/wire.h). The helper does the file work
 * with the store's credentials; nothing here opens a file of the store. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/remote.h"
#include "store/wire.h"
#include "util/wipe.h"

#define REMOTE_MAILDROP_MAX 1000000

_Static_assert(WIRE_UIDL_MAX == STORE_UIDL_MAX, "wire and store agree on UIDL length");

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

int remote_delivery_begin(int fd, const struct mailbox *const *mbs, size_t n)
{
	static const size_t max = WIRE_MAX_RCPT;
	char ids[WIRE_MAX_RCPT * MAILBOX_ID_LEN];

	if (n == 0 || mbs == NULL || n > max) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		memcpy(ids + i * MAILBOX_ID_LEN, mbs[i]->id, MAILBOX_ID_LEN);
	if (wire_send(fd, WIRE_BEGIN, ids, n * MAILBOX_ID_LEN, NULL, 0, -1) < 0)
		return -1;
	return wire_status(fd, NULL);
}

int remote_delivery_write(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		size_t k = n < WIRE_MAX_PAYLOAD ? n : WIRE_MAX_PAYLOAD;
		if (wire_send(fd, WIRE_DATA, c, k, NULL, 0, -1) < 0)
			return -1;
		c += k;
		n -= k;
	}
	return 0;
}

int remote_call(int fd, uint8_t type, int want_status)
{
	if (wire_send(fd, type, NULL, 0, NULL, 0, -1) < 0)
		return -1;
	return want_status ? wire_status(fd, NULL) : 0;
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
	l->msgs[l->n] = (struct maildrop_msg){ .size = size };
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
		if (wire_recv(fd, f, NULL) < 0)
			goto out;
		if (f->type != WIRE_LIST)
			break;
		for (size_t off = 0; off < f->len;)
			if (wire_parse_entry(f->p, f->len, &off, &size, uidl) < 0 || list_add(l, size, uidl) < 0)
				goto out;
	}
	if (f->type != WIRE_STATUS || wire_parse_u32(f->p, f->len, &e) < 0) {
		errno = EPROTO;
		goto out;
	}
	errno = e > 4095 ? EIO : (int)e;
	rc = e == 0 ? 0 : -1;
out:
	free(f);
	return rc;
}

int remote_maildrop_login(int fd, const char *id, const char *pw, size_t plen,
			  struct maildrop_msg **msgs, char (**uidls)[STORE_UIDL_MAX + 1], size_t *n)
{
	struct list l = { 0 };

	if (!mailbox_id_valid(id) || plen == 0 || plen > WIRE_MAX_PASSWORD) {
		errno = plen == 0 || plen > WIRE_MAX_PASSWORD ? EACCES : ENOENT;
		return -1;
	}
	errno = 0;
	if (wire_send(fd, WIRE_LOGIN, id, MAILBOX_ID_LEN, pw, plen, -1) < 0 || read_list(fd, &l) < 0) {
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

int remote_maildrop_open(int fd, size_t i, int *msg_fd, struct age_decryptor **d)
{
	struct age_identity eph;
	struct age_recipient r;
	uint8_t req[4 + 32];
	int rc;

	if (i > UINT32_MAX || age_identity_generate(&eph) != 0) {
		errno = i > UINT32_MAX ? EINVAL : EIO;
		return -1;
	}
	age_identity_recipient(&eph, &r);
	put32(req, (uint32_t)i);
	memcpy(req + 4, r.pub, 32);
	if (wire_send(fd, WIRE_OPEN, req, sizeof req, NULL, 0, -1) < 0 || wire_status(fd, msg_fd) < 0)
		goto fail;
	if (*msg_fd < 0) {
		errno = EPROTO;
		goto fail;
	}
	rc = age_decrypt_begin(d, *msg_fd, &eph, 1);
	age_identity_wipe(&eph);
	if (rc != 0) {
		*d = NULL;
		store_age_errno(rc);
		errno = EBADMSG;   /* the helper could not open the stored file */
		return -1;
	}
	return 0;
fail:
	age_identity_wipe(&eph);
	return -1;
}

int remote_maildrop_commit(int fd, const struct maildrop_msg *msgs, size_t n)
{
	uint8_t idx[4];

	for (size_t i = 0; i < n; i++) {
		if (!msgs[i].deleted)
			continue;
		put32(idx, (uint32_t)i);
		if (wire_send(fd, WIRE_DELE, idx, sizeof idx, NULL, 0, -1) < 0)
			return -1;
	}
	return remote_call(fd, WIRE_MCOMMIT, 1);
}
