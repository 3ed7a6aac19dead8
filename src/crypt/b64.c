/* The one base64 of the tree, on libsodium's constant-time codec (no
 * table lookups indexed by secret data: SASL credentials and age file
 * keys pass through it). Decoding is strict: only the alphabet, padding
 * exactly as the variant wants it, and no stray bits in the last
 * character (libsodium refuses them), so every input has one meaning.
 * B64_AGE is age's canonical form (C2SP age: standard alphabet, no
 * padding). */
#include "config.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "crypt/b64.h"

static int variant(enum b64_variant v)
{
	return v == B64_AGE ? sodium_base64_VARIANT_ORIGINAL_NO_PADDING
	                    : sodium_base64_VARIANT_ORIGINAL;
}

int b64_encode_variant(const void *in, size_t n, char *out, size_t outsize, enum b64_variant v)
{
	if (outsize < sodium_base64_ENCODED_LEN(n, variant(v))) {
		errno = ENOBUFS;
		return -1;
	}
	sodium_bin2base64(out, outsize, in, n, variant(v));
	return (int)strlen(out);
}

int b64_decode_variant(const char *in, size_t n, unsigned char *out, size_t outsize,
                       size_t *outlen, enum b64_variant v)
{
	const char *end;
	size_t len = 0;

	*outlen = 0;
	if (outsize == 0 || (v == B64_PADDED && n % 4 != 0))
		return -1;
	if (sodium_base642bin(out, outsize - 1, in, n, NULL, &len, &end, variant(v)) != 0 ||
	    end != in + n)
		return -1;
	out[len] = '\0';
	*outlen = len;
	return 0;
}

int b64_encode(const void *in, size_t n, char *out, size_t outsize)
{
	return b64_encode_variant(in, n, out, outsize, B64_PADDED) < 0 ? -1 : 0;
}

int b64_decode(const char *in, size_t n, unsigned char *out, size_t outsize, size_t *outlen)
{
	return b64_decode_variant(in, n, out, outsize, outlen, B64_PADDED);
}
