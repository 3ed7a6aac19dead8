/* Mailbox ids, generated passwords, and the checks on names and
 * descriptions: everything that turns random bytes or user text into
 * something safe to put in a path or a file. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "crypt/age.h"
#include "store/admin.h"
#include "store/internal.h"
#include "util/wipe.h"

static const char base32[] = "abcdefghijklmnopqrstuvwxyz234567";
/* Crockford's alphabet in lower case: i, l, o and u are left out, so what
 * a person reads from the screen is what they type. */
static const char crockford[] = "0123456789abcdefghjkmnpqrstvwxyz";

int mailbox_id_valid(const char *id)
{
	size_t i;

	if (id == NULL)
		return 0;
	for (i = 0; i < MAILBOX_ID_LEN; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')))
			return 0;
	}
	return id[MAILBOX_ID_LEN] == '\0';
}

/* 5 bits at a time from a byte string, most significant first. */
static unsigned bits5(const unsigned char *b, size_t i)
{
	size_t bit = i * 5, byte = bit / 8;
	unsigned v = (unsigned)b[byte] << 8;

	v |= b[byte + 1];
	return (v >> (11 - bit % 8)) & 31;
}

int mailbox_id_generate(char out[MAILBOX_ID_LEN + 1])
{
	unsigned char r[11] = { 0 };   /* 80 bits + 1 byte of slack for bits5 */
	size_t i;

	if (crypt_random(r, 10) != 0)
		return store_age_errno(AGE_ERR_IO);
	for (i = 0; i < MAILBOX_ID_LEN; i++)
		out[i] = base32[bits5(r, i)];
	out[MAILBOX_ID_LEN] = '\0';
	wipe(r, sizeof r);
	return 0;
}

int store_password_generate(char out[STORE_PASSWORD_LEN + 1])
{
	unsigned char r[20] = { 0 };   /* 150 bits used of 152 */
	size_t i, o = 0;

	if (crypt_random(r, 19) != 0)
		return store_age_errno(AGE_ERR_IO);
	for (i = 0; i < 30; i++) {
		if (i > 0 && i % 5 == 0)
			out[o++] = '-';
		out[o++] = crockford[bits5(r, i)];
	}
	out[o] = '\0';
	wipe(r, sizeof r);
	return 0;
}

/* Length of the UTF-8 sequence at s (well-formed, shortest form, no
 * surrogates, at most U+10FFFF), its code point in *cp; 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t avail, unsigned long *cp)
{
	size_t n, i;
	unsigned long v, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		n = 2, v = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3, v = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4, v = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n > avail)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

int mailbox_text_valid(const char *s, size_t max, int allow_empty)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len, i = 0;

	if (s == NULL)
		return 0;
	len = strnlen(s, max + 1);
	if (len > max || (len == 0 && !allow_empty))
		return 0;
	while (i < len) {
		unsigned long cp;
		size_t n = utf8_seq(p + i, len - i, &cp);
		if (n == 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
		    cp == 0x2028 || cp == 0x2029)
			return 0;
		i += n;
	}
	return 1;
}
