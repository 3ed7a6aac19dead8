/* Store internals shared by its files: Maildir names, the maildrop lock,
 * small file helpers. Not for use outside src/store. */
#ifndef MSGW_STORE_INTERNAL_H
#define MSGW_STORE_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "crypt/age.h"
#include "store/admin.h"
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
/* Readers of one message (reader.c): over a stored file, which the reader
 * then owns; over the store helper's pipe; over the helper's WIRE_MESSAGE
 * frame f (malloc'd; the reader frees it). On failure fd or f is released. */
struct wire_frame;
int store_reader_local(struct maildrop_reader **r, int fd, const struct age_identity *id);
int store_reader_remote(struct maildrop_reader **r, int helper, int pipe_fd);
int store_reader_frame(struct maildrop_reader **r, struct wire_frame *f);
/* id sealed with pw at log_n into a new file at path (exclusive create,
 * fsynced): 0, or -1 with errno and path removed. */
int store_write_sealed(const char *path, const struct age_identity *id, const char *pw,
		       size_t plen, int log_n);

/* This host's name with only [A-Za-z0-9.-] (others become '_'), cut short. */
#define STORE_HOST_MAX 32
void maildir_host(char clean[STORE_HOST_MAX]);
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
 * unique file naming host, pid, start time, token and lease, so it works
 * over NFS and GlusterFS; a thread renews the lease (the file's mtime)
 * while it is held. See lock.c for the break rules. EBUSY when held. */
#define STORE_LOCK_WAIT_MS 2000   /* a log-in retries this long while held */
#define STORE_LOCK_LEASE_MAX 86400 /* longer leases in a file: garbled */
struct store_lock_opts {
	int lease;            /* seconds a lock lives without renewal */
	int renew;            /* seconds between renewals */
	int wait_ms;          /* how long take retries a held lock */
};
struct store_lock {
	char path[PATH_MAX];
	char token[192];      /* the text we wrote */
	int held;
	int fd;               /* our lock file, for renewal */
	int renew;
	int renewing, stop;   /* the renewal thread runs; told to stop */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};
void store_lock_opts_from(struct store_lock_opts *o, const struct config *cfg);
int store_lock_take(struct store_lock *l, const char *mbdir, const struct store_lock_opts *o);
void store_lock_release(struct store_lock *l);
/* Stop renewing and close, leaving the file (it went aside with its folder). */
void store_lock_forget(struct store_lock *l);
/* The text of a lock file into info's host, pid, start and lease; 0 when
 * it is a whole, well-formed lock (one line, ending in a newline). */
int store_lock_parse(const char *text, struct store_lock_info *info);
/* Read and judge the lock at path (lease: for an unreadable file). */
int store_lock_examine(const char *path, long lease, struct store_lock_info *info);
/* Remove the lock at path if it is still inode ino. */
int store_lock_break(const char *path, ino_t ino);
/* gethostname() made safe for the lock text. */
void store_lock_host(char *out, size_t size);
/* Field 22 of /proc/PID/stat: start time in clock ticks after boot. */
int store_lock_proc_start(long pid, unsigned long long *start);

/* A new key pair and password for mb (identity.age, then identity.pub);
 * ident receives the identity. On failure password and ident are wiped. */
int store_new_keys(const struct store *st, const struct mailbox *mb, struct age_identity *ident,
		   char password[STORE_PASSWORD_LEN + 1]);

/* mkdir that accepts an existing directory; a new one gets
 * STORE_MODE_TRAVERSE. */
int store_mkdir(const char *path);

#endif
