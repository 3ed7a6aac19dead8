/* The administrator's side of the store, used by msgw-mbox: mailbox life
 * cycle, message listing and statistics, generated passwords. Same
 * conventions as store.h (0 or -1 with errno), plus:
 *   EPERM      refused: the mailbox is not suspended
 *   ENOTEMPTY  refused: the mailbox still holds messages
 *   EILSEQ     a name or description is not bounded UTF-8 without control characters
 */
#ifndef MSGW_STORE_ADMIN_H
#define MSGW_STORE_ADMIN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "crypt/age.h"
#include "store/store.h"

/* 6 groups of 5 characters from a 32-letter alphabet without look-alikes
 * (Crockford's: no i, l, o, u), joined by '-': 150 random bits. */
#define STORE_PASSWORD_LEN 35
/* Longest password accepted on input (a file or a prompt). */
#define STORE_PASSWORD_MAX 1024

int store_password_generate(char out[STORE_PASSWORD_LEN + 1]);
/* 16 lowercase base32 characters from 80 random bits. */
int mailbox_id_generate(char out[MAILBOX_ID_LEN + 1]);
/* Well-formed UTF-8 of at most max bytes, no control characters (C0, DEL,
 * C1), non-empty unless allow_empty. 1 when valid. */
int mailbox_text_valid(const char *s, size_t max, int allow_empty);

/* Create <root>/<id> complete (built under a hidden name, then renamed),
 * active. password receives the generated password (wipe it after use). */
int store_mailbox_create(const struct store *st, const char *name, const char *description,
			 struct mailbox *mb, char password[STORE_PASSWORD_LEN + 1]);
/* Every mailbox, sorted by creation time then id; free() the array. A
 * mailbox that does not load (damaged mailbox.conf) is left out and, when
 * bad is not NULL, reported through it with its errno. */
int store_mailbox_list(const struct store *st, struct mailbox **mbs, size_t *n,
		       void (*bad)(void *arg, const char *id, int err), void *arg);
/* Rewrite mailbox.conf from mb (name, description, status): tmp + fsync + rename. */
int store_mailbox_save(const struct store *st, const struct mailbox *mb);
/* Suspended and empty only (EPERM / ENOTEMPTY), not while a POP3 session
 * holds the maildrop (EBUSY). The folder is renamed aside first. */
int store_mailbox_delete(const struct store *st, const char *id);
/* Suspended and empty only: a new key pair sealed with a new password. */
int store_mailbox_reset_password(const struct store *st, const char *id,
				 char password[STORE_PASSWORD_LEN + 1]);
/* Open identity.age with the password: EACCES when it is wrong. */
int store_identity_unseal(const struct store *st, const struct mailbox *mb, const char *password,
			  size_t plen, struct age_identity *id);

struct mailbox_stats {
	uint64_t messages;
	uint64_t bytes;     /* stored (encrypted) bytes, from the S= of the names */
	time_t oldest;      /* delivery time of the oldest message; 0 when empty */
};
/* Counts new/ and cur/ from the file names (no decryption). */
int store_mailbox_stats(const struct mailbox *mb, struct mailbox_stats *s);

/* One stored message file, as found in new/ or cur/. */
struct store_msgfile {
	char sub[4];          /* "new" or "cur" */
	char *name;           /* file name (malloc'd) */
	size_t uidl_len;      /* the unique part is name[0 .. uidl_len) */
	uint64_t size;        /* S= (0 when the name carries no sizes) */
	uint64_t msize;       /* W= */
	time_t time;          /* delivery time from the name */
	int sized;            /* 1 when the name carries S= and W= */
};
/* Every regular file of new/ and cur/ (hidden names skipped), sorted by
 * time then name; release with store_msgfiles_free. At most max files
 * (E2BIG past it). */
int store_mailbox_files(const struct mailbox *mb, size_t max, struct store_msgfile **v, size_t *n);
void store_msgfiles_free(struct store_msgfile *v, size_t n);

/* Who holds the maildrop lock of mb: "host pid" into out and 1, or 0
 * when it is free. */
int store_lock_holder(const struct mailbox *mb, char *out, size_t size);

/* When running as root, become the owner (uid and gid) of data_dir, so
 * root never leaves files the service user cannot read. No-op otherwise. */
int store_become_owner(const char *data_dir);

/* Modes of the tree (msgw-store(5), "Who can do what"): the front ends'
 * parsers may pass through data_dir, mailboxes/ and a mailbox folder
 * without listing them, and read mailbox.conf and identity.pub; all else
 * is the store user's alone. */
#define STORE_USER_NAME "msgw"       /* owns the tree (share/msgw.sysusers) */
#define STORE_MODE_TRAVERSE 0711     /* data_dir, mailboxes/, mailboxes/<id>/ */
#define STORE_MODE_PUBLIC 0644       /* mailbox.conf, identity.pub */
#define STORE_MODE_PRIVATE 0600      /* identity.age, messages, locks */
#define STORE_MODE_MAILDIR 0700      /* tmp/ new/ cur/ */

/* Compare the tree with those owners and modes (the owner: data_dir's,
 * which should be the msgw user); fn gets each drift. Returns how many. */
typedef void (*drift_fn)(void *arg, const char *path, const char *what);
size_t store_tree_drift(const struct store *st, drift_fn fn, void *arg);

#endif
