/* Keyed hashing: HMAC-SHA256, the one MAC the rest of the code uses. */
#ifndef MSGW_CRYPT_MAC_H
#define MSGW_CRYPT_MAC_H

#include <stddef.h>
#include <stdint.h>

#define CRYPT_HMAC_SIZE 32

void crypt_hmac_sha256(const void *key, size_t klen, const void *msg, size_t n,
		       uint8_t out[CRYPT_HMAC_SIZE]);

#endif
