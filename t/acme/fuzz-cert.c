/* libFuzzer target: what msgw-acme reads from a CA or a file it did not
 * make: a PEM certificate chain (parsed, described for status and ARI,
 * verified), and the base64url and RFC 3339 parsers. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme/internal.h"
#include "acme/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct achain *c = NULL;
	struct acert_info info;
	struct acme_err e;
	unsigned char out[256];
	char s[128];
	size_t n;
	time_t t;

	if (achain_from_pem(&c, (const char *)data, size, &e) == 0) {
		if (achain_info(c, &info, &e) == 0 && strlen(info.sans) >= sizeof info.sans)
			abort();
		(void)achain_verify(c, NULL, 1800000000, &e);
		(void)achain_has_name(c, "a.example");
		achain_free(c);
	}
	if (b64url_decode((const char *)data, size, out, sizeof out, &n) == 0 && n > sizeof out)
		abort();
	n = size < sizeof s - 1 ? size : sizeof s - 1;
	memcpy(s, data, n);
	s[n] = '\0';
	(void)parse_time(s, &t);
	return 0;
}
