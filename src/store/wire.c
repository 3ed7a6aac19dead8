/* The store helper's frames: bounded headers, strict payload decoders, and
 * descriptor passing for the message streams of a maildrop. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "store/wire.h"
#include "util/fdio.h"

struct range {
	uint32_t min, max, unit, base; /* (len - base) % unit == 0 */
};

static int type_range(uint8_t type, struct range *r)
{
	switch (type) {
	case WIRE_BEGIN:
		*r = (struct range){1 + MAILBOX_ID_LEN, 1 + WIRE_MAX_RCPT * MAILBOX_ID_LEN,
		                    MAILBOX_ID_LEN, 1};
		return 0;
	case WIRE_DATA:
	case WIRE_TRACE:
		*r = (struct range){2, WIRE_MAX_PAYLOAD, 1, 0};
		return 0;
	case WIRE_MESSAGE:
		*r = (struct range){0, WIRE_MAX_PAYLOAD - 1, 1, 0};
		return 0;
	case WIRE_PREPARE:
	case WIRE_COMMIT:
	case WIRE_ABORT:
		*r = (struct range){1, 1, 1, 0};
		return 0;
	case WIRE_MCOMMIT:
	case WIRE_MCLOSE:
		*r = (struct range){0, 0, 1, 0};
		return 0;
	case WIRE_LOGIN:
		*r = (struct range){MAILBOX_ID_LEN + 1, MAILBOX_ID_LEN + WIRE_MAX_PASSWORD, 1, 0};
		return 0;
	case WIRE_OPEN:
	case WIRE_DELE:
	case WIRE_STATUS:
	case WIRE_MSGEND:
		*r = (struct range){4, 4, 1, 0};
		return 0;
	case WIRE_SEEN_HAS:
	case WIRE_SEEN_ADD:
		*r = (struct range){MAILBOX_ID_LEN + WIRE_SEEN_KEY, MAILBOX_ID_LEN + WIRE_SEEN_KEY,
		                    1, 0};
		return 0;
	case WIRE_FAILED:
		*r = (struct range){5, 5, 1, 0};
		return 0;
	case WIRE_COMMITTED:
		*r = (struct range){9, 9, 1, 0};
		return 0;
	case WIRE_LIST:
		*r = (struct range){10, WIRE_MAX_PAYLOAD, 1, 0};
		return 0;
	default:
		return -1;
	}
}

static int proto(void)
{
	errno = EPROTO;
	return -1;
}

void wire_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int wire_parse_header(const uint8_t h[WIRE_HDR], uint8_t *type, uint32_t *len)
{
	struct range r;

	*type = h[0];
	*len = get32(h + 1);
	if (type_range(*type, &r) < 0 || *len < r.min || *len > r.max ||
	    (*len - r.base) % r.unit != 0)
		return proto();
	return 0;
}

int wire_parse_slot(const uint8_t *p, size_t len, unsigned *slot)
{
	if (len < 1 || p[0] >= WIRE_SLOTS)
		return proto();
	*slot = p[0];
	return 0;
}

int wire_parse_ids(const uint8_t *p, size_t len, char ids[][MAILBOX_ID_LEN + 1], size_t *n)
{
	*n = 0;
	if (len == 0 || len % MAILBOX_ID_LEN != 0 || len / MAILBOX_ID_LEN > WIRE_MAX_RCPT)
		return proto();
	for (size_t i = 0; i < len / MAILBOX_ID_LEN; i++) {
		memcpy(ids[i], p + i * MAILBOX_ID_LEN, MAILBOX_ID_LEN);
		ids[i][MAILBOX_ID_LEN] = '\0';
		if (!mailbox_id_valid(ids[i]))
			return proto();
	}
	*n = len / MAILBOX_ID_LEN;
	return 0;
}

int wire_parse_login(const uint8_t *p, size_t len, char id[MAILBOX_ID_LEN + 1], const uint8_t **pw,
                     size_t *plen)
{
	if (len <= MAILBOX_ID_LEN || len > MAILBOX_ID_LEN + WIRE_MAX_PASSWORD)
		return proto();
	memcpy(id, p, MAILBOX_ID_LEN);
	id[MAILBOX_ID_LEN] = '\0';
	if (!mailbox_id_valid(id))
		return proto();
	*pw = p + MAILBOX_ID_LEN;
	*plen = len - MAILBOX_ID_LEN;
	return 0;
}

int wire_parse_seen(const uint8_t *p, size_t len, char id[MAILBOX_ID_LEN + 1],
                    char key[WIRE_SEEN_KEY + 1])
{
	if (len != MAILBOX_ID_LEN + WIRE_SEEN_KEY)
		return proto();
	memcpy(id, p, MAILBOX_ID_LEN);
	id[MAILBOX_ID_LEN] = '\0';
	memcpy(key, p + MAILBOX_ID_LEN, WIRE_SEEN_KEY);
	key[WIRE_SEEN_KEY] = '\0';
	if (!mailbox_id_valid(id) || strspn(key, "0123456789abcdef") != WIRE_SEEN_KEY)
		return proto();
	return 0;
}

int wire_parse_u32(const uint8_t *p, size_t len, uint32_t *v)
{
	if (len != 4)
		return proto();
	*v = get32(p);
	return 0;
}

int wire_parse_entry(const uint8_t *p, size_t len, size_t *off, uint64_t *size,
                     char uidl[WIRE_UIDL_MAX + 1])
{
	size_t o = *off, ul;

	if (o > len || len - o < 9)
		return proto();
	*size = (uint64_t)get32(p + o) << 32 | get32(p + o + 4);
	ul = p[o + 8];
	o += 9;
	if (ul == 0 || ul > WIRE_UIDL_MAX || len - o < ul)
		return proto();
	for (size_t i = 0; i < ul; i++)
		if (p[o + i] <= 0x20 || p[o + i] >= 0x7f)
			return proto();
	memcpy(uidl, p + o, ul);
	uidl[ul] = '\0';
	*off = o + ul;
	return 0;
}

int wire_send(int fd, uint8_t type, const void *a, size_t alen, const void *b, size_t blen,
              int pass_fd)
{
	uint8_t h[WIRE_HDR];
	size_t len = alen + blen;
	union {
		struct cmsghdr c;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov[3] = {{h, sizeof h}, {(void *)a, alen}, {(void *)b, blen}};
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 3};
	size_t sent = 0, total = sizeof h + len;

	if (len > WIRE_MAX_PAYLOAD) {
		errno = EMSGSIZE;
		return -1;
	}
	h[0] = type;
	h[1] = (uint8_t)(len >> 24), h[2] = (uint8_t)(len >> 16), h[3] = (uint8_t)(len >> 8),
	h[4] = (uint8_t)len;
	if (pass_fd >= 0) {
		memset(&u, 0, sizeof u);
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof u.buf;
		u.c.cmsg_level = SOL_SOCKET;
		u.c.cmsg_type = SCM_RIGHTS;
		u.c.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&u.c), &pass_fd, sizeof(int));
	}
	while (sent < total) {
		ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		sent += (size_t)n;
		msg.msg_control = NULL; /* the descriptor went with the first byte */
		msg.msg_controllen = 0;
		for (size_t k = (size_t)n; k > 0 && msg.msg_iovlen > 0;) {
			size_t take = k < msg.msg_iov->iov_len ? k : msg.msg_iov->iov_len;
			msg.msg_iov->iov_base = (char *)msg.msg_iov->iov_base + take;
			msg.msg_iov->iov_len -= take;
			k -= take;
			if (msg.msg_iov->iov_len == 0)
				msg.msg_iov++, msg.msg_iovlen--;
		}
	}
	return 0;
}

/* The header, with any descriptor that came with it. */
static int recv_header(int fd, uint8_t h[WIRE_HDR], int *got_fd)
{
	union {
		struct cmsghdr c;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = {h, WIRE_HDR};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
	struct cmsghdr *c;
	ssize_t n;

	do
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		if (n == 0)
			errno = ECONNRESET;
		return -1;
	}
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		int passed;
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len != CMSG_LEN(sizeof(int)))
			continue;
		memcpy(&passed, CMSG_DATA(c), sizeof passed);
		if (got_fd != NULL && *got_fd < 0)
			*got_fd = passed;
		else
			close(passed);
	}
	if ((size_t)n < WIRE_HDR &&
	    fd_read_full(fd, h + n, WIRE_HDR - (size_t)n) != (ssize_t)(WIRE_HDR - (size_t)n)) {
		errno = EPROTO; /* cut short */
		return -1;
	}
	return 0;
}

int wire_recv(int fd, struct wire_frame *f, int *got_fd)
{
	uint8_t h[WIRE_HDR];
	ssize_t n;

	if (got_fd != NULL)
		*got_fd = -1;
	if (recv_header(fd, h, got_fd) < 0 || wire_parse_header(h, &f->type, &f->len) < 0)
		goto fail;
	n = fd_read_full(fd, f->p, f->len);
	if (n != (ssize_t)f->len) {
		if (n >= 0)
			errno = EPROTO; /* cut short */
		goto fail;
	}
	return 0;
fail:
	if (got_fd != NULL && *got_fd >= 0) {
		int saved = errno;
		close(*got_fd);
		*got_fd = -1;
		errno = saved;
	}
	return -1;
}

