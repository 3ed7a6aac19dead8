/* Hashes for the store's de-duplication index: streaming SHA-256 of a
 * message and HMAC-SHA256 under a per-mailbox key (Nettle underneath;
 * nothing outside src/crypt sees its types). */
#ifndef MSGW_CRYPT_DIGEST_H
#define MSGW_CRYPT_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define CRYPT_SHA256_SIZE 32

struct crypt_sha256;
/* NULL when out of memory. */
struct crypt_sha256 *crypt_sha256_new(void);
void crypt_sha256_update(struct crypt_sha256 *h, const void *p, size_t n);
/* The digest into out; frees h. */
void crypt_sha256_final(struct crypt_sha256 *h, uint8_t out[CRYPT_SHA256_SIZE]);
/* Frees h without a digest (NULL is fine). */
void crypt_sha256_free(struct crypt_sha256 *h);

void crypt_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
		       uint8_t out[CRYPT_SHA256_SIZE]);

#endif
