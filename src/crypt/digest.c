/* SHA-256 and HMAC-SHA256 over Nettle, for the de-duplication index. */
#include "config.h"

#include <nettle/hmac.h>
#include <nettle/sha2.h>
#include <stdlib.h>

#include "crypt/digest.h"
#include "util/wipe.h"

struct crypt_sha256 {
	struct sha256_ctx ctx;
};

struct crypt_sha256 *crypt_sha256_new(void)
{
	struct crypt_sha256 *h = malloc(sizeof *h);

	if (h != NULL)
		sha256_init(&h->ctx);
	return h;
}

void crypt_sha256_update(struct crypt_sha256 *h, const void *p, size_t n)
{
	sha256_update(&h->ctx, n, p);
}

void crypt_sha256_final(struct crypt_sha256 *h, uint8_t out[CRYPT_SHA256_SIZE])
{
	sha256_digest(&h->ctx, CRYPT_SHA256_SIZE, out);
	crypt_sha256_free(h);
}

void crypt_sha256_free(struct crypt_sha256 *h)
{
	if (h == NULL)
		return;
	wipe(h, sizeof *h);
	free(h);
}

void crypt_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
		       uint8_t out[CRYPT_SHA256_SIZE])
{
	struct hmac_sha256_ctx ctx;

	hmac_sha256_set_key(&ctx, klen, key);
	hmac_sha256_update(&ctx, mlen, msg);
	hmac_sha256_digest(&ctx, CRYPT_SHA256_SIZE, out);
	wipe(&ctx, sizeof ctx);
}
