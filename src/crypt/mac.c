/* HMAC-SHA256 for keyed indexes (the proxy's seen-UIDL records). */
#include "config.h"

#include <nettle/hmac.h>

#include "crypt/mac.h"
#include "util/wipe.h"

void crypt_hmac_sha256(const void *key, size_t klen, const void *msg, size_t n,
		       uint8_t out[CRYPT_HMAC_SIZE])
{
	struct hmac_sha256_ctx ctx;

	hmac_sha256_set_key(&ctx, klen, key);
	hmac_sha256_update(&ctx, n, msg);
	hmac_sha256_digest(&ctx, CRYPT_HMAC_SIZE, out);
	wipe(&ctx, sizeof ctx);
}
