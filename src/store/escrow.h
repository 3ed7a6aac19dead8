/* The escrow recipient (man/msgw-store.5, "Escrow"): a second X25519
 * stanza on every message stored while one is configured, for
 * crypt.escrow_recipient or the mailbox's own escrow_recipient, so that
 * the holder of the escrow identity opens them with the stock age tool.
 * Same conventions as store.h (0 or -1 with errno). */
#ifndef MSGW_STORE_ESCROW_H
#define MSGW_STORE_ESCROW_H

#include "crypt/age.h"
#include "store/admin.h"
#include "store/store.h"

/* The escrow recipient in effect for mb: 1 and *r, 0 when there is none. */
int store_escrow_recipient(const struct store *st, const struct mailbox *mb, struct age_recipient *r);
/* Its text ("age1...") and where it comes from: "mailbox" or
 * "crypt.escrow_recipient"; 0 when there is none. */
int store_escrow_describe(const struct store *st, const struct mailbox *mb, const char **text,
			  const char **source);

struct escrow_reset {
	unsigned long reencrypted;   /* messages moved to the new key pair */
	unsigned long left;          /* arrived meanwhile without an escrow stanza: left as they are */
};
/* reset-password with the escrow identity for a suspended mailbox that
 * holds messages: a new key pair sealed with a new password, and every
 * message re-encrypted to it (and again to the escrow identity's
 * recipient), under the maildrop lock. EPERM unless suspended; EACCES when
 * some message does not open with the escrow identity (then nothing is
 * changed). Interrupted, it can be run again with the same identity. */
int store_mailbox_reset_escrow(const struct store *st, const char *id,
			       const struct age_identity *escrow,
			       char password[STORE_PASSWORD_LEN + 1], struct escrow_reset *out);

#endif
