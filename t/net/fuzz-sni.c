/* libFuzzer target for src/net/sni, which reads the server_name extension
 * of a ClientHello straight off the network: no input may read or write
 * outside the message, every name found lies inside it, sni_ignore_invalid
 * changes nothing but the name_type bytes of refused names and leaves no
 * refused host_name behind, and a name sni_host_name_ok accepts is one
 * GnuTLS accepts too (letters, digits, '-' and '.': so an accepted name
 * never reaches the refusal this code exists to avoid). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/sni.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_gnutls_subset(const uint8_t *name, size_t len)
{
	if (!sni_host_name_ok(name, len))
		return;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.'))
			abort();
	}
}

static void check_found(const struct sni_list *l, size_t size)
{
	if (l->n > SNI_NAMES_MAX)
		abort();
	for (size_t i = 0; i < l->n; i++) {
		const struct sni_name *n = &l->name[i];
		if (n->len == 0 || n->type_at + 3 != n->name_at || n->name_at > size ||
		    n->len > size - n->name_at)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	struct sni_list before, after;
	enum sni_result r;
	size_t ignored, changed = 0;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	check_gnutls_subset(data, size);
	r = sni_find(data, size, &before);
	if (r == SNI_OK)
		check_found(&before, size);
	ignored = sni_ignore_invalid(copy, size, NULL);
	for (size_t i = 0; i < size; i++) {
		if (copy[i] == data[i])
			continue;
		if (copy[i] != SNI_TYPE_IGNORED || data[i] != 0)
			abort();
		changed++;
	}
	if (changed != ignored || (r != SNI_OK && ignored != 0))
		abort();
	if (r == SNI_OK) {
		if (sni_find(copy, size, &after) != SNI_OK || after.n + ignored != before.n)
			abort();
		for (size_t i = 0; i < after.n; i++)
			if (!sni_host_name_ok(copy + after.name[i].name_at, after.name[i].len))
				abort();
		if (sni_ignore_invalid(copy, size, NULL) != 0)
			abort();
	}
	free(copy);
	return 0;
}
