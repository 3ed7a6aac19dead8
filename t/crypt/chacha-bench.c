/* Raw ChaCha20-Poly1305 speed on this CPU, the ceiling for msgw's age
 * payload: 64 KiB chunks in memory, as STREAM seals them, no I/O. Measures
 * the AEAD msgw uses (src/crypt/aead.c, libsodium) and, for the record,
 * Nettle's. Prints "encrypt E decrypt D nettle-encrypt NE nettle-decrypt ND"
 * in MiB/s, each the median of five runs over 256 MiB. Used by
 * t/crypt/bench.sh. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nettle/chacha-poly1305.h>

#include "crypt/age-internal.h"

#define CHUNK 65536
#define TOTAL (256 * 1024 * 1024)
#define RUNS 5

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The AEAD of src/crypt/aead.c. Opening fails on the unrelated tag but
 * still costs the full MAC and (for libsodium) no decryption: so decrypt
 * runs over a properly sealed chunk. */
static double run_msgw(int decrypt)
{
	static uint8_t in[CHUNK + 16], out[CHUNK + 16];
	uint8_t key[32], nonce[12] = {0};
	double t, speed[RUNS];
	size_t i, r;

	memset(key, 7, sizeof key);
	memset(in, 1, sizeof in);
	age_aead_seal(key, nonce, in, CHUNK, out);
	memcpy(in, out, sizeof in);
	for (r = 0; r < RUNS; r++) {
		t = now();
		for (i = 0; i < TOTAL / CHUNK; i++) {
			if (decrypt) {
				if (age_aead_open(key, nonce, in, CHUNK + 16, out) != 0)
					abort();
			} else {
				nonce[10] = (uint8_t)i;
				nonce[9] = (uint8_t)(i >> 8);
				age_aead_seal(key, nonce, in, CHUNK, out);
			}
		}
		speed[r] = TOTAL / (1024.0 * 1024.0) / (now() - t);
	}
	qsort(speed, RUNS, sizeof speed[0], cmp);
	return speed[RUNS / 2];
}

static double run(int decrypt)
{
	static uint8_t in[CHUNK], out[CHUNK + 16];
	uint8_t key[CHACHA_POLY1305_KEY_SIZE], nonce[CHACHA_POLY1305_NONCE_SIZE] = {0};
	struct chacha_poly1305_ctx ctx;
	double t, speed[RUNS];
	size_t i, r;

	memset(key, 7, sizeof key);
	memset(in, 1, sizeof in);
	chacha_poly1305_set_key(&ctx, key);
	for (r = 0; r < RUNS; r++) {
		t = now();
		for (i = 0; i < TOTAL / CHUNK; i++) {
			nonce[10] = (uint8_t)i;
			nonce[9] = (uint8_t)(i >> 8);
			chacha_poly1305_set_nonce(&ctx, nonce);
			if (decrypt)
				chacha_poly1305_decrypt(&ctx, CHUNK, out, in);
			else
				chacha_poly1305_encrypt(&ctx, CHUNK, out, in);
			chacha_poly1305_digest(&ctx, 16, out + CHUNK);
		}
		speed[r] = TOTAL / (1024.0 * 1024.0) / (now() - t);
	}
	qsort(speed, RUNS, sizeof speed[0], cmp);
	return speed[RUNS / 2];
}

int main(void)
{
	double e = run_msgw(0), d = run_msgw(1), ne = run(0), nd = run(1);

	printf("encrypt %.0f decrypt %.0f nettle-encrypt %.0f nettle-decrypt %.0f\n", e, d, ne, nd);
	return 0;
}
