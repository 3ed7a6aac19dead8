/* libFuzzer target: the age header parser, the stanza unwrappers and the
 * header MAC on arbitrary bytes. The same input is also fed one byte at a
 * time: the parser must reach the same result either way. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypt/age-internal.h"

#define VEC_IDENTITY "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct age_identity id;
	static int have_id;
	struct age_header h, h2;
	uint8_t file_key[AGE_FILE_KEY_SIZE] = {0};
	size_t used, used2 = 0, u, i;
	int rc, rc2 = 0;

	if (!have_id) {
		if (age_identity_parse(VEC_IDENTITY, &id) != 0)
			abort();
		have_id = 1;
	}
	age_header_init(&h);
	rc = age_header_feed(&h, data, size, &used);

	age_header_init(&h2);
	for (i = 0; i < size && rc2 == 0; i++) {
		rc2 = age_header_feed(&h2, data + i, 1, &u);
		used2 += u;
	}
	if (rc != rc2 || (rc == 1 && (used != used2 || h.nst != h2.nst || h.mac_len != h2.mac_len)))
		abort();
	age_header_free(&h2);

	if (rc == 1) {
		for (i = 0; i < h.nst; i++) {
			const char *args[8];
			size_t lens[8], n = age_stanza_args(&h, i, args, lens, 8);
			if (n == 0 || lens[0] == 0)
				abort(); /* the parser promised a type */
		}
		age_header_unwrap_x25519(&h, &id, 1, file_key);
		/* A low limit keeps each run fast whatever log N the input asks. */
		age_header_unwrap_scrypt(&h, "password", 8, 4, file_key);
		age_header_verify_mac(&h, file_key);
	}
	age_header_free(&h);
	return 0;
}
