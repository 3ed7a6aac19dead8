/* The store through the store helper (privilege separation): what
 * delivery.c and maildrop.c do instead of touching files when
 * cfg->store_helper.on is set. Internal to src/store. */
#ifndef MSGW_STORE_REMOTE_H
#define MSGW_STORE_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "store/internal.h"
#include "store/wire.h"

int remote_delivery_begin(int fd, const struct mailbox *const *mbs, size_t n);
/* Sends n bytes in frames; errors of the helper come with prepare/commit. */
int remote_delivery_write(int fd, const void *p, size_t n);
/* Sends an empty request; with want_status, waits for its STATUS. */
int remote_call(int fd, uint8_t type, int want_status);

/* Log-in: the message list comes back into the arrays (free them). */
int remote_maildrop_login(int fd, const char *id, const char *pw, size_t plen,
			  struct maildrop_msg **msgs, char (**uidls)[STORE_UIDL_MAX + 1], size_t *n);
/* Message i as a stream the helper re-encrypts to a fresh key of ours:
 * *msg_fd gets the stream, *d a decryptor over it. */
int remote_maildrop_open(int fd, size_t i, int *msg_fd, struct age_decryptor **d);
/* Sends the deleted indices, then commits. */
int remote_maildrop_commit(int fd, const struct maildrop_msg *msgs, size_t n);

#endif
