/* Unit tests for src/net/sni: the server_name extension read from real
 * ClientHellos (the .hex files in t/net/hello, captured over loopback from mpop,
 * msmtp, gnutls-cli and openssl s_client), the host-name rule, and what
 * an attacker's message does: lying lengths, truncation at every byte,
 * too many names, NULs and overlong names. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/sni.h"
#include "t/tap.h"
#include "util/path.h"

#define HELLO_MAX 4096

static size_t load_hex(const char *name, uint8_t *out, size_t size)
{
	char path[512], *text;
	size_t len, n = 0;
	unsigned v;

	snprintf(path, sizeof path, "%s/net/hello/%s.hex", t_srcdir(), name);
	if (read_file_bounded(path, 4 * HELLO_MAX, &text, &len) < 0)
		bail("%s: cannot read", path);
	for (size_t i = 0; i + 1 < len; i++) {
		if (text[i] == '\n')
			continue;
		if (n == size || sscanf(text + i, "%2x", &v) != 1)
			bail("%s: not hex", path);
		out[n++] = (uint8_t)v;
		i++;
	}
	free(text);
	return n;
}

/* A ClientHello body around the given extensions block contents. */
static size_t hello_with(const uint8_t *exts, size_t elen, uint8_t *out)
{
	size_t n = 0;

	out[n++] = 3, out[n++] = 3; /* legacy_version TLS 1.2 */
	memset(out + n, 0x5a, 32); /* random */
	n += 32;
	out[n++] = 0;               /* session id */
	out[n++] = 0, out[n++] = 2; /* one cipher suite */
	out[n++] = 0x13, out[n++] = 0x01;
	out[n++] = 1, out[n++] = 0; /* null compression */
	out[n++] = (uint8_t)(elen >> 8), out[n++] = (uint8_t)elen;
	memcpy(out + n, exts, elen);
	return n + elen;
}

/* A server_name extension (type 0) of the given entries, appended at p. */
static size_t put_names(uint8_t *p, const int *types, const char *const *names,
			const size_t *lens, size_t k)
{
	size_t list = 0, n;

	for (size_t i = 0; i < k; i++)
		list += 3 + lens[i];
	p[0] = 0, p[1] = 0;
	p[2] = (uint8_t)((list + 2) >> 8), p[3] = (uint8_t)(list + 2);
	p[4] = (uint8_t)(list >> 8), p[5] = (uint8_t)list;
	n = 6;
	for (size_t i = 0; i < k; i++) {
		p[n++] = (uint8_t)types[i];
		p[n++] = (uint8_t)(lens[i] >> 8), p[n++] = (uint8_t)lens[i];
		memcpy(p + n, names[i], lens[i]);
		n += lens[i];
	}
	return n;
}

static int name_is(const uint8_t *hello, const struct sni_name *n, const char *want)
{
	return n->len == strlen(want) && memcmp(hello + n->name_at, want, n->len) == 0;
}

static void real_clients(void)
{
	static const struct {
		const char *file, *name;
	} cap[] = {
		{ "mpop-v6", "::1" },
		{ "msmtp-v6", "::1" },
		{ "gnutls-cli-v6", "::1" },
		{ "openssl-v6", "::1" },
		{ "gnutls-cli-dns", "localhost" },
	};
	uint8_t h[HELLO_MAX], orig[HELLO_MAX];
	struct sni_list l;
	struct sni_name first;

	for (size_t i = 0; i < sizeof cap / sizeof cap[0]; i++) {
		size_t len = load_hex(cap[i].file, h, sizeof h), changed = 0;
		int bad = strcmp(cap[i].name, "localhost") != 0;

		memcpy(orig, h, len);
		ok(sni_find(h, len, &l) == SNI_OK && l.n == 1 && name_is(h, &l.name[0], cap[i].name) &&
			   h[l.name[0].type_at] == 0,
		   "%s: the ClientHello's one host_name is \"%s\"", cap[i].file, cap[i].name);
		is_int(sni_ignore_invalid(h, len, &first), bad, "%s: %s", cap[i].file,
		       bad ? "the IP literal is ignored" : "a DNS name is kept");
		for (size_t j = 0; j < len; j++)
			changed += h[j] != orig[j];
		ok(changed == (size_t)bad && (!bad || (h[l.name[0].type_at] == SNI_TYPE_IGNORED &&
						       first.type_at == l.name[0].type_at)),
		   "%s: %s", cap[i].file,
		   bad ? "only the entry's name_type byte changed" : "not one byte changed");
		ok(sni_find(h, len, &l) == SNI_OK && l.n == (size_t)!bad &&
			   sni_ignore_invalid(h, len, NULL) == 0,
		   "%s: afterwards no bad host_name is left; a second pass changes nothing",
		   cap[i].file);
	}
}

static void host_names(void)
{
	static const char *const good[] = { "localhost", "mail.example.org", "a-b.example",
					    "xn--bcher-kva.example", "a", "0a.example", "MX1.Example.ORG" };
	static const char *const bad[] = { "::1", "127.0.0.1", "[::1]", "a..b", ".a", "a.",
					   "-a.example", "a-.example", "a_b.example", "exa mple",
					   "1.2.3.4.5", "host.123", "fe80::1%lo", "\xc3\xa9.example" };
	char big[300];

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		ok(sni_host_name_ok((const uint8_t *)good[i], strlen(good[i])), "host name ok: %s", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ok(!sni_host_name_ok((const uint8_t *)bad[i], strlen(bad[i])), "refused: %s", bad[i]);
	ok(!sni_host_name_ok((const uint8_t *)"a\0b.example", 11), "refused: an embedded NUL");
	ok(!sni_host_name_ok((const uint8_t *)"", 0), "refused: the empty name");
	memset(big, 'a', sizeof big);
	ok(sni_host_name_ok((const uint8_t *)big, 63) && !sni_host_name_ok((const uint8_t *)big, 64),
	   "a label of 63 bytes is ok, 64 is not");
	for (size_t i = 63; i < 253; i += 64)
		big[i] = '.';
	ok(sni_host_name_ok((const uint8_t *)big, 253) && !sni_host_name_ok((const uint8_t *)big, 254),
	   "a name of 253 bytes is ok, 254 is not");
}

static void crafted(void)
{
	char overlong[300];
	static const int types[] = { 0, 0, 1, 0, 0 };
	const char *names[] = { "::1", "mail.example.org", "x", "a\0b", overlong };
	size_t lens[] = { 3, 16, 1, 3, sizeof overlong };
	uint8_t ext[1024], h[2048], orig[2048];
	struct sni_list l;
	struct sni_name first;
	size_t elen, len;

	memset(overlong, 'o', sizeof overlong);
	elen = put_names(ext, types, names, lens, 5);
	len = hello_with(ext, elen, h);
	memcpy(orig, h, len);
	ok(sni_find(h, len, &l) == SNI_OK && l.n == 4, "four host_names found, the other type skipped");
	is_int(sni_ignore_invalid(h, len, &first), 3, "an IP literal, a NUL and 300 bytes are ignored");
	ok(name_is(h, &first, "::1"), "the first ignored one is reported");
	ok(sni_find(h, len, &l) == SNI_OK && l.n == 1 && name_is(h, &l.name[0], "mail.example.org"),
	   "the valid name stays a host_name");

	/* lying lengths: the list says 1 byte more than the extension holds */
	memcpy(h, orig, len);
	h[len - elen + 5]++;
	ok(sni_find(h, len, &l) == SNI_MALFORMED && sni_ignore_invalid(h, len, NULL) == 0,
	   "a server_name list longer than its extension: malformed, untouched");
	memcpy(h, orig, len);
	h[len - elen + 7] = 0xff; /* the first name claims 0xff03 bytes */
	ok(sni_find(h, len, &l) == SNI_MALFORMED, "a name longer than the list: malformed");
	memcpy(h, orig, len);
	h[len - elen - 1]++; /* the extensions block claims one byte more */
	ok(sni_find(h, len, &l) == SNI_MALFORMED, "an extensions block past the end: malformed");
	memcpy(h, orig, len);
	h[34] = 33;
	ok(sni_find(h, len, &l) == SNI_MALFORMED, "a session id over 32 bytes: malformed");
	ok(sni_find(NULL, 0, &l) == SNI_MALFORMED, "no message: malformed");

	/* every truncation of a real message */
	{
		size_t full = load_hex("mpop-v6", orig, sizeof orig), bad = 0;
		for (size_t cut = 0; cut < full; cut++) {
			memcpy(h, orig, cut);
			if (sni_find(h, cut, &l) == SNI_OK || sni_ignore_invalid(h, cut, NULL) != 0 ||
			    memcmp(h, orig, cut) != 0)
				bad++;
		}
		is_int(bad, 0, "each of the %zu truncations of mpop's ClientHello is left alone", full);
	}
}

static void limits(void)
{
	int types[SNI_NAMES_MAX + 1];
	const char *names[SNI_NAMES_MAX + 1];
	size_t lens[SNI_NAMES_MAX + 1], elen, len;
	uint8_t ext[512], h[1024], orig[1024];
	struct sni_list l;
	char out[8];

	for (size_t i = 0; i <= SNI_NAMES_MAX; i++)
		types[i] = 0, names[i] = "::1", lens[i] = 3;
	elen = put_names(ext, types, names, lens, SNI_NAMES_MAX);
	len = hello_with(ext, elen, h);
	ok(sni_find(h, len, &l) == SNI_OK && l.n == SNI_NAMES_MAX &&
		   sni_ignore_invalid(h, len, NULL) == SNI_NAMES_MAX,
	   "%d names: all found and ignored", SNI_NAMES_MAX);
	elen = put_names(ext, types, names, lens, SNI_NAMES_MAX + 1);
	len = hello_with(ext, elen, h);
	memcpy(orig, h, len);
	ok(sni_find(h, len, &l) == SNI_MALFORMED && sni_ignore_invalid(h, len, NULL) == 0 &&
		   memcmp(h, orig, len) == 0,
	   "%d names: more than this parser vouches for, untouched", SNI_NAMES_MAX + 1);
	lens[0] = 0;
	elen = put_names(ext, types, names, lens, 1);
	len = hello_with(ext, elen, h);
	ok(sni_find(h, len, &l) == SNI_MALFORMED, "an empty host_name: malformed");
	len = hello_with(ext, 0, h);
	ok(sni_find(h, len, &l) == SNI_NONE, "an empty extensions block: no server name");
	ok(sni_find(h, len - 2, &l) == SNI_NONE, "no extensions block: no server name");
	is_str(sni_printable(out, sizeof out, (const uint8_t *)"a\0b c\x7f\xff=xyz", 11), "a?b?c??",
	       "printable: NUL, space, DEL and high bytes as '?', truncated");
}

int main(void)
{
	plan_lazy();
	real_clients();
	host_names();
	crafted();
	limits();
	return done_testing();
}
