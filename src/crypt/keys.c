/* age keys: Bech32 recipients and identities, identity files as
 * age-keygen writes them, and identities sealed with a password. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#include "crypt/age-internal.h"
#include "util/wipe.h"

#define RECIPIENT_HRP "age"
#define IDENTITY_HRP "AGE-SECRET-KEY-"
#define B32_KEY_LEN 52 /* 32 bytes in 5-bit groups */
#define B32_CHECKSUM_LEN 6
/* A sealed identity file is a few hundred bytes; refuse anything big. */
#define IDENTITY_FILE_MAX 16384

static const char bech32_charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t polymod_step(uint32_t pre)
{
	uint32_t b = pre >> 25;

	return ((pre & 0x1ffffff) << 5) ^ (-((b >> 0) & 1) & 0x3b6a57b2UL) ^
	       (-((b >> 1) & 1) & 0x26508e6dUL) ^ (-((b >> 2) & 1) & 0x1ea119faUL) ^
	       (-((b >> 3) & 1) & 0x3d4233ddUL) ^ (-((b >> 4) & 1) & 0x2a1462b3UL);
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static uint32_t hrp_checksum(const char *hrp, size_t n)
{
	uint32_t chk = 1;
	size_t i;

	for (i = 0; i < n; i++)
		chk = polymod_step(chk) ^ ((unsigned char)lower(hrp[i]) >> 5);
	chk = polymod_step(chk);
	for (i = 0; i < n; i++)
		chk = polymod_step(chk) ^ ((unsigned char)lower(hrp[i]) & 0x1f);
	return chk;
}

/* hrp "1" data checksum, for a 32-byte key; upper for identities. */
static void bech32_encode(const char *hrp, const uint8_t key[AGE_KEY_SIZE], int up, char *out)
{
	uint8_t d[B32_KEY_LEN];
	uint32_t chk, acc = 0;
	size_t i, n = 0, hlen = strlen(hrp);
	int bits = 0;

	for (i = 0; i < AGE_KEY_SIZE; i++) {
		acc = (acc << 8) | key[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			d[n++] = (acc >> bits) & 31;
		}
	}
	if (bits > 0)
		d[n++] = (acc << (5 - bits)) & 31;
	chk = hrp_checksum(hrp, hlen);
	for (i = 0; i < n; i++)
		chk = polymod_step(chk) ^ d[i];
	for (i = 0; i < B32_CHECKSUM_LEN; i++)
		chk = polymod_step(chk);
	chk ^= 1;
	memcpy(out, hrp, hlen);
	out += hlen;
	*out++ = '1';
	for (i = 0; i < n; i++)
		*out++ = bech32_charset[d[i]];
	for (i = 0; i < B32_CHECKSUM_LEN; i++)
		*out++ = bech32_charset[(chk >> (5 * (5 - i))) & 31];
	*out = '\0';
	if (up)
		for (out -= n + B32_CHECKSUM_LEN + 1 + hlen; *out; out++)
			*out = upper(*out);
	wipe(d, sizeof d);
}

/* Decode a 32-byte key with exactly this hrp, in the case the hrp is in
 * (age's canonical forms: recipients lower case, identities upper case). */
static int bech32_decode(const char *s, const char *hrp, uint8_t key[AGE_KEY_SIZE])
{
	size_t hlen = strlen(hrp), i, n = 0;
	uint8_t d[B32_KEY_LEN + B32_CHECKSUM_LEN];
	uint32_t chk, acc = 0;
	const char *p;
	int bits = 0, up = hrp[0] >= 'A' && hrp[0] <= 'Z', rc = AGE_ERR_ARG;

	if (s == NULL || strnlen(s, hlen + 2 + sizeof d) != hlen + 1 + sizeof d ||
	    memcmp(s, hrp, hlen) != 0 || s[hlen] != '1')
		return AGE_ERR_ARG;
	for (i = 0; i < sizeof d; i++) {
		char c = s[hlen + 1 + i];
		if (up ? (c >= 'a' && c <= 'z') : (c >= 'A' && c <= 'Z'))
			goto out; /* mixed or non-canonical case */
		p = strchr(bech32_charset, lower(c));
		if (c == '\0' || p == NULL)
			goto out;
		d[i] = (uint8_t)(p - bech32_charset);
	}
	chk = hrp_checksum(hrp, hlen);
	for (i = 0; i < sizeof d; i++)
		chk = polymod_step(chk) ^ d[i];
	if (chk != 1)
		goto out;
	for (i = 0; i < B32_KEY_LEN; i++) {
		acc = (acc << 5) | d[i];
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			key[n++] = (uint8_t)(acc >> bits);
		}
	}
	/* The padding bits must be zero. */
	if (n != AGE_KEY_SIZE || (acc & ((1u << bits) - 1)) != 0)
		goto out;
	rc = 0;
out:
	acc = 0;
	wipe(d, sizeof d);
	if (rc < 0)
		wipe(key, AGE_KEY_SIZE);
	return rc;
}

int age_recipient_parse(const char *s, struct age_recipient *r)
{
	if (r == NULL)
		return AGE_ERR_ARG;
	return bech32_decode(s, RECIPIENT_HRP, r->pub);
}

int age_recipient_format(const struct age_recipient *r, char out[AGE_RECIPIENT_STRLEN])
{
	if (r == NULL || out == NULL)
		return AGE_ERR_ARG;
	bech32_encode(RECIPIENT_HRP, r->pub, 0, out);
	return 0;
}

int age_identity_parse(const char *s, struct age_identity *id)
{
	int rc;

	if (id == NULL)
		return AGE_ERR_ARG;
	rc = bech32_decode(s, IDENTITY_HRP, id->secret);
	if (rc == 0)
		age_x25519_base(id->pub, id->secret);
	return rc;
}

int age_identity_format(const struct age_identity *id, char out[AGE_IDENTITY_STRLEN])
{
	if (id == NULL || out == NULL)
		return AGE_ERR_ARG;
	bech32_encode(IDENTITY_HRP, id->secret, 1, out);
	return 0;
}

int age_identity_generate(struct age_identity *id)
{
	int rc;

	if (id == NULL)
		return AGE_ERR_ARG;
	rc = crypt_random(id->secret, sizeof id->secret);
	if (rc < 0)
		return rc;
	age_x25519_base(id->pub, id->secret);
	return 0;
}

void age_identity_recipient(const struct age_identity *id, struct age_recipient *r)
{
	memcpy(r->pub, id->pub, sizeof r->pub);
}

void age_identity_wipe(struct age_identity *id)
{
	if (id != NULL)
		wipe(id, sizeof *id);
}

int age_identity_file_write(const struct age_identity *id, time_t created, struct buf *out)
{
	char pub[AGE_RECIPIENT_STRLEN], sec[AGE_IDENTITY_STRLEN], when[32];
	struct age_recipient r;
	struct tm tm;
	int rc = 0;

	if (id == NULL || out == NULL)
		return AGE_ERR_ARG;
	if (gmtime_r(&created, &tm) == NULL ||
	    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return AGE_ERR_ARG;
	age_identity_recipient(id, &r);
	age_recipient_format(&r, pub);
	age_identity_format(id, sec);
	if (buf_appendf(out, "# created: %s\n# public key: %s\n%s\n", when, pub, sec) < 0)
		rc = AGE_ERR_NOMEM;
	wipe(sec, sizeof sec);
	return rc;
}

int age_identity_file_parse(const char *text, size_t len, struct age_identity *id)
{
	char key[AGE_IDENTITY_STRLEN];
	const char *p = text, *end = text + len, *nl;
	size_t n, found = 0;
	int rc = AGE_ERR_ARG;

	if (text == NULL || id == NULL)
		return AGE_ERR_ARG;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl ? nl : end) - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > 0 && p[0] != '#') {
			if (found++ > 0 || n >= sizeof key) {
				rc = AGE_ERR_ARG;
				goto out;
			}
			memcpy(key, p, n);
			key[n] = '\0';
			if (memchr(key, '\0', n) != NULL)
				goto out;
			rc = age_identity_parse(key, id);
			if (rc < 0)
				goto out;
		}
		p = nl ? nl + 1 : end;
	}
	if (found != 1)
		rc = AGE_ERR_ARG;
out:
	wipe(key, sizeof key);
	if (rc < 0)
		age_identity_wipe(id);
	return rc;
}

int age_identity_seal(const struct age_identity *id, time_t created, const char *password,
                      size_t plen, int log_n, int out_fd)
{
	struct age_encryptor *e;
	struct buf text;
	int rc;

	buf_init(&text, IDENTITY_FILE_MAX);
	rc = age_identity_file_write(id, created, &text);
	if (rc == 0)
		rc = age_encrypt_begin_scrypt(&e, password, plen, log_n, out_fd);
	if (rc == 0) {
		rc = age_encrypt_update(e, text.data, text.len);
		if (rc == 0)
			rc = age_encrypt_finish(e, NULL);
		else
			age_encrypt_abort(e);
	}
	buf_wipe_free(&text);
	return rc;
}

int age_identity_unseal(int in_fd, const char *password, size_t plen, int max_log_n,
                        struct age_identity *id)
{
	struct age_decryptor *d;
	char *text;
	size_t len = 0;
	ssize_t r;
	int rc;

	if (id == NULL)
		return AGE_ERR_ARG;
	text = malloc(IDENTITY_FILE_MAX + 1);
	if (text == NULL)
		return AGE_ERR_NOMEM;
	rc = age_decrypt_begin_scrypt(&d, in_fd, password, plen, max_log_n);
	if (rc < 0)
		goto out;
	/* Read to the verified end; one byte more than the cap says "too big". */
	while ((r = age_decrypt_read(d, text + len, IDENTITY_FILE_MAX + 1 - len)) > 0) {
		len += (size_t)r;
		if (len > IDENTITY_FILE_MAX) {
			r = AGE_ERR_ARG;
			break;
		}
	}
	age_decrypt_end(d);
	rc = (int)r;
	if (rc == 0)
		rc = age_identity_file_parse(text, len, id);
out:
	wipe(text, IDENTITY_FILE_MAX + 1);
	free(text);
	return rc;
}

int age_scrypt_work_factor(int fd)
{
	static const char intro[] = AGE_INTRO "\n-> scrypt ";
	char head[160];
	ssize_t n = pread(fd, head, sizeof head - 1, 0);
	const char *salt, *sp;
	int log_n = 0;

	if (n < 0)
		return AGE_ERR_IO;
	head[n] = '\0';
	if (strncmp(head, intro, sizeof intro - 1) != 0)
		return AGE_ERR_HEADER;
	salt = head + sizeof intro - 1;
	if ((sp = strchr(salt, ' ')) == NULL || sp == salt)
		return AGE_ERR_HEADER;
	/* Canonical decimal, as the spec requires: no sign, no leading 0. */
	for (sp++; *sp >= '0' && *sp <= '9' && log_n < 64; sp++) {
		if (log_n == 0 && *sp == '0')
			return AGE_ERR_HEADER;
		log_n = log_n * 10 + (*sp - '0');
	}
	if (*sp != '\n' || log_n < 1 || log_n > 63)
		return AGE_ERR_HEADER;
	return log_n;
}
