/* SASL PLAIN (RFC 4616): the decoded message split into its parts. */
#include "config.h"

#include <string.h>

#include "sasl/sasl.h"

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
