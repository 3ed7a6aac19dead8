/* The two primitives msgw takes from libsodium rather than Nettle, for
 * speed measured here (t/crypt/bench.sh, t/pop3 and t/smtp benchmarks):
 * - ChaCha20-Poly1305 (RFC 8439) for age's key wrapping and payload:
 *   Debian's Nettle 3.8 has only a one-block SSE2 ChaCha20 on x86-64;
 *   libsodium picks AVX2 at run time, about 3x faster.
 * - X25519 (RFC 7748): one per stored message on each side; libsodium's
 *   takes about half the time of Nettle's here.
 * HKDF, HMAC and SHA-256 stay on Nettle; base64 is libsodium's constant-time
 * codec (b64.c). */
#include "config.h"

#include <sodium.h>

#include "crypt/age-internal.h"

/* sodium_init chooses the CPU-specific implementations; idempotent. */
static void sodium_ready(void)
{
	if (sodium_init() < 0)
		abort();   /* cannot happen on Linux: no usable random source at all */
}

void age_aead_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *in, size_t n,
		   uint8_t *out)
{
	sodium_ready();
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(out, out + n, NULL, in, n, NULL, 0, NULL,
							   nonce, key);
}

int age_aead_open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *in, size_t n,
		  uint8_t *out)
{
	sodium_ready();
	if (n < AGE_TAG_SIZE)
		return -1;
	/* The tag is checked in constant time before anything is written. */
	return crypto_aead_chacha20poly1305_ietf_decrypt_detached(out, NULL, in, n - AGE_TAG_SIZE,
								  in + n - AGE_TAG_SIZE, NULL, 0,
								  nonce, key);
}

void age_x25519_base(uint8_t out[32], const uint8_t scalar[32])
{
	sodium_ready();
	crypto_scalarmult_curve25519_base(out, scalar);
}

int age_x25519(uint8_t out[32], const uint8_t scalar[32], const uint8_t point[32])
{
	sodium_ready();
	/* libsodium refuses low-order points and an all-zero result, which
	 * age forbids; report both the same way. */
	if (crypto_scalarmult_curve25519(out, scalar, point) != 0) {
		sodium_memzero(out, 32);
		return -1;
	}
	return 0;
}
