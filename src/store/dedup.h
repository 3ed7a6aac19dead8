/* Per-mailbox de-duplication (man/msgw-store.5, "De-duplication"): an
 * index of keyed hashes of the messages stored within a window, one name
 * per message under <mailbox>/dedup/ (a hard link to an empty anchor file),
 * HMAC-SHA256(dedup.key, SHA-256(content)) in hex, dated by its mtime.
 * No locks: link(2) (or O_EXCL) decides between gateways on one tree,
 * and an entry is only ever made after its message is durable in new/,
 * so a lost entry costs a duplicate and never a message. Same conventions
 * as store.h (0 or -1 with errno). */
#ifndef MSGW_STORE_DEDUP_H
#define MSGW_STORE_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#include "crypt/digest.h"
#include "store/store.h"

#define STORE_DEDUP_KEY_SIZE 32
#define STORE_DEDUP_NAME_LEN (2 * CRYPT_SHA256_SIZE)
#define STORE_DEDUP_WINDOW_MAX (366LL * 86400)
/* After a sweep the index holds at most this many entries. */
#define STORE_DEDUP_INDEX_MAX 1000000

/* "7d", "12h", "90m", "3600s", "3600" (seconds) or "off"/"0" into seconds;
 * -1 (EINVAL) when malformed or above STORE_DEDUP_WINDOW_MAX. */
int store_dedup_window_parse(const char *s, int64_t *seconds);
/* "7d" style text of a window ("off" for 0). */
void store_dedup_window_format(int64_t seconds, char *out, size_t size);

/* <mbdir>/dedup.key: read it, or create it (random, published with
 * link(2) so that concurrent creators on any host agree on one key). */
int store_dedup_key(const char *mbdir, uint8_t key[STORE_DEDUP_KEY_SIZE]);

struct store_dedup_stats {
	uint64_t dropped;    /* duplicates answered 250 and not stored */
	uint64_t entries;    /* index entries now (live or not yet swept) */
};
int store_dedup_stats(const struct mailbox *mb, struct store_dedup_stats *s);

/* For delivery.c: the entry name of a content digest under key. */
void dedup_entry_name(const uint8_t key[STORE_DEDUP_KEY_SIZE],
		      const uint8_t digest[CRYPT_SHA256_SIZE], char name[STORE_DEDUP_NAME_LEN + 1]);
/* 1 when the index holds name stored within window seconds, else 0. */
int dedup_seen(const char *mbdir, const char *name, int64_t window);
/* After the copy is durable in new/: 0 when recorded as ours, 1 when a
 * fresh entry of another delivery was there first (drop ours), -1 on
 * error (the message stays stored; only its entry is missing). */
int dedup_record(const char *mbdir, const char *name, int64_t window);
/* Count one dropped duplicate. Best effort. */
void dedup_count_dropped(const char *mbdir);
/* At most once an hour per mailbox: remove expired entries, and past
 * STORE_DEDUP_INDEX_MAX some live ones. Best effort. */
void dedup_sweep(const char *mbdir, int64_t window);

#endif
