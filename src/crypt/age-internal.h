/* Internals of src/crypt shared by its files, its tests and its fuzz
 * targets. Nothing outside src/crypt and t/crypt includes this. */
#ifndef MSGW_CRYPT_AGE_INTERNAL_H
#define MSGW_CRYPT_AGE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "crypt/age.h"
#include "util/buf.h"

#define AGE_INTRO "age-encryption.org/v1"
#define AGE_FILE_KEY_SIZE 16
#define AGE_TAG_SIZE 16
#define AGE_AEAD_NONCE_SIZE 12
#define AGE_NONCE_SIZE 16 /* the payload nonce after the header */
#define AGE_MAC_SIZE 32
#define AGE_WRAPPED_KEY_SIZE (AGE_FILE_KEY_SIZE + AGE_TAG_SIZE)
#define AGE_ENC_CHUNK_SIZE (AGE_CHUNK_SIZE + AGE_TAG_SIZE)
/* A header longer than this is refused (about 8000 X25519 recipients). */
#define AGE_HEADER_MAX (1024 * 1024)
/* Longest base64 text the strict decoder takes: one body line. */
#define AGE_B64_LINE 64
#define AGE_B64_LINE_BYTES 48

/* Strict, unpadded base64 (the age spec's "canonical base64"): only the
 * standard alphabet, no padding, no whitespace, zero trailing bits. Decodes
 * at most AGE_B64_LINE characters. 0, or -1 when not canonical or when the
 * result would not fit in cap bytes. */
int age_b64_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *outlen);
/* Unpadded base64 of n bytes into out (size 4 * ceil(n / 3) + 1, NUL-ended);
 * returns the length written, without padding. */
size_t age_b64_encode(const uint8_t *p, size_t n, char *out);

/* HKDF-SHA256 with a 32-byte output. */
/* ChaCha20-Poly1305 with a 12-byte nonce: seal writes n bytes of
 * ciphertext and the 16-byte tag to out; open takes ciphertext+tag (n
 * bytes in all), writes n-16 bytes of plaintext, returns 0 or -1 when the
 * tag does not verify (out is then unspecified: do not release it). */
void age_aead_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *in, size_t n,
		   uint8_t *out);
int age_aead_open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *in, size_t n,
		  uint8_t *out);
/* X25519: the public point of a scalar, and a shared secret; the latter
 * returns -1 (out zeroed) for a low-order point or an all-zero result. */
void age_x25519_base(uint8_t out[32], const uint8_t scalar[32]);
int age_x25519(uint8_t out[32], const uint8_t scalar[32], const uint8_t point[32]);
void age_hkdf(const uint8_t *salt, size_t saltlen, const uint8_t *ikm, size_t ikmlen,
              const char *info, uint8_t out[32]);

/* A parsed header. Offsets point into text (the header bytes as read), so
 * the buffers may move while the header grows. */
struct age_stanza {
	size_t line_off, line_len; /* "-> TYPE ARGS..." without the newline */
	size_t body_off, body_len; /* decoded body, in bodies */
};

struct age_header {
	struct buf text;   /* raw header, capped at AGE_HEADER_MAX */
	struct buf bodies; /* decoded stanza bodies */
	struct age_stanza *st;
	size_t nst, cap;
	int state;         /* parser state, internal */
	size_t line_start; /* offset in text of the current line */
	size_t mac_len;    /* bytes of text the MAC covers ("---" included) */
	uint8_t mac[AGE_MAC_SIZE];
};

void age_header_init(struct age_header *h);
void age_header_free(struct age_header *h);
/* Feed header bytes; *used = how many were consumed. Returns 1 when the
 * closing "---" line was parsed (bytes after it are not consumed), 0 when
 * more input is needed, AGE_ERR_HEADER or AGE_ERR_NOMEM. */
int age_header_feed(struct age_header *h, const uint8_t *p, size_t n, size_t *used);
/* The arguments of stanza i (type first), pointers into h->text, lengths in
 * lens; returns their count (at most max; extra ones are counted only). */
size_t age_stanza_args(const struct age_header *h, size_t i, const char **args, size_t *lens,
                       size_t max);

/* Unwrap a file key from a parsed header: with X25519 identities, or with
 * a password (scrypt). The header MAC is then verified. */
int age_header_unwrap_x25519(const struct age_header *h, const struct age_identity *ids,
                             size_t nids, uint8_t file_key[AGE_FILE_KEY_SIZE]);
int age_header_unwrap_scrypt(const struct age_header *h, const char *password, size_t plen,
                             int max_log_n, uint8_t file_key[AGE_FILE_KEY_SIZE]);
int age_header_verify_mac(const struct age_header *h, const uint8_t file_key[AGE_FILE_KEY_SIZE]);

#endif
