/* Unit tests for the pure parts of src/acme: base64url, RFC 3339 times,
 * when to renew (lifetime rule and ARI window), keys, JWS signatures and
 * thumbprints, CSRs and certificate facts. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/internal.h"
#include "acme/renewal.h"
#include "acme/x509.h"
#include "t/tap.h"

static void test_b64url(void)
{
	struct buf b;
	unsigned char out[64];
	size_t n = 0;
	static const struct {
		const char *in, *out;
	} v[] = { { "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" }, { "foob", "Zm9vYg" },
		  { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" }, { "\xfb\xff", "-_8" } };

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		buf_init(&b, 0);
		b64url_append(&b, v[i].in, strlen(v[i].in));
		is_str(b.data ? b.data : "", v[i].out, "base64url of \"%s\" (RFC 4648 vectors, no padding)", v[i].in);
		ok(b64url_decode(v[i].out, strlen(v[i].out), out, sizeof out, &n) == 0 && n == strlen(v[i].in) &&
			   memcmp(out, v[i].in, n) == 0,
		   "decodes back: %s", v[i].out);
		buf_free(&b);
	}
	ok(b64url_decode("Zm9v!", 5, out, sizeof out, &n) < 0, "a bad character is refused");
	ok(b64url_decode("Zm9vYmFy", 8, out, 3, &n) < 0, "output overflow is refused");
}

static void test_time(void)
{
	time_t t = 0;
	char s[32];

	ok(parse_time("2026-02-03T04:05:06Z", &t) == 0 && t == 1770091506, "RFC 3339 UTC");
	ok(parse_time("2026-02-03T04:05:06.123456Z", &t) == 0 && t == 1770091506, "fractional seconds ignored");
	ok(parse_time("2026-02-03T06:05:06+02:00", &t) == 0 && t == 1770091506, "numeric offset");
	ok(parse_time("2026-02-03T04:05:06", &t) < 0, "no zone is refused");
	ok(parse_time("2026-02-03T04:05:06Zjunk", &t) < 0, "trailing junk is refused");
	ok(parse_time("yesterday", &t) < 0, "garbage is refused");
	is_str(fmt_time(1770091506, s, sizeof s), "2026-02-03T04:05:06Z", "formatted back");
}

static void test_lifetime(void)
{
	struct acert_info i;
	struct renew_plan p;
	const time_t day = 86400, nb = 1800000000;

	memset(&i, 0, sizeof i);
	i.not_before = nb;
	i.not_after = nb + 90 * day;
	renewal_by_lifetime(&i, nb + 59 * day, &p);
	ok(!p.due && p.renew_at == nb + 60 * day, "90 days: due when 30 days are left (a third), not before");
	renewal_by_lifetime(&i, nb + 60 * day, &p);
	ok(p.due, "90 days: due at 60 days");
	i.not_after = nb + 45 * day;
	renewal_by_lifetime(&i, nb, &p);
	is_int(p.renew_at, nb + 30 * day, "45 days: renew at 30 days");
	i.not_after = nb + 6 * day;
	renewal_by_lifetime(&i, nb, &p);
	is_int(p.renew_at, nb + 3 * day, "6 days (under 10): renew at half the lifetime");
	i.not_after = nb + 10 * day;
	renewal_by_lifetime(&i, nb, &p);
	ok(p.renew_at > nb + 6 * day && p.renew_at < nb + 7 * day, "10 days: a third again");
}

static void test_window(void)
{
	struct renew_plan p, q;
	const time_t s = 1800000000, e = s + 86400;
	int spread = 0;

	renewal_in_window("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", s, e, s - 10, &p);
	ok(p.renew_at >= s && p.renew_at <= e && !p.due && p.ari, "the chosen time is inside the window");
	renewal_in_window("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", s, e, s - 500, &q);
	is_int(q.renew_at, p.renew_at, "and the same on every run");
	renewal_in_window("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", s - 2 * 86400, s - 86400, s, &q);
	ok(q.due, "a window in the past: due now");
	for (int k = 0; k < 20; k++) {
		char id[32];
		snprintf(id, sizeof id, "cert-%d", k);
		renewal_in_window(id, s, e, s, &q);
		spread |= 1 << (int)((q.renew_at - s) * 4 / 86400);
	}
	ok(spread == 0xf || spread == 0x1f, "different certificates spread over the window (%#x)", spread);
}

static void test_keys(void)
{
	struct akey *k = NULL, *k2 = NULL;
	struct achain *c = NULL;
	struct acert_info info;
	struct acme_err e;
	struct buf pem, jwk, sig, csr;
	char th[64], th2[64];
	const char *names[] = { "mail.example.org", "192.0.2.7" };

	buf_init(&pem, 0);
	buf_init(&jwk, 0);
	buf_init(&sig, 0);
	buf_init(&csr, 0);
	ok(akey_generate(&k, &e) == 0, "P-256 key generated");
	ok(akey_to_pem(k, &pem, &e) == 0 && strstr(pem.data, "BEGIN PRIVATE KEY"), "exported as PKCS#8 PEM");
	ok(akey_from_pem(&k2, pem.data, pem.len, &e) == 0, "read back");
	ok(akey_jwk(k, &jwk, &e) == 0 && strncmp(jwk.data, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"", 31) == 0 &&
		   jwk.len == 31 + 43 + 7 + 43 + 2,
	   "JWK members in RFC 7638 order, 32-byte coordinates");
	ok(akey_thumbprint(k, th, sizeof th, &e) == 0 && strlen(th) == 43, "thumbprint is 43 base64url chars");
	ok(akey_thumbprint(k2, th2, sizeof th2, &e) == 0 && strcmp(th, th2) == 0, "same key, same thumbprint");
	ok(akey_sign_es256(k, "abc", 3, &sig, &e) == 0 && sig.len == 86, "ES256 signature is r||s (64 bytes)");
	ok(acsr_make(k, names, 2, &csr, &e) == 0 && csr.len > 100, "CSR made");
	ok(acert_selfsigned(k, names, 2, 3, &c, &e) == 0 && achain_info(c, &info, &e) == 0,
	   "self-signed certificate made and read");
	is_str(info.sans, "mail.example.org,192.0.2.7", "its SANs (a DNS name and an IP address)");
	is_str(info.subject, "CN=mail.example.org", "its subject");
	ok(info.self_signed && info.not_after - info.not_before == 3 * 86400 + 3600, "self-signed, 3 days (+1 h)");
	ok(achain_matches_key(c, k2, &e) == 1, "the key matches it");
	ok(achain_has_name(c, "mail.example.org") && !achain_has_name(c, "other.example.org"), "names checked");
	ok(achain_verify(c, NULL, time(NULL), &e) == 0, "a self-signed certificate anchors itself");
	ok(achain_verify(c, NULL, time(NULL) + 5 * 86400, &e) < 0 && strstr(e.msg, "expired"),
	   "after its end it is expired: %s", e.msg);
	akey_free(k2);
	k2 = NULL;
	ok(akey_generate(&k2, &e) == 0 && achain_matches_key(c, k2, &e) == 0, "another key does not match");
	ok(akey_from_pem(&k2, "junk", 4, &e) < 0, "junk is not a key");
	ok(achain_from_pem(&c, "junk", 4, &e) < 0, "junk is not a chain");
	achain_free(c);
	akey_free(k);
	akey_free(k2);
	buf_wipe_free(&pem);
	buf_free(&jwk);
	buf_free(&sig);
	buf_free(&csr);
}

int main(void)
{
	plan_lazy();
	test_b64url();
	test_time();
	test_lifetime();
	test_window();
	test_keys();
	return done_testing();
}
