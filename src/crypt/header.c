/* The age header: strict base64, the line parser, stanza unwrapping
 * (X25519 and scrypt) and the header MAC. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/hkdf.h>
#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>
#include <scrypt-kdf.h>

#include "crypt/age-internal.h"
#include "crypt/b64.h"
#include "util/wipe.h"

#define X25519_LABEL "age-encryption.org/v1/X25519"
#define SCRYPT_LABEL "age-encryption.org/v1/scrypt"
#define SCRYPT_SALT_SIZE 16

enum { ST_INTRO, ST_STANZA, ST_BODY, ST_DONE };

/* --- base64 ------------------------------------------------------------ */

int age_b64_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
	unsigned char tmp[AGE_B64_LINE_BYTES + 1];
	int rc = -1;

	if (n <= AGE_B64_LINE &&
	    b64_decode_variant(s, n, tmp, sizeof tmp, outlen, B64_AGE) == 0 && *outlen <= cap) {
		if (*outlen)
			memcpy(out, tmp, *outlen);
		rc = 0;
	}
	wipe(tmp, sizeof tmp);
	return rc;
}

size_t age_b64_encode(const uint8_t *p, size_t n, char *out)
{
	/* callers size out for the unpadded text and its NUL */
	int len = b64_encode_variant(p, n, out, (n + 2) / 3 * 4 + 1, B64_AGE);

	return len < 0 ? 0 : (size_t)len;
}

/* --- HKDF -------------------------------------------------------------- */

void age_hkdf(const uint8_t *salt, size_t saltlen, const uint8_t *ikm, size_t ikmlen,
              const char *info, uint8_t out[32])
{
	struct hmac_sha256_ctx ctx;
	uint8_t prk[SHA256_DIGEST_SIZE];
	static const uint8_t empty[1];

	hmac_sha256_set_key(&ctx, saltlen, saltlen ? salt : empty);
	hkdf_extract(&ctx, (nettle_hash_update_func *)hmac_sha256_update,
	             (nettle_hash_digest_func *)hmac_sha256_digest, SHA256_DIGEST_SIZE, ikmlen, ikm,
	             prk);
	hmac_sha256_set_key(&ctx, sizeof prk, prk);
	hkdf_expand(&ctx, (nettle_hash_update_func *)hmac_sha256_update,
	            (nettle_hash_digest_func *)hmac_sha256_digest, SHA256_DIGEST_SIZE, strlen(info),
	            (const uint8_t *)info, 32, out);
	wipe(&ctx, sizeof ctx);
	wipe(prk, sizeof prk);
}

/* --- the header parser ------------------------------------------------- */

void age_header_init(struct age_header *h)
{
	memset(h, 0, sizeof *h);
	buf_init(&h->text, AGE_HEADER_MAX);
	buf_init(&h->bodies, AGE_HEADER_MAX);
	h->state = ST_INTRO;
}

void age_header_free(struct age_header *h)
{
	buf_free(&h->text);
	buf_wipe_free(&h->bodies);
	free(h->st);
	h->st = NULL;
	h->nst = h->cap = 0;
}

static int valid_arg_char(unsigned char c)
{
	return c >= 33 && c <= 126;
}

size_t age_stanza_args(const struct age_header *h, size_t i, const char **args, size_t *lens,
                       size_t max)
{
	const char *p = h->text.data + h->st[i].line_off + 3, *end;
	const char *stop = h->text.data + h->st[i].line_off + h->st[i].line_len;
	size_t n = 0;

	while (p < stop) {
		end = memchr(p, ' ', (size_t)(stop - p));
		if (end == NULL)
			end = stop;
		if (n < max) {
			args[n] = p;
			lens[n] = (size_t)(end - p);
		}
		n++;
		p = end + 1;
	}
	return n;
}

static int arg_is(const char *a, size_t alen, const char *s)
{
	return alen == strlen(s) && memcmp(a, s, alen) == 0;
}

static int stanza_line(struct age_header *h, const char *line, size_t len)
{
	size_t i, start;
	struct age_stanza *st;

	/* "-> " then arguments separated by single spaces, each a non-empty
	 * run of visible ASCII. */
	if (len < 4 || memcmp(line, "-> ", 3) != 0)
		return AGE_ERR_HEADER;
	for (i = 3, start = 3; i <= len; i++) {
		if (i == len || line[i] == ' ') {
			if (i == start)
				return AGE_ERR_HEADER; /* empty argument */
			start = i + 1;
		} else if (!valid_arg_char((unsigned char)line[i])) {
			return AGE_ERR_HEADER;
		}
	}
	if (h->nst == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 4;
		st = realloc(h->st, cap * sizeof *st);
		if (st == NULL)
			return AGE_ERR_NOMEM;
		h->st = st;
		h->cap = cap;
	}
	st = &h->st[h->nst++];
	st->line_off = (size_t)(line - h->text.data);
	st->line_len = len;
	st->body_off = h->bodies.len;
	st->body_len = 0;
	return 0;
}

static int body_line(struct age_header *h, const char *line, size_t len)
{
	uint8_t b[AGE_B64_LINE_BYTES];
	size_t n;
	int rc = 0;

	if (len > AGE_B64_LINE || age_b64_decode(line, len, b, sizeof b, &n) < 0)
		return AGE_ERR_HEADER;
	if (buf_append(&h->bodies, b, n) < 0)
		rc = errno == ENOMEM ? AGE_ERR_NOMEM : AGE_ERR_HEADER;
	else
		h->st[h->nst - 1].body_len += n;
	wipe(b, sizeof b);
	/* A short line (possibly empty) ends the body. */
	if (rc == 0 && len < AGE_B64_LINE)
		h->state = ST_STANZA;
	return rc;
}

static int closing_line(struct age_header *h, const char *line, size_t len)
{
	size_t n, i;

	if (len < 4 || memcmp(line, "--- ", 4) != 0 ||
	    age_b64_decode(line + 4, len - 4, h->mac, sizeof h->mac, &n) < 0 || n != AGE_MAC_SIZE)
		return AGE_ERR_HEADER;
	h->mac_len = (size_t)(line - h->text.data) + 3;
	/* An scrypt stanza must be the only one (the spec), so a file that
	 * opens with a password was made by someone who knew it. */
	if (h->nst > 1)
		for (i = 0; i < h->nst; i++) {
			const char *a[1];
			size_t l[1];
			if (age_stanza_args(h, i, a, l, 1) >= 1 && arg_is(a[0], l[0], "scrypt"))
				return AGE_ERR_HEADER;
		}
	h->state = ST_DONE;
	return 1;
}

static int header_line(struct age_header *h, const char *line, size_t len)
{
	switch (h->state) {
	case ST_INTRO:
		if (len != strlen(AGE_INTRO) || memcmp(line, AGE_INTRO, len) != 0)
			return AGE_ERR_HEADER;
		h->state = ST_STANZA;
		return 0;
	case ST_STANZA:
		if (len >= 3 && memcmp(line, "---", 3) == 0)
			return closing_line(h, line, len);
		if (len >= 2 && memcmp(line, "->", 2) == 0) {
			int rc = stanza_line(h, line, len);
			if (rc == 0)
				h->state = ST_BODY;
			return rc;
		}
		return AGE_ERR_HEADER;
	case ST_BODY:
		return body_line(h, line, len);
	default:
		return AGE_ERR_HEADER;
	}
}

/* Is the partial line already impossible? Fail early on garbage rather
 * than reading up to AGE_HEADER_MAX. */
static int partial_ok(const struct age_header *h, const char *line, size_t len)
{
	switch (h->state) {
	case ST_INTRO:
		return len <= strlen(AGE_INTRO) && memcmp(line, AGE_INTRO, len) == 0;
	case ST_BODY:
		return len <= AGE_B64_LINE;
	case ST_STANZA:
		return len < 2 || memcmp(line, "->", 2) == 0 || memcmp(line, "--", 2) == 0;
	default:
		return 0;
	}
}

int age_header_feed(struct age_header *h, const uint8_t *p, size_t n, size_t *used)
{
	size_t take, done = 0;
	const uint8_t *nl;
	int rc = 0;

	*used = 0;
	if (h->state == ST_DONE)
		return 1;
	while (done < n) {
		nl = memchr(p + done, '\n', n - done);
		take = nl ? (size_t)(nl - (p + done)) + 1 : n - done;
		if (buf_append(&h->text, p + done, take) < 0) {
			rc = errno == ENOMEM ? AGE_ERR_NOMEM : AGE_ERR_HEADER;
			break;
		}
		done += take;
		if (nl == NULL) {
			if (!partial_ok(h, h->text.data + h->line_start,
			                h->text.len - h->line_start))
				rc = AGE_ERR_HEADER;
			break;
		}
		rc = header_line(h, h->text.data + h->line_start, h->text.len - h->line_start - 1);
		h->line_start = h->text.len;
		if (rc != 0)
			break;
	}
	*used = done;
	return rc;
}

/* --- unwrapping -------------------------------------------------------- */

static const uint8_t zero_nonce[AGE_AEAD_NONCE_SIZE];

/* ChaCha20-Poly1305 with a zero nonce over a 16-byte file key. */
static int unwrap_key(const uint8_t key[32], const uint8_t *body,
                      uint8_t file_key[AGE_FILE_KEY_SIZE])
{
	uint8_t fk[AGE_FILE_KEY_SIZE];
	int ok;

	ok = age_aead_open(key, zero_nonce, body, AGE_FILE_KEY_SIZE + AGE_TAG_SIZE, fk) == 0;
	if (ok)
		memcpy(file_key, fk, AGE_FILE_KEY_SIZE);
	wipe(fk, sizeof fk);
	return ok;
}


static int unwrap_x25519_one(const struct age_header *h, size_t i, const struct age_identity *id,
                             uint8_t file_key[AGE_FILE_KEY_SIZE])
{
	const char *a[3];
	size_t l[3], n, slen;
	uint8_t share[AGE_KEY_SIZE], shared[AGE_KEY_SIZE], salt[2 * AGE_KEY_SIZE], key[32];
	int rc;

	n = age_stanza_args(h, i, a, l, 3);
	if (!arg_is(a[0], l[0], "X25519"))
		return AGE_ERR_NO_IDENTITY;
	if (n != 2 || age_b64_decode(a[1], l[1], share, sizeof share, &slen) < 0 ||
	    slen != AGE_KEY_SIZE || h->st[i].body_len != AGE_WRAPPED_KEY_SIZE)
		return AGE_ERR_HEADER;
	/* The HKDF salt takes the share as sent; the multiplication masks the
	 * top bit of the u-coordinate, as RFC 7748 asks. */
	memcpy(salt, share, AGE_KEY_SIZE);
	memcpy(salt + AGE_KEY_SIZE, id->pub, AGE_KEY_SIZE);
	share[31] &= 0x7f;
	if (age_x25519(shared, id->secret, share) < 0) {
		/* A low-order share: the spec forbids the all-zero secret. */
		rc = AGE_ERR_HEADER;
		goto out;
	}
	age_hkdf(salt, sizeof salt, shared, sizeof shared, X25519_LABEL, key);
	rc = unwrap_key(key, (const uint8_t *)h->bodies.data + h->st[i].body_off, file_key)
	         ? AGE_OK
	         : AGE_ERR_NO_IDENTITY;
out:
	wipe(shared, sizeof shared);
	wipe(key, sizeof key);
	return rc;
}

int age_header_unwrap_x25519(const struct age_header *h, const struct age_identity *ids,
                             size_t nids, uint8_t file_key[AGE_FILE_KEY_SIZE])
{
	size_t i, j;
	int rc;

	if (h->state != ST_DONE)
		return AGE_ERR_HEADER;
	/* Identities outer, stanzas inner, first match wins (as age does). */
	for (j = 0; j < nids; j++)
		for (i = 0; i < h->nst; i++) {
			rc = unwrap_x25519_one(h, i, &ids[j], file_key);
			if (rc != AGE_ERR_NO_IDENTITY)
				return rc;
		}
	return AGE_ERR_NO_IDENTITY;
}

/* log N: decimal, no sign, no leading zero; saturates past 99. */
static int parse_log_n(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	if (n == 0 || s[0] == '0')
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v < 100)
			v = v * 10 + (s[i] - '0');
	}
	return v;
}

int age_header_unwrap_scrypt(const struct age_header *h, const char *password, size_t plen,
                             int max_log_n, uint8_t file_key[AGE_FILE_KEY_SIZE])
{
	const char *a[4];
	size_t l[4], n, slen;
	uint8_t salt[sizeof SCRYPT_LABEL - 1 + SCRYPT_SALT_SIZE], key[32];
	int log_n, rc;

	if (h->state != ST_DONE)
		return AGE_ERR_HEADER;
	if (max_log_n <= 0 || max_log_n > AGE_SCRYPT_MAX_LOG_N)
		max_log_n = AGE_SCRYPT_MAX_LOG_N;
	/* The parser already refused an scrypt stanza beside others. */
	if (h->nst != 1)
		return AGE_ERR_NO_IDENTITY;
	n = age_stanza_args(h, 0, a, l, 4);
	if (!arg_is(a[0], l[0], "scrypt"))
		return AGE_ERR_NO_IDENTITY;
	memcpy(salt, SCRYPT_LABEL, sizeof SCRYPT_LABEL - 1);
	if (n != 3 ||
	    age_b64_decode(a[1], l[1], salt + sizeof SCRYPT_LABEL - 1, SCRYPT_SALT_SIZE, &slen) <
	        0 ||
	    slen != SCRYPT_SALT_SIZE)
		return AGE_ERR_HEADER;
	log_n = parse_log_n(a[2], l[2]);
	if (log_n < 0)
		return AGE_ERR_HEADER;
	if (log_n > max_log_n)
		return AGE_ERR_WORK_FACTOR;
	if (h->st[0].body_len != AGE_WRAPPED_KEY_SIZE)
		return AGE_ERR_HEADER;
	if (scrypt_kdf((const uint8_t *)password, plen, salt, sizeof salt, (uint64_t)1 << log_n, 8,
	               1, key, sizeof key) != 0)
		return errno == ENOMEM ? AGE_ERR_NOMEM : AGE_ERR_ARG;
	rc = unwrap_key(key, (const uint8_t *)h->bodies.data + h->st[0].body_off, file_key)
	         ? AGE_OK
	         : AGE_ERR_NO_IDENTITY;
	wipe(key, sizeof key);
	return rc;
}

int age_header_verify_mac(const struct age_header *h, const uint8_t file_key[AGE_FILE_KEY_SIZE])
{
	struct hmac_sha256_ctx ctx;
	uint8_t key[32], mac[AGE_MAC_SIZE];
	int ok;

	age_hkdf(NULL, 0, file_key, AGE_FILE_KEY_SIZE, "header", key);
	hmac_sha256_set_key(&ctx, sizeof key, key);
	hmac_sha256_update(&ctx, h->mac_len, (const uint8_t *)h->text.data);
	hmac_sha256_digest(&ctx, sizeof mac, mac);
	ok = memeql_sec(mac, h->mac, sizeof mac);
	wipe(&ctx, sizeof ctx);
	wipe(key, sizeof key);
	return ok ? AGE_OK : AGE_ERR_HMAC;
}
