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
/* After a successful unseal with pw: when identity.age was sealed at
 * another work factor than crypt.scrypt_log_n, seal id again at that one,
 * atomically (see reseal.c). 0 (also when nothing was to do), or -1. */
int store_identity_refresh(const struct store *st, const struct mailbox *mb,
			   const struct age_identity *id, const char *pw, size_t plen);
int store_identity_unseal(const struct store *st, const struct mailbox *mb, const char *password,
			  size_t plen, struct age_identity *id);

struct mailbox_stats {
	uint64_t messages;
	uint64_t bytes;     /* stored (encrypted) bytes, from the S= of the names */
	time_t oldest;      /* delivery time of the oldest message; 0 when empty */
	time_t newest;      /* delivery time of the newest message; 0 when empty */
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
/* The same, but past max the oldest max files are kept (by time then
 * name) and *left_out counts the others; memory stays bounded by max. */
int store_mailbox_oldest(const struct mailbox *mb, size_t max, struct store_msgfile **v,
			 size_t *n, size_t *left_out);
void store_msgfiles_free(struct store_msgfile *v, size_t n);

/* The maildrop lock as found on disk (see src/store/lock.c). */
enum store_lock_state {
	STORE_LOCK_FREE = 0,  /* no lock file */
	STORE_LOCK_LIVE,      /* held: lease running (or holder alive on this host) */
	STORE_LOCK_EXPIRED,   /* lease ran out: any host may break it */
	STORE_LOCK_DEAD,      /* names this host and a pid that is gone */
	STORE_LOCK_REUSED,    /* names this host and a pid now of another process */
};
struct store_lock_info {
	enum store_lock_state state;
	int present, readable;  /* a file is there; its text is a whole lock */
	char host[64];          /* holder (readable only) */
	long pid;
	unsigned long long start;
	long lease;             /* seconds: the holder's, or the configured one */
	long long age_ms;       /* since the last renewal (the file's mtime) */
	ino_t ino;
};
const char *store_lock_state_name(enum store_lock_state s);
int store_lock_inspect(const struct store *st, const struct mailbox *mb,
		       struct store_lock_info *info);
/* Remove the lock of mb: ENOENT when there is none, EBUSY while its lease
 * runs unless force. info tells what was removed. */
int store_lock_unlock(const struct store *st, const struct mailbox *mb, int force,
		      struct store_lock_info *info);

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
