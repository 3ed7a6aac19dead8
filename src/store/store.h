/* The mailbox store: one encrypted Maildir per mailbox under
 * <data_dir>/mailboxes/<id>/ (see man/msgw-store.5). No database: the
 * tree is the truth, safe to back up and to share between hosts.
 * Functions return 0 on success, -1 with errno set on failure:
 *   ENOENT   no such mailbox          EINVAL  bad id / bad argument
 *   EACCES   wrong password           EBUSY   maildrop locked by another session
 *   ENOSPC   disk full                EPERM   refused (e.g. not suspended / not empty)
 *   EBADMSG  a stored file does not decrypt / is damaged
 */
#ifndef MSGW_STORE_STORE_H
#define MSGW_STORE_STORE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "conf/conf.h"
#include "crypt/age.h"
#include "util/cidr.h"

#define MAILBOX_ID_LEN 16
#define MAILBOX_NAME_MAX 128        /* bytes of UTF-8 */
#define MAILBOX_DESC_MAX 1024
#define MAILBOX_MAX_NETWORKS 32

struct store {
	const struct config *cfg;
	char root[PATH_MAX];            /* <data_dir>/mailboxes */
};

struct mailbox {
	char id[MAILBOX_ID_LEN + 1];
	char name[MAILBOX_NAME_MAX + 1];
	char description[MAILBOX_DESC_MAX + 1];
	int suspended;
	int proxy;                      /* a recording-proxy mailbox, not a journal target */
	time_t created;
	struct cidr networks[MAILBOX_MAX_NETWORKS];   /* per-mailbox allowed_networks */
	size_t n_networks;
	char dir[PATH_MAX];
	/* mailbox.conf escrow_recipient: "" inherits crypt.escrow_recipient,
	 * "none" turns it off, else an age1... recipient (store/escrow.h). */
	char escrow[AGE_RECIPIENT_STRLEN];
	int64_t dedup_window;           /* seconds; 0: no de-duplication (store/dedup.h) */
};

int store_init(struct store *st, const struct config *cfg);

/* [a-z2-7]{16}: checked before any path is built from an id. */
int mailbox_id_valid(const char *id);
int store_mailbox_load(const struct store *st, const char *id, struct mailbox *mb);

/* Delivery: one streaming pass writes an encrypted copy into tmp/ of each
 * mailbox; commit fsyncs each file, renames it into new/ under a unique
 * Maildir name ",S=<file bytes>,W=<message bytes with CRLF>", fsyncs new/.
 * Any failure fails the whole delivery and leaves nothing in new/. */
struct delivery;
/* EPERM when a mailbox is suspended. Stale tmp/ files are cleaned here. */
int delivery_begin(struct delivery **d, const struct store *st,
		   const struct mailbox *const *mbs, size_t n);
/* msgw's own trace header, written first: what follows it is the content
 * that de-duplication compares (a delivery without it is never dropped). */
int delivery_trace(struct delivery *d, const void *p, size_t n);
int delivery_write(struct delivery *d, const void *p, size_t n);
/* Optional first half of commit: finish and fsync every copy in tmp/, so
 * that only renames remain. The proxy calls it before it lets a message
 * go upstream, so that nothing leaves unrecorded. After it, no more
 * delivery_write. -1 with errno (ENOSPC...); then abort. */
int delivery_prepare(struct delivery *d);
/* Frees d. On failure nothing is left in new/ of any mailbox. Returns
 * how many copies de-duplication dropped (0 or more), or -1. */
int delivery_commit(struct delivery *d);
/* Frees d, removes the tmp files. */
void delivery_abort(struct delivery *d);

/* Retrieval (POP3): open with the password (scrypt once), under an
 * exclusive maildrop lock; messages of new/ and cur/, sizes from the names. */
struct maildrop;
struct maildrop_msg {
	const char *uidl;     /* unique part of the Maildir name */
	uint64_t size;        /* W=: octets as RETR sends them, before dot-stuffing */
	int deleted;
};
/* ENOENT unknown mailbox, EACCES wrong password, EBUSY locked. A
 * suspended mailbox can still be emptied. new/ entries move to cur/. */
int maildrop_open(struct maildrop **m, const struct store *st, const char *id,
		  const char *password, size_t plen);
size_t maildrop_count(const struct maildrop *m);
const struct maildrop_msg *maildrop_get(const struct maildrop *m, size_t i);
/* A reader over message i (release with maildrop_reader_end before the
 * next one). EBADMSG when the stored file does not open with the mailbox
 * key. */
struct maildrop_reader;
int maildrop_open_message(struct maildrop *m, size_t i, struct maildrop_reader **r);
/* Up to n bytes of the plaintext: > 0; 0 only once the whole message has
 * verified; -1 with errno (EBADMSG: the stored file is damaged). */
ssize_t maildrop_read(struct maildrop_reader *r, void *buf, size_t n);
/* Why the last -1, for the log. */
const char *maildrop_read_error(const struct maildrop_reader *r);
void maildrop_reader_end(struct maildrop_reader *r);
int maildrop_delete(struct maildrop *m, size_t i);
void maildrop_reset(struct maildrop *m);
/* Apply deletions (unlink + fsync). */
int maildrop_commit(struct maildrop *m);
/* Unlock, wipe the identity, free. */
void maildrop_close(struct maildrop *m);

/* More for msgw-mbox: store/admin.h. */

#endif
