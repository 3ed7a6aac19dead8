/* Store internals shared by its files: Maildir names, the maildrop lock,
 * small file helpers. Not for use outside src/store. */
#ifndef MSGW_STORE_INTERNAL_H
#define MSGW_STORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "crypt/age.h"
#include "store/store.h"

/* Longest Maildir name msgw writes (the unique part stays a valid UIDL:
 * at most 70 printable characters). */
#define STORE_NAME_MAX 160
#define STORE_UIDL_MAX 70
/* Stale tmp/ files: Maildir says 36 hours. */
#define STORE_TMP_MAX_AGE (36 * 3600)
#define STORE_LOCK_NAME "maildrop.lock"

/* Map an age_err to errno (EIO, EBADMSG, EACCES, ENOMEM, EINVAL) and
 * return -1; AGE_ERR_IO keeps the errno the crypt layer left. */
int store_age_errno(int age_err);

/* A fresh unique part "<time>.R<16 hex>P<pid>.<host>" (no ',' ':' '/'). */
int maildir_unique(char *out, size_t size);
/* Parse a Maildir name: unique part length, S=, W=, time; sized is 0 when
 * S= or W= is missing. Returns -1 for names that are no message. */
int maildir_parse(const char *name, size_t *uidl_len, uint64_t *s, uint64_t *w, time_t *t,
		  int *sized);
/* Remove files of dir older than max_age seconds (at most limit of them). */
void maildir_clean_tmp(const char *dir, time_t max_age, size_t limit);

/* Parse the text of mailbox.conf of mailbox id into mb (EBADMSG). */
int store_conf_parse(const char *text, const char *id, struct mailbox *mb);

/* Read identity.pub of a mailbox. */
int store_read_recipient(const struct mailbox *mb, struct age_recipient *r);

/* The maildrop lock: <mailbox>/maildrop.lock, made by link(2) from a
 * unique file naming host and pid, so it works over NFS. EBUSY when held;
 * a lock of this host whose pid is gone is broken. */
struct store_lock {
	char path[PATH_MAX];
	char token[128];      /* "host pid rand\n" as written */
	int held;
};
int store_lock_take(struct store_lock *l, const char *mbdir);
void store_lock_release(struct store_lock *l);

/* mkdir that accepts an existing directory; a new one gets
 * STORE_MODE_TRAVERSE. */
int store_mkdir(const char *path);

#endif
