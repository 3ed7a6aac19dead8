/* The store helper's wire protocol: what an unprivileged front end may ask
 * the process that owns the store (src/privsep/helper.c), over a
 * socketpair. A frame is one type byte, a 4-byte big-endian payload length
 * and the payload; every type has a fixed range of lengths, checked before
 * the payload is read, so a peer can make the reader hold at most
 * WIRE_MAX_PAYLOAD bytes. This parser is the trust boundary of privilege
 * separation: see man/msgw.7, SECURITY. */
#ifndef MSGW_STORE_WIRE_H
#define MSGW_STORE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define WIRE_HDR 5
#define WIRE_MAX_PAYLOAD 65536
#define WIRE_MAX_RCPT 4095 /* ids in one BEGIN: under 64 KiB */
#define WIRE_SLOTS                                                                                 \
	4 /* deliveries open at once (the proxy commits                                            \
	   * one while the next message arrives) */
#define WIRE_MAX_PASSWORD 1024
#define WIRE_SEEN_KEY 32 /* SEEN_KEY_LEN */
#define WIRE_UIDL_MAX 70 /* STORE_UIDL_MAX */

enum wire_type {
	/* front end -> helper; a delivery's frames start with its slot byte */
	WIRE_BEGIN = 1,     /* slot, n ids of MAILBOX_ID_LEN bytes; reply STATUS */
	WIRE_DATA = 2,      /* slot, 1..64 KiB - 1 of message; no reply */
	WIRE_PREPARE = 3,   /* slot; reply STATUS */
	WIRE_COMMIT = 4,    /* slot; the helper commits in a thread and sends COMMITTED */
	WIRE_ABORT = 5,     /* slot; reply STATUS once the tmp/ files are gone */
	WIRE_LOGIN = 6,     /* id + password; reply LIST* then STATUS */
	WIRE_OPEN = 7,      /* u32 index; reply MESSAGE (all of a message under 64 KiB),
	                     * or STATUS (+ the read end of a pipe with the plaintext,
	                     * then MSGEND once the pipe is closed) */
	WIRE_DELE = 8,      /* u32 index; no reply */
	WIRE_MCOMMIT = 9,   /* empty; reply STATUS */
	WIRE_MCLOSE = 10,   /* empty; reply STATUS once the maildrop lock is released */
	WIRE_SEEN_HAS = 11, /* id + 32-byte key of the proxy's seen index; STATUS:
	                     * 0 seen, ENOENT not */
	WIRE_SEEN_ADD = 12, /* id + key; reply STATUS */
	WIRE_TRACE = 13,    /* slot, msgw's own trace header (delivery_trace), before
	                     * any DATA; no reply */
	/* helper -> front end */
	WIRE_STATUS = 64, /* u32 errno, 0 for success */
	WIRE_LIST = 65,   /* entries: u64 size, u8 uidl length, uidl */
	WIRE_FAILED = 66, /* slot, u32 errno: a delivery's first failed write,
	                   * unasked, so the sender can stop early */
	WIRE_COMMITTED = 67, /* slot, u32 errno (0: committed), u32 copies de-duplication
	                      * dropped; unasked, whenever the commit is done */
	WIRE_MSGEND = 68,    /* u32 errno: the opened message was written whole (0),
	                      * damaged (EBADMSG) or the pipe closed early (EPIPE) */
	WIRE_MESSAGE = 69,   /* the plaintext of the opened message, whole and verified */
};

struct wire_frame {
	uint8_t type;
	uint32_t len;
	uint8_t p[WIRE_MAX_PAYLOAD];
};

/* Check a header: 0 and the type and length, or -1 (EPROTO) for an unknown
 * type or a length outside that type's range. */
int wire_parse_header(const uint8_t h[WIRE_HDR], uint8_t *type, uint32_t *len);

/* Payload decoders: 0, or -1 with EPROTO. */
/* The slot byte of a delivery frame (< WIRE_SLOTS). */
int wire_parse_slot(const uint8_t *p, size_t len, unsigned *slot);
/* The ids of a BEGIN, after its slot byte. */
int wire_parse_ids(const uint8_t *p, size_t len, char ids[][MAILBOX_ID_LEN + 1], size_t *n);
int wire_parse_login(const uint8_t *p, size_t len, char id[MAILBOX_ID_LEN + 1], const uint8_t **pw,
                     size_t *plen);
/* id and key of a SEEN_HAS / SEEN_ADD (key: 32 lowercase hex digits). */
int wire_parse_seen(const uint8_t *p, size_t len, char id[MAILBOX_ID_LEN + 1],
                    char key[WIRE_SEEN_KEY + 1]);
int wire_parse_u32(const uint8_t *p, size_t len, uint32_t *v);
/* A u32 into a payload, big-endian as every number on the wire. */
void wire_put32(uint8_t *p, uint32_t v);
/* One LIST entry at *off; advances *off. uidl gets a NUL. */
int wire_parse_entry(const uint8_t *p, size_t len, size_t *off, uint64_t *size,
                     char uidl[WIRE_UIDL_MAX + 1]);

/* Send one frame (and, when pass_fd >= 0, that descriptor with it). */
int wire_send(int fd, uint8_t type, const void *a, size_t alen, const void *b, size_t blen,
              int pass_fd);
/* Receive one frame into f; *got_fd (may be NULL: any fd is closed) gets a
 * passed descriptor or -1. 0, or -1 with errno: EPROTO for a bad frame or
 * one cut short, ECONNRESET at the end of the stream between frames. */
int wire_recv(int fd, struct wire_frame *f, int *got_fd);

#endif
