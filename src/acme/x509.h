/* Certificates and keys for msgw-acme, behind msgw's own opaque types:
 * key generation, PEM, PKCS#12, self-signed certificates, CSRs, chain
 * checks, and the ES256 signatures and JWK thumbprints ACME needs.
 * Only src/acme/x509.c includes GnuTLS headers. */
#ifndef MSGW_ACME_X509_H
#define MSGW_ACME_X509_H

#include <stddef.h>
#include <time.h>

#include "acme/internal.h"
#include "util/buf.h"

struct akey;   /* a private key */
struct achain; /* a certificate chain, leaf first */

/* A new ECDSA P-256 key. */
int akey_generate(struct akey **out, struct acme_err *e);
/* A new RSA key of rsa_bits (2048 or 3072), or ECDSA P-256 when 0. */
int akey_generate_rsa(struct akey **out, unsigned rsa_bits, struct acme_err *e);
/* 1 for an RSA key, else 0. */
int akey_is_rsa(const struct akey *k);
int akey_from_pem(struct akey **out, const char *pem, size_t len, struct acme_err *e);
/* PKCS#8 PEM, unencrypted: callers wipe it (buf_wipe_free). */
int akey_to_pem(const struct akey *k, struct buf *out, struct acme_err *e);
void akey_free(struct akey *k);

/* The public key as a JWK with members in lexicographic order (RFC 7638),
 * which is also the input of its thumbprint. P-256 keys only. */
int akey_jwk(const struct akey *k, struct buf *out, struct acme_err *e);
/* base64url(SHA-256(JWK)) into out (at least 44 bytes). */
int akey_thumbprint(const struct akey *k, char *out, size_t size, struct acme_err *e);
/* ES256 over data: base64url of r||s (64 bytes) appended to out. */
int akey_sign_es256(const struct akey *k, const void *data, size_t len, struct buf *out,
		    struct acme_err *e);

int achain_from_pem(struct achain **out, const char *pem, size_t len, struct acme_err *e);
size_t achain_len(const struct achain *c);
int achain_to_pem(const struct achain *c, struct buf *out, struct acme_err *e);
void achain_free(struct achain *c);

#define ACERT_TEXT 512
struct acert_info {
	char subject[ACERT_TEXT];
	char issuer[ACERT_TEXT];
	char sans[ACERT_TEXT];   /* comma-separated DNS names and IP addresses */
	time_t not_before, not_after;
	int self_signed;
	char key_type[32];       /* "ECDSA P-256", "RSA 2048" */
	char ari_id[ACERT_TEXT]; /* RFC 9773 certificate identifier, "" if no AKI */
	char sha256[65];         /* fingerprint of the leaf, hex */
};
/* About the leaf (first) certificate. */
int achain_info(const struct achain *c, struct acert_info *info, struct acme_err *e);
/* Does the leaf's public key belong to k? 1 yes, 0 no, -1 error. */
int achain_matches_key(const struct achain *c, const struct akey *k, struct acme_err *e);
/* Each certificate issued by the next, the last one self-signed or issued
 * by a CA of the system store (or extra_ca, a PEM file, when non-empty),
 * all current at now. */
int achain_verify(const struct achain *c, const char *extra_ca, time_t now, struct acme_err *e);
/* Does the leaf carry dNSName (or IP address) name? */
int achain_has_name(const struct achain *c, const char *name);

/* A self-signed certificate for names[0..n) (DNS names or IP addresses),
 * valid from an hour ago for days days. */
int acert_selfsigned(const struct akey *k, const char *const *names, size_t n, int days,
		     struct achain **out, struct acme_err *e);
/* A CSR (DER, base64url) for names, signed by k. */
int acsr_make(const struct akey *k, const char *const *names, size_t n, struct buf *out,
	      struct acme_err *e);
/* Key and chain from PKCS#12 data; the leaf is the one matching the key. */
int apkcs12_parse(const void *data, size_t len, const char *password, struct akey **key,
		  struct achain **chain, struct acme_err *e);

/* SHA-256 of data, and random bytes from the GnuTLS generator. */
int acme_sha256(const void *data, size_t len, unsigned char out[32]);
int acme_random(void *out, size_t len);

#endif
