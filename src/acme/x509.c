/* GnuTLS X.509, PKCS#12, CSR and key code for msgw-acme.
 *
 * The style rule keeps GnuTLS/Nettle headers to src/crypt and src/net/tls.c;
 * certificates are the ACME concern, so this file is the one allowed place
 * for them in src/acme. Everything else in src/acme sees only the opaque
 * types of acme/x509.h. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/pkcs12.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/x509.h"
#include "util/wipe.h"

#define MAX_CHAIN 16

struct akey {
	gnutls_x509_privkey_t x509;
	gnutls_privkey_t priv;
};

struct achain {
	gnutls_x509_crt_t crt[MAX_CHAIN];
	size_t n;
};

static int gerr(struct acme_err *e, const char *what, int rc)
{
	return aerr(e, "%s: %s", what, gnutls_strerror(rc));
}

void akey_free(struct akey *k)
{
	if (k == NULL)
		return;
	if (k->priv)
		gnutls_privkey_deinit(k->priv);
	if (k->x509)
		gnutls_x509_privkey_deinit(k->x509);
	free(k);
}

/* Wrap an x509 private key (taking ownership) for signing. */
static int akey_wrap(gnutls_x509_privkey_t x, struct akey **out, struct acme_err *e)
{
	struct akey *k = calloc(1, sizeof *k);
	int rc;

	if (k == NULL) {
		gnutls_x509_privkey_deinit(x);
		return aerr(e, "out of memory");
	}
	k->x509 = x;
	if ((rc = gnutls_privkey_init(&k->priv)) < 0 ||
	    (rc = gnutls_privkey_import_x509(k->priv, x, 0)) < 0) {
		akey_free(k);
		return gerr(e, "private key", rc);
	}
	*out = k;
	return 0;
}

int akey_generate(struct akey **out, struct acme_err *e)
{
	return akey_generate_rsa(out, 0, e);
}

int akey_generate_rsa(struct akey **out, unsigned rsa_bits, struct acme_err *e)
{
	gnutls_x509_privkey_t x;
	int rc;

	if ((rc = gnutls_x509_privkey_init(&x)) < 0)
		return gerr(e, "key generation", rc);
	if (rsa_bits)
		rc = gnutls_x509_privkey_generate(x, GNUTLS_PK_RSA, rsa_bits, 0);
	else
		rc = gnutls_x509_privkey_generate(x, GNUTLS_PK_ECDSA,
						  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
	if (rc < 0) {
		gnutls_x509_privkey_deinit(x);
		return gerr(e, "key generation", rc);
	}
	return akey_wrap(x, out, e);
}

int akey_is_rsa(const struct akey *k)
{
	return gnutls_x509_privkey_get_pk_algorithm2(k->x509, NULL) == GNUTLS_PK_RSA;
}

int akey_from_pem(struct akey **out, const char *pem, size_t len, struct acme_err *e)
{
	gnutls_x509_privkey_t x;
	gnutls_datum_t d = { (unsigned char *)pem, (unsigned)len };
	int rc;

	if ((rc = gnutls_x509_privkey_init(&x)) < 0)
		return gerr(e, "private key", rc);
	/* Accepts PKCS#8 (unencrypted), PKCS#1 and SEC1 PEM. */
	rc = gnutls_x509_privkey_import2(x, &d, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN);
	if (rc < 0) {
		gnutls_x509_privkey_deinit(x);
		return gerr(e, "not a readable unencrypted PEM private key", rc);
	}
	return akey_wrap(x, out, e);
}

int akey_to_pem(const struct akey *k, struct buf *out, struct acme_err *e)
{
	gnutls_datum_t d = { NULL, 0 };
	int rc;

	rc = gnutls_x509_privkey_export2_pkcs8(k->x509, GNUTLS_X509_FMT_PEM, NULL,
					       GNUTLS_PKCS_PLAIN, &d);
	if (rc < 0)
		return gerr(e, "exporting the private key", rc);
	rc = buf_append(out, d.data, d.size);
	wipe(d.data, d.size);
	gnutls_free(d.data);
	return rc < 0 ? aerr(e, "out of memory") : 0;
}

/* A coordinate as exactly 32 bytes, base64url: JWK wants fixed length. */
static int coord_b64(struct buf *out, const gnutls_datum_t *d)
{
	unsigned char c[32];
	const unsigned char *p = d->data;
	size_t n = d->size;

	while (n > 32 && *p == 0) {
		p++;
		n--;
	}
	if (n > 32)
		return -1;
	memset(c, 0, sizeof c);
	memcpy(c + (32 - n), p, n);
	return b64url_append(out, c, sizeof c);
}

int akey_jwk(const struct akey *k, struct buf *out, struct acme_err *e)
{
	gnutls_ecc_curve_t curve;
	gnutls_datum_t x = { NULL, 0 }, y = { NULL, 0 };
	int rc;

	rc = gnutls_privkey_export_ecc_raw2(k->priv, &curve, &x, &y, NULL, GNUTLS_EXPORT_FLAG_NO_LZ);
	if (rc < 0)
		return gerr(e, "account key is not an EC key", rc);
	rc = -1;
	if (curve != GNUTLS_ECC_CURVE_SECP256R1) {
		aerr(e, "account key is not on curve P-256");
		goto out;
	}
	if (buf_appends(out, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"") < 0 || coord_b64(out, &x) < 0 ||
	    buf_appends(out, "\",\"y\":\"") < 0 || coord_b64(out, &y) < 0 || buf_appends(out, "\"}") < 0) {
		aerr(e, "out of memory");
		goto out;
	}
	rc = 0;
out:
	gnutls_free(x.data);
	gnutls_free(y.data);
	return rc;
}

int akey_thumbprint(const struct akey *k, char *out, size_t size, struct acme_err *e)
{
	struct buf jwk, b;
	unsigned char h[32];
	int rc = -1;

	buf_init(&jwk, 4096);
	buf_init(&b, 128);
	if (akey_jwk(k, &jwk, e) < 0)
		goto out;
	if (acme_sha256(jwk.data, jwk.len, h) < 0 || b64url_append(&b, h, sizeof h) < 0 ||
	    b.len >= size) {
		aerr(e, "key thumbprint failed");
		goto out;
	}
	memcpy(out, b.data, b.len + 1);
	rc = 0;
out:
	buf_free(&jwk);
	buf_free(&b);
	return rc;
}

int akey_sign_es256(const struct akey *k, const void *data, size_t len, struct buf *out,
		    struct acme_err *e)
{
	gnutls_datum_t d = { (unsigned char *)data, (unsigned)len }, sig = { NULL, 0 };
	gnutls_datum_t r = { NULL, 0 }, s = { NULL, 0 };
	unsigned char rs[64];
	int rc;

	rc = gnutls_privkey_sign_data2(k->priv, GNUTLS_SIGN_ECDSA_SHA256, 0, &d, &sig);
	if (rc < 0)
		return gerr(e, "signing", rc);
	rc = gnutls_decode_rs_value(&sig, &r, &s);
	gnutls_free(sig.data);
	if (rc < 0)
		return gerr(e, "signing", rc);
	rc = -1;
	/* JWS wants r and s as fixed 32-byte big-endian numbers (RFC 7518 3.4). */
	{
		gnutls_datum_t *v[2] = { &r, &s };
		for (int i = 0; i < 2; i++) {
			const unsigned char *p = v[i]->data;
			size_t n = v[i]->size;
			while (n > 32 && *p == 0) {
				p++;
				n--;
			}
			if (n > 32) {
				aerr(e, "signing: bad signature size");
				goto out;
			}
			memset(rs + 32 * i, 0, 32);
			memcpy(rs + 32 * i + (32 - n), p, n);
		}
	}
	if (b64url_append(out, rs, sizeof rs) < 0) {
		aerr(e, "out of memory");
		goto out;
	}
	rc = 0;
out:
	gnutls_free(r.data);
	gnutls_free(s.data);
	return rc;
}

void achain_free(struct achain *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		gnutls_x509_crt_deinit(c->crt[i]);
	free(c);
}

int achain_from_pem(struct achain **out, const char *pem, size_t len, struct acme_err *e)
{
	struct achain *c = calloc(1, sizeof *c);
	gnutls_datum_t d = { (unsigned char *)pem, (unsigned)len };
	unsigned n = MAX_CHAIN;
	int rc;

	if (c == NULL)
		return aerr(e, "out of memory");
	rc = gnutls_x509_crt_list_import(c->crt, &n, &d, GNUTLS_X509_FMT_PEM,
					 GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED);
	if (rc < 0) {
		free(c);
		if (rc == GNUTLS_E_SHORT_MEMORY_BUFFER)
			return aerr(e, "more than %d certificates in the chain", MAX_CHAIN);
		return gerr(e, "not a readable PEM certificate chain (leaf first)", rc);
	}
	if (rc == 0) {
		free(c);
		return aerr(e, "no certificate found");
	}
	c->n = (size_t)rc;
	*out = c;
	return 0;
}

size_t achain_len(const struct achain *c)
{
	return c->n;
}

int achain_to_pem(const struct achain *c, struct buf *out, struct acme_err *e)
{
	for (size_t i = 0; i < c->n; i++) {
		gnutls_datum_t d = { NULL, 0 };
		int rc = gnutls_x509_crt_export2(c->crt[i], GNUTLS_X509_FMT_PEM, &d);
		if (rc < 0)
			return gerr(e, "exporting a certificate", rc);
		rc = buf_append(out, d.data, d.size);
		gnutls_free(d.data);
		if (rc < 0)
			return aerr(e, "out of memory");
	}
	return 0;
}

static void dn_text(gnutls_x509_crt_t crt, int issuer, char *out, size_t size)
{
	gnutls_datum_t d = { NULL, 0 };
	int rc = issuer ? gnutls_x509_crt_get_issuer_dn3(crt, &d, 0)
			: gnutls_x509_crt_get_dn3(crt, &d, 0);

	if (rc < 0 || d.data == NULL)
		snprintf(out, size, "?");
	else
		snprintf(out, size, "%.*s", (int)d.size, (const char *)d.data);
	gnutls_free(d.data);
}

static void sans_text(gnutls_x509_crt_t crt, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < 256; i++) {
		char v[256], text[INET6_ADDRSTRLEN];
		size_t vlen = sizeof v - 1;
		int type = gnutls_x509_crt_get_subject_alt_name(crt, i, v, &vlen, NULL);
		const char *s = NULL;

		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (type == GNUTLS_SAN_DNSNAME) {
			v[vlen] = '\0';
			s = v;
		} else if (type == GNUTLS_SAN_IPADDRESS && (vlen == 4 || vlen == 16)) {
			s = inet_ntop(vlen == 4 ? AF_INET : AF_INET6, v, text, sizeof text);
		}
		if (s == NULL)
			continue;
		int n = snprintf(out + used, size - used, "%s%s", used ? "," : "", s);
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
}

/* RFC 9773 section 4.1: base64url(AKI keyIdentifier) "." base64url(serial). */
static void ari_id(gnutls_x509_crt_t crt, char *out, size_t size)
{
	unsigned char aki[128], serial[65];
	size_t akilen = sizeof aki, slen = sizeof serial - 1;
	struct buf b;

	out[0] = '\0';
	if (gnutls_x509_crt_get_authority_key_id(crt, aki, &akilen, NULL) < 0 ||
	    gnutls_x509_crt_get_serial(crt, serial, &slen) < 0)
		return;
	buf_init(&b, size);
	if (slen >= sizeof serial)
		goto out;
	/* The DER INTEGER content: a leading zero when the top bit is set. */
	if (slen > 0 && (serial[0] & 0x80)) {
		memmove(serial + 1, serial, slen);
		serial[0] = 0;
		slen++;
	}
	if (b64url_append(&b, aki, akilen) == 0 && buf_appends(&b, ".") == 0 &&
	    b64url_append(&b, serial, slen) == 0 && b.len < size)
		memcpy(out, b.data, b.len + 1);
out:
	buf_free(&b);
}

/* "RSA 2048", "ECDSA P-256". */
static void key_text(gnutls_x509_crt_t crt, char *out, size_t size)
{
	unsigned bits = 0;
	int alg = gnutls_x509_crt_get_pk_algorithm(crt, &bits);
	gnutls_ecc_curve_t curve;
	gnutls_datum_t x = { NULL, 0 }, y = { NULL, 0 };

	if (alg == GNUTLS_PK_RSA) {
		snprintf(out, size, "RSA %u", bits);
	} else if (alg == GNUTLS_PK_ECDSA && gnutls_x509_crt_get_pk_ecc_raw(crt, &curve, &x, &y) >= 0) {
		snprintf(out, size, "ECDSA %s",
			 curve == GNUTLS_ECC_CURVE_SECP256R1 ? "P-256" : gnutls_ecc_curve_get_name(curve));
		gnutls_free(x.data);
		gnutls_free(y.data);
	} else
		snprintf(out, size, "%s", gnutls_pk_algorithm_get_name((gnutls_pk_algorithm_t)alg));
}

int achain_info(const struct achain *c, struct acert_info *info, struct acme_err *e)
{
	gnutls_x509_crt_t crt = c->crt[0];
	unsigned char fp[32];
	size_t fplen = sizeof fp;

	memset(info, 0, sizeof *info);
	dn_text(crt, 0, info->subject, sizeof info->subject);
	dn_text(crt, 1, info->issuer, sizeof info->issuer);
	sans_text(crt, info->sans, sizeof info->sans);
	info->not_before = gnutls_x509_crt_get_activation_time(crt);
	info->not_after = gnutls_x509_crt_get_expiration_time(crt);
	if (info->not_before == (time_t)-1 || info->not_after == (time_t)-1)
		return aerr(e, "certificate has no readable validity period");
	info->self_signed = gnutls_x509_crt_check_issuer(crt, crt) == 1;
	key_text(crt, info->key_type, sizeof info->key_type);
	ari_id(crt, info->ari_id, sizeof info->ari_id);
	if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fp, &fplen) < 0 || fplen != 32)
		return aerr(e, "certificate fingerprint failed");
	for (size_t i = 0; i < 32; i++)
		snprintf(info->sha256 + 2 * i, 3, "%02x", fp[i]);
	return 0;
}

int achain_matches_key(const struct achain *c, const struct akey *k, struct acme_err *e)
{
	unsigned char a[64], b[64];
	size_t alen = sizeof a, blen = sizeof b;
	int rc;

	rc = gnutls_x509_crt_get_key_id(c->crt[0], GNUTLS_KEYID_USE_SHA256, a, &alen);
	if (rc < 0)
		return gerr(e, "certificate key id", rc);
	rc = gnutls_x509_privkey_get_key_id(k->x509, GNUTLS_KEYID_USE_SHA256, b, &blen);
	if (rc < 0)
		return gerr(e, "private key id", rc);
	return alen == blen && memcmp(a, b, alen) == 0;
}

int achain_has_name(const struct achain *c, const char *name)
{
	return gnutls_x509_crt_check_hostname2(c->crt[0], name, GNUTLS_VERIFY_DO_NOT_ALLOW_WILDCARDS) != 0;
}

static int check_times(const struct achain *c, time_t now, struct acme_err *e)
{
	char when[32];

	for (size_t i = 0; i < c->n; i++) {
		time_t nb = gnutls_x509_crt_get_activation_time(c->crt[i]);
		time_t na = gnutls_x509_crt_get_expiration_time(c->crt[i]);
		const char *what = i == 0 ? "the certificate" : "a chain certificate";
		if (na != (time_t)-1 && na < now)
			return aerr(e, "%s expired on %s", what, fmt_time(na, when, sizeof when));
		if (nb != (time_t)-1 && nb > now)
			return aerr(e, "%s is not valid before %s", what, fmt_time(nb, when, sizeof when));
	}
	return 0;
}

int achain_verify(const struct achain *c, const char *extra_ca, time_t now, struct acme_err *e)
{
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_x509_crt_t anchor = NULL;
	unsigned status = 0;
	int rc;

	if (check_times(c, now, e) < 0)
		return -1;
	for (size_t i = 0; i + 1 < c->n; i++)
		if (!gnutls_x509_crt_check_issuer(c->crt[i], c->crt[i + 1]))
			return aerr(e, "chain certificate %zu did not issue certificate %zu (wrong order?)",
				    i + 1, i);
	if ((rc = gnutls_x509_trust_list_init(&tl, 0)) < 0)
		return gerr(e, "trust list", rc);
	/* Without a system store only a self-signed top or extra_ca anchors. */
	(void)gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
	if (extra_ca && *extra_ca &&
	    (rc = gnutls_x509_trust_list_add_trust_file(tl, extra_ca, NULL, GNUTLS_X509_FMT_PEM, 0, 0)) < 0) {
		rc = aerr(e, "%s: %s", extra_ca, gnutls_strerror(rc));
		goto out;
	}
	/* A self-signed last certificate anchors its own chain (a private CA). */
	if (gnutls_x509_crt_check_issuer(c->crt[c->n - 1], c->crt[c->n - 1]) == 1) {
		gnutls_datum_t d = { NULL, 0 };
		if ((rc = gnutls_x509_crt_export2(c->crt[c->n - 1], GNUTLS_X509_FMT_DER, &d)) < 0 ||
		    (rc = gnutls_x509_crt_init(&anchor)) < 0 ||
		    (rc = gnutls_x509_crt_import(anchor, &d, GNUTLS_X509_FMT_DER)) < 0) {
			gnutls_free(d.data);
			rc = gerr(e, "trust anchor", rc);
			goto out;
		}
		gnutls_free(d.data);
		if ((rc = gnutls_x509_trust_list_add_cas(tl, &anchor, 1, 0)) < 0) {
			rc = gerr(e, "trust anchor", rc);
			goto out;
		}
		anchor = NULL; /* owned by the list now */
	}
	rc = gnutls_x509_trust_list_verify_crt(tl, (gnutls_x509_crt_t *)c->crt, (unsigned)c->n,
					       GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
						       GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS,
					       &status, NULL);
	if (rc < 0) {
		rc = gerr(e, "chain verification", rc);
		goto out;
	}
	if (status != 0) {
		gnutls_datum_t txt = { NULL, 0 };
		gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &txt, 0);
		rc = aerr(e, "the chain is incomplete or not trusted%s%s%s",
			  (status & GNUTLS_CERT_SIGNER_NOT_FOUND) ? " (issuer missing: append the intermediate and root certificates)" : "",
			  txt.data ? ": " : "", txt.data ? (const char *)txt.data : "");
		gnutls_free(txt.data);
		goto out;
	}
	rc = 0;
out:
	if (anchor)
		gnutls_x509_crt_deinit(anchor);
	gnutls_x509_trust_list_deinit(tl, 1);
	return rc;
}

static int add_names(gnutls_x509_crt_t crt, gnutls_x509_crq_t crq, const char *const *names,
		     size_t n, struct acme_err *e)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ip[16];
		int type = GNUTLS_SAN_DNSNAME, rc;
		const void *v = names[i];
		unsigned vlen = (unsigned)strlen(names[i]);

		if (inet_pton(AF_INET, names[i], ip) == 1) {
			type = GNUTLS_SAN_IPADDRESS;
			v = ip;
			vlen = 4;
		} else if (inet_pton(AF_INET6, names[i], ip) == 1) {
			type = GNUTLS_SAN_IPADDRESS;
			v = ip;
			vlen = 16;
		}
		rc = crt ? gnutls_x509_crt_set_subject_alt_name(crt, type, v, vlen, GNUTLS_FSAN_APPEND)
			 : gnutls_x509_crq_set_subject_alt_name(crq, type, v, vlen, GNUTLS_FSAN_APPEND);
		if (rc < 0)
			return aerr(e, "name %s: %s", names[i], gnutls_strerror(rc));
	}
	return 0;
}

static int random_serial(gnutls_x509_crt_t crt)
{
	unsigned char serial[16];

	if (acme_random(serial, sizeof serial) < 0)
		return -1;
	serial[0] = (serial[0] & 0x7f) | 0x40; /* positive, full length */
	return gnutls_x509_crt_set_serial(crt, serial, sizeof serial);
}

int acert_selfsigned(const struct akey *k, const char *const *names, size_t n, int days,
		     struct achain **out, struct acme_err *e)
{
	struct achain *c = NULL;
	gnutls_x509_crt_t crt = NULL;
	time_t now = time(NULL);
	int rc;

	if (n == 0)
		return aerr(e, "no name for the certificate");
	c = calloc(1, sizeof *c);
	if (c == NULL)
		return aerr(e, "out of memory");
	if ((rc = gnutls_x509_crt_init(&crt)) < 0 || (rc = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (rc = random_serial(crt)) < 0 ||
	    (rc = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
	    (rc = gnutls_x509_crt_set_expiration_time(crt, now + (time_t)days * 86400)) < 0 ||
	    (rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, names[0],
						(unsigned)strlen(names[0]))) < 0 ||
	    (rc = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
	    (rc = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    (rc = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
	    (rc = gnutls_x509_crt_set_key(crt, k->x509)) < 0) {
		rc = gerr(e, "building the certificate", rc);
		goto out;
	}
	if (add_names(crt, NULL, names, n, e) < 0) {
		rc = -1;
		goto out;
	}
	{
		unsigned char id[64];
		size_t idlen = sizeof id;
		if ((rc = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, id, &idlen)) < 0 ||
		    (rc = gnutls_x509_crt_set_subject_key_id(crt, id, idlen)) < 0 ||
		    (rc = gnutls_x509_crt_privkey_sign(crt, crt, k->priv, GNUTLS_DIG_SHA256, 0)) < 0) {
			rc = gerr(e, "signing the certificate", rc);
			goto out;
		}
	}
	/* Re-read the signed certificate: GnuTLS answers questions about a
	 * certificate it built only once it has been encoded and parsed. */
	{
		gnutls_datum_t der = { NULL, 0 };
		if ((rc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der)) < 0 ||
		    (rc = gnutls_x509_crt_init(&c->crt[0])) < 0 ||
		    (rc = gnutls_x509_crt_import(c->crt[0], &der, GNUTLS_X509_FMT_DER)) < 0) {
			gnutls_free(der.data);
			if (c->crt[0])
				c->n = 1;
			rc = gerr(e, "encoding the certificate", rc);
			goto out;
		}
		gnutls_free(der.data);
		c->n = 1;
	}
	*out = c;
	c = NULL;
	rc = 0;
out:
	if (crt)
		gnutls_x509_crt_deinit(crt);
	achain_free(c);
	return rc;
}

int acsr_make(const struct akey *k, const char *const *names, size_t n, struct buf *out,
	      struct acme_err *e)
{
	gnutls_x509_crq_t crq = NULL;
	gnutls_datum_t der = { NULL, 0 };
	int rc;

	if (n == 0)
		return aerr(e, "no name for the CSR");
	if ((rc = gnutls_x509_crq_init(&crq)) < 0 || (rc = gnutls_x509_crq_set_version(crq, 1)) < 0 ||
	    (rc = gnutls_x509_crq_set_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME, 0, names[0],
						(unsigned)strlen(names[0]))) < 0 ||
	    (rc = gnutls_x509_crq_set_key(crq, k->x509)) < 0) {
		rc = gerr(e, "building the CSR", rc);
		goto out;
	}
	if (add_names(NULL, crq, names, n, e) < 0) {
		rc = -1;
		goto out;
	}
	if ((rc = gnutls_x509_crq_privkey_sign(crq, k->priv, GNUTLS_DIG_SHA256, 0)) < 0 ||
	    (rc = gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER, &der)) < 0) {
		rc = gerr(e, "signing the CSR", rc);
		goto out;
	}
	rc = b64url_append(out, der.data, der.size) < 0 ? aerr(e, "out of memory") : 0;
out:
	gnutls_free(der.data);
	if (crq)
		gnutls_x509_crq_deinit(crq);
	return rc;
}

int apkcs12_parse(const void *data, size_t len, const char *password, struct akey **key,
		  struct achain **chain, struct acme_err *e)
{
	gnutls_pkcs12_t p12 = NULL;
	gnutls_datum_t d = { (unsigned char *)data, (unsigned)len };
	gnutls_x509_privkey_t x = NULL;
	gnutls_x509_crt_t *crts = NULL;
	unsigned ncrts = 0;
	struct achain *c = NULL;
	int rc;

	if ((rc = gnutls_pkcs12_init(&p12)) < 0)
		return gerr(e, "PKCS#12", rc);
	rc = gnutls_pkcs12_import(p12, &d, GNUTLS_X509_FMT_DER, 0);
	if (rc < 0)
		rc = gnutls_pkcs12_import(p12, &d, GNUTLS_X509_FMT_PEM, 0);
	if (rc < 0) {
		rc = gerr(e, "not a PKCS#12 file", rc);
		goto out;
	}
	if (gnutls_pkcs12_verify_mac(p12, password) < 0) {
		rc = aerr(e, "wrong password (PKCS#12 integrity check failed)");
		goto out;
	}
	rc = gnutls_pkcs12_simple_parse(p12, password, &x, &crts, &ncrts, NULL, NULL, NULL,
					GNUTLS_PKCS12_SP_INCLUDE_SELF_SIGNED);
	if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
		rc = aerr(e, "the private key does not belong to any certificate in the bundle");
		goto out;
	}
	if (rc < 0) {
		rc = gerr(e, rc == GNUTLS_E_DECRYPTION_FAILED ? "wrong password" : "PKCS#12 contents", rc);
		goto out;
	}
	if (ncrts == 0 || ncrts > MAX_CHAIN) {
		rc = aerr(e, "PKCS#12: %u certificates (want 1 to %d)", ncrts, MAX_CHAIN);
		goto out;
	}
	if ((c = calloc(1, sizeof *c)) == NULL) {
		rc = aerr(e, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < ncrts; i++)
		c->crt[c->n++] = crts[i];
	ncrts = 0;
	if ((rc = akey_wrap(x, key, e)) < 0) {
		x = NULL;
		goto out;
	}
	x = NULL;
	*chain = c;
	c = NULL;
	rc = 0;
out:
	for (unsigned i = 0; i < ncrts; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	if (x)
		gnutls_x509_privkey_deinit(x);
	achain_free(c);
	gnutls_pkcs12_deinit(p12);
	return rc;
}

int acme_sha256(const void *data, size_t len, unsigned char out[32])
{
	return gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, out) < 0 ? -1 : 0;
}

int acme_random(void *out, size_t len)
{
	return gnutls_rnd(GNUTLS_RND_RANDOM, out, len) < 0 ? -1 : 0;
}
