/* The store through the store helper (privilege separation): what
 * delivery.c and maildrop.c do instead of touching files when
 * cfg->store_helper.on is set. Internal to src/store. */
#ifndef MSGW_STORE_REMOTE_H
#define MSGW_STORE_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "store/internal.h"
#include "store/wire.h"

/* A delivery is one of the helper's WIRE_SLOTS: *slot gets it. Several
 * threads may use the helper at once (the proxy commits in a thread of
 * its own); a thread takes the answer to its request (a ticket) before it
 * waits for anything else. */
int remote_delivery_begin(int fd, const struct mailbox *const *mbs, size_t n, unsigned *slot);
/* Sends n bytes in frames of type (WIRE_DATA, or WIRE_TRACE for msgw's
 * trace header); errors of the helper come with prepare/commit. */
int remote_delivery_write(int fd, unsigned slot, uint8_t type, const void *p, size_t n);
/* COMMIT; frees the slot. The copies de-duplication dropped, or -1. */
int remote_delivery_commit(int fd, unsigned slot);
/* PREPARE, COMMIT and ABORT wait for the helper's answer (after an ABORT
 * nothing of the message is left in tmp/); COMMIT and ABORT free the slot. */
int remote_delivery_call(int fd, unsigned slot, uint8_t type);
/* A request without payload (MCLOSE, MCOMMIT); with want_status, waits for
 * its answer. */
int remote_call(int fd, uint8_t type, int want_status);

/* Log-in: the message list comes back into the arrays (free them). */
int remote_maildrop_login(int fd, const char *id, const char *pw, size_t plen,
                          struct maildrop_msg **msgs, char (**uidls)[STORE_UIDL_MAX + 1],
                          size_t *n);
/* Ask for message i (OPEN), then read the answer into a reader: the whole
 * message in one frame, or a pipe the helper fills (until that reader's
 * remote_maildrop_end the helper answers nothing else). Requests and
 * answers keep their order, so the next message can be asked for before
 * the current one is read. */
int remote_maildrop_request(int fd, size_t i, uint64_t *ticket);
int remote_maildrop_reply(int fd, uint64_t ticket, struct maildrop_reader **r);
/* The helper's WIRE_MSGEND for the open message: 0 when the whole message
 * verified and was written, else its errno (EBADMSG damaged, EPIPE when
 * we closed the pipe first). */
int remote_maildrop_end(int fd);
/* Sends the deleted indices, then commits. */
int remote_maildrop_commit(int fd, const struct maildrop_msg *msgs, size_t n);

#endif
