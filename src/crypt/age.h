/* The age v1 file format (age-encryption.org/v1, C2SP): X25519 and scrypt
 * recipients, streaming encryption and decryption in 64 KiB chunks.
 * This is msgw's one crypto vocabulary: nothing outside src/crypt sees
 * Nettle or GnuTLS types. Every function returns 0 (or a count) on success
 * and a negative enum age_err on failure; age_strerror() names it. */
#ifndef MSGW_CRYPT_AGE_H
#define MSGW_CRYPT_AGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "util/buf.h"

#define AGE_CHUNK_SIZE 65536
#define AGE_KEY_SIZE 32
/* "age1" + 58 bech32 characters + NUL */
#define AGE_RECIPIENT_STRLEN 63
/* "AGE-SECRET-KEY-1" + 58 + NUL */
#define AGE_IDENTITY_STRLEN 75
/* Opening refuses scrypt work factors above this (age's own limit is 22). */
#define AGE_SCRYPT_MAX_LOG_N 22

enum age_err {
	AGE_OK = 0,
	AGE_ERR_IO = -1,          /* read/write failed: errno says why */
	AGE_ERR_HEADER = -2,      /* malformed or unsupported header */
	AGE_ERR_HMAC = -3,        /* header MAC does not verify */
	AGE_ERR_PAYLOAD = -4,     /* a payload chunk failed to verify, or truncation/trailing data */
	AGE_ERR_NO_IDENTITY = -5, /* no stanza opens with the given identities / wrong password */
	AGE_ERR_NOMEM = -6,
	AGE_ERR_ARG = -7,         /* bad key string, bad parameter */
	AGE_ERR_WORK_FACTOR = -8, /* scrypt log N above the limit */
};

const char *age_strerror(int err);

struct age_recipient {
	uint8_t pub[AGE_KEY_SIZE];          /* X25519 public key */
};

struct age_identity {
	uint8_t secret[AGE_KEY_SIZE];       /* X25519 secret scalar: wipe with age_identity_wipe */
	uint8_t pub[AGE_KEY_SIZE];
};

/* Random bytes from the system CSPRNG (gnutls_rnd); 0 or AGE_ERR_IO. */
int crypt_random(void *buf, size_t n);

/* Keys: bech32 "age1..." and "AGE-SECRET-KEY-1..." (canonical case only). */
int age_recipient_parse(const char *s, struct age_recipient *r);
int age_recipient_format(const struct age_recipient *r, char out[AGE_RECIPIENT_STRLEN]);
int age_identity_parse(const char *s, struct age_identity *id);
int age_identity_format(const struct age_identity *id, char out[AGE_IDENTITY_STRLEN]);
int age_identity_generate(struct age_identity *id);
void age_identity_recipient(const struct age_identity *id, struct age_recipient *r);
void age_identity_wipe(struct age_identity *id);

/* The identity file exactly as age-keygen writes it:
 *   # created: 2006-01-02T15:04:05Z
 *   # public key: age1...
 *   AGE-SECRET-KEY-1...
 * out receives the text (use buf_wipe_free on it). */
int age_identity_file_write(const struct age_identity *id, time_t created, struct buf *out);
/* Parse such a file: '#' comments and blank lines skipped, exactly one key. */
int age_identity_file_parse(const char *text, size_t len, struct age_identity *id);

/* Streaming encryption to an fd: begin makes the file key and the header;
 * the header goes out with the first chunk (one writev), then each 64 KiB
 * chunk with one write as it fills, one chunk held back to mark the last
 * one; finish writes the last chunk (so a file is written only from the
 * first full chunk or from finish on). Memory is constant: about 2 chunks
 * (130 KiB) per encryptor. A recipient that is a low-order point is
 * refused (AGE_ERR_ARG). After AGE_ERR_IO (errno says why) every later
 * call fails the same way. */
struct age_encryptor;
int age_encrypt_begin(struct age_encryptor **e, const struct age_recipient *r, size_t nr, int out_fd);
/* One scrypt stanza (the only stanza, as the spec requires); log_n 1..22,
 * AGE_ERR_WORK_FACTOR above. */
int age_encrypt_begin_scrypt(struct age_encryptor **e, const char *password, size_t plen,
			     int log_n, int out_fd);
int age_encrypt_update(struct age_encryptor *e, const void *p, size_t n);
/* Writes the last chunk, frees e; *total (may be NULL) = ciphertext bytes written. */
int age_encrypt_finish(struct age_encryptor *e, uint64_t *total);
/* Frees e without finishing (the output is then incomplete: discard it). */
void age_encrypt_abort(struct age_encryptor *e);

/* Streaming decryption from an fd (a file, a pipe or a socket): begin
 * reads the header, unwraps the file key (AGE_ERR_NO_IDENTITY when nothing
 * opens), verifies the header MAC (AGE_ERR_HMAC) and reads the payload
 * nonce; any malformed header, a header above 1 MiB or a missing nonce is
 * AGE_ERR_HEADER. It may read ahead into the payload. Memory is constant:
 * about 130 KiB per decryptor.
 * read releases plaintext only from chunks whose tag verified and returns
 * 0 only after the final chunk verified and no data follows it. It fills
 * buf as far as it can; plaintext verified before an error is returned
 * first, the error (AGE_ERR_PAYLOAD, AGE_ERR_IO) on the next call and
 * every call after. A final chunk followed by trailing data is itself
 * authentic: its plaintext is returned, then AGE_ERR_PAYLOAD. */
struct age_decryptor;
int age_decrypt_begin(struct age_decryptor **d, int in_fd, const struct age_identity *ids, size_t nids);
/* max_log_n: refuse files whose scrypt log N is above it
 * (AGE_ERR_WORK_FACTOR) before any work; 0, or above 22, means 22. */
int age_decrypt_begin_scrypt(struct age_decryptor **d, int in_fd, const char *password, size_t plen,
			     int max_log_n);
/* >0 bytes, 0 at the verified end, or a negative age_err. */
ssize_t age_decrypt_read(struct age_decryptor *d, void *buf, size_t n);
void age_decrypt_end(struct age_decryptor *d);

/* A whole identity sealed with a password: the identity file text
 * encrypted to one scrypt stanza (what `age -p` makes of a key file), so
 * `age -d -i sealed FILE` opens it with the stock tool. Unseal takes what
 * age -p made too: at most 16 KiB of identity file with exactly one key;
 * a wrong password is AGE_ERR_NO_IDENTITY. */
int age_identity_seal(const struct age_identity *id, time_t created, const char *password,
		      size_t plen, int log_n, int out_fd);
int age_identity_unseal(int in_fd, const char *password, size_t plen, int max_log_n,
			struct age_identity *id);
/* The scrypt work factor (log2 N) a sealed file was made with, read from
 * its first stanza with pread (the file offset does not move): 1..63, or
 * AGE_ERR_HEADER when the file does not start with one scrypt stanza,
 * AGE_ERR_IO. Says nothing about whether the file is authentic. */
int age_scrypt_work_factor(int fd);

#endif
