/* ChaCha20-Poly1305 (RFC 8439) for age's key wrapping and payload chunks.
 * libsodium, not Nettle: Debian's Nettle 3.8 has only a one-block SSE2
 * ChaCha20 on x86-64, libsodium picks AVX2 at run time; measured here the
 * payload runs about 3x faster (see t/crypt/bench.sh). Everything else in
 * src/crypt stays on Nettle. */
#include "config.h"

#include <sodium.h>

#include "crypt/age-internal.h"

/* sodium_init chooses the CPU-specific implementations; idempotent. */
static void aead_init(void)
{
	if (sodium_init() < 0)
		abort();   /* cannot happen on Linux: no usable random source at all */
}

void age_aead_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *in, size_t n,
		   uint8_t *out)
{
	aead_init();
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(out, out + n, NULL, in, n, NULL, 0, NULL,
							   nonce, key);
}

int age_aead_open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *in, size_t n,
		  uint8_t *out)
{
	aead_init();
	if (n < AGE_TAG_SIZE)
		return -1;
	/* The tag is checked in constant time before anything is written. */
	return crypto_aead_chacha20poly1305_ietf_decrypt_detached(out, NULL, in, n - AGE_TAG_SIZE,
								  in + n - AGE_TAG_SIZE, NULL, 0,
								  nonce, key);
}
