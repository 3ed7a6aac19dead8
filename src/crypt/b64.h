/* base64 (RFC 4648) for the whole tree: SASL (padded), age (unpadded,
 * canonical). See b64.c. */
#ifndef MSGW_CRYPT_B64_H
#define MSGW_CRYPT_B64_H

#include <stddef.h>

enum b64_variant {
	B64_PADDED, /* standard alphabet, "=" padding: SASL, POP3 AUTH */
	B64_AGE,    /* standard alphabet, no padding: age headers */
};

/* NUL-terminated into out: the length, or -1 when out is too small. */
int b64_encode_variant(const void *in, size_t n, char *out, size_t outsize, enum b64_variant v);
/* Exactly in[0..n), strictly; out gets a NUL after the *outlen bytes
 * (so it needs one byte more). -1 when malformed or out is too small. */
int b64_decode_variant(const char *in, size_t n, unsigned char *out, size_t outsize,
                       size_t *outlen, enum b64_variant v);

/* The padded variant (SASL): 0 or -1. */
int b64_encode(const void *in, size_t n, char *out, size_t outsize);
int b64_decode(const char *in, size_t n, unsigned char *out, size_t outsize, size_t *outlen);

#endif
