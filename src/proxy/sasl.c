/* base64 (RFC 4648) and SASL PLAIN (RFC 4616) for the proxy's log-ins. */
#include "config.h"

#include <string.h>

#include "proxy/proxy.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_val(unsigned char c)
{
	const char *p = c ? strchr(b64, c) : NULL;

	return p ? (int)(p - b64) : -1;
}

int b64_decode(const char *in, size_t inlen, unsigned char *out, size_t outsize, size_t *outlen)
{
	size_t i, o = 0, pad = 0;
	unsigned long acc = 0;

	*outlen = 0;
	if (inlen % 4 != 0)
		return -1;
	for (i = 0; i < inlen; i++) {
		int v;
		if (in[i] == '=') {
			if (i < inlen - 2 || (i == inlen - 2 && in[inlen - 1] != '='))
				return -1;
			pad++;
			v = 0;
		} else if ((v = b64_val((unsigned char)in[i])) < 0) {
			return -1;
		}
		acc = (acc << 6) | (unsigned long)v;
		if (i % 4 == 3) {
			size_t k, take = 3 - (i == inlen - 1 ? pad : 0);
			if (o + take + 1 > outsize)
				return -1;
			for (k = 0; k < take; k++)
				out[o++] = (unsigned char)(acc >> (16 - 8 * k));
			acc = 0;
		}
	}
	if (o + 1 > outsize)
		return -1;
	out[o] = '\0';
	*outlen = o;
	return 0;
}

int b64_encode(const void *in, size_t inlen, char *out, size_t outsize)
{
	const unsigned char *p = in;
	size_t i, o = 0;

	if (outsize < (inlen + 2) / 3 * 4 + 1)
		return -1;
	for (i = 0; i < inlen; i += 3) {
		unsigned long v = (unsigned long)p[i] << 16;
		if (i + 1 < inlen)
			v |= (unsigned long)p[i + 1] << 8;
		if (i + 2 < inlen)
			v |= p[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < inlen ? b64[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < inlen ? b64[v & 63] : '=';
	}
	out[o] = '\0';
	return 0;
}

int sasl_plain_split(const unsigned char *msg, size_t len, const char **user, const char **pass,
                     size_t *plen)
{
	const unsigned char *z1 = memchr(msg, '\0', len), *z2;

	if (z1 == NULL)
		return -1;
	z2 = memchr(z1 + 1, '\0', len - (size_t)(z1 + 1 - msg));
	if (z2 == NULL || z2 == z1 + 1)
		return -1;
	/* authzid: empty, or the same as authcid (no acting for someone else) */
	if (z1 != msg && ((size_t)(z1 - msg) != (size_t)(z2 - z1 - 1) ||
	                  memcmp(msg, z1 + 1, (size_t)(z1 - msg)) != 0))
		return -1;
	*user = (const char *)z1 + 1;
	*pass = (const char *)z2 + 1;
	*plen = len - (size_t)(z2 + 1 - msg);
	if (memchr(*pass, '\0', *plen) != NULL)
		return -1;
	return 0;
}
