#include "config.h"

#include <string.h>

#include "net/sni.h"

#define EXT_SERVER_NAME 0
#define NAME_HOST 0
#define RANDOM_LEN 32
#define SESSION_ID_MAX 32
#define HOST_NAME_MAX_LEN 253
#define LABEL_MAX 63

/* A bounded reader over one message: every take checks what is left. */
struct cur {
	const uint8_t *p;
	size_t at, end;
};

static int take(struct cur *c, size_t n, size_t *at)
{
	if (n > c->end - c->at)
		return -1;
	if (at)
		*at = c->at;
	c->at += n;
	return 0;
}

static int take_u8(struct cur *c, size_t *v)
{
	size_t at;

	if (take(c, 1, &at) < 0)
		return -1;
	*v = c->p[at];
	return 0;
}

static int take_u16(struct cur *c, size_t *v)
{
	size_t at;

	if (take(c, 2, &at) < 0)
		return -1;
	*v = (size_t)c->p[at] << 8 | c->p[at + 1];
	return 0;
}

/* A vector with a 1- or 2-byte length prefix: c becomes the part after it,
 * *inner the vector itself. */
static int take_vector(struct cur *c, int prefix, struct cur *inner)
{
	size_t n, at;

	if ((prefix == 1 ? take_u8(c, &n) : take_u16(c, &n)) < 0 || take(c, n, &at) < 0)
		return -1;
	inner->p = c->p;
	inner->at = at;
	inner->end = at + n;
	return 0;
}

/* server_name_list: 2-byte length, then (name_type, 2-byte length, name)
 * entries; the list must fill the extension exactly. */
static enum sni_result read_names(struct cur ext, struct sni_list *out)
{
	struct cur list, name;
	size_t type, type_at;

	if (take_vector(&ext, 2, &list) < 0 || ext.at != ext.end)
		return SNI_MALFORMED;
	while (list.at < list.end) {
		type_at = list.at;
		if (take_u8(&list, &type) < 0 || take_vector(&list, 2, &name) < 0)
			return SNI_MALFORMED;
		if (type != NAME_HOST)
			continue;
		if (out->n == SNI_NAMES_MAX || name.end == name.at)
			return SNI_MALFORMED;
		out->name[out->n].type_at = type_at;
		out->name[out->n].name_at = name.at;
		out->name[out->n].len = name.end - name.at;
		out->n++;
	}
	return SNI_OK;
}

static enum sni_result read_extensions(struct cur exts, struct sni_list *out)
{
	enum sni_result r = SNI_NONE;
	struct cur body;
	size_t type;

	while (exts.at < exts.end) {
		if (take_u16(&exts, &type) < 0 || take_vector(&exts, 2, &body) < 0)
			return SNI_MALFORMED;
		if (type != EXT_SERVER_NAME)
			continue;
		if (read_names(body, out) != SNI_OK)
			return SNI_MALFORMED;
		r = SNI_OK;
	}
	return r;
}

enum sni_result sni_find(const uint8_t *hello, size_t len, struct sni_list *out)
{
	struct cur c = { hello, 0, len }, v;

	out->n = 0;
	if (hello == NULL || take(&c, 2 + RANDOM_LEN, NULL) < 0)
		return SNI_MALFORMED;
	if (take_vector(&c, 1, &v) < 0 || v.end - v.at > SESSION_ID_MAX)
		return SNI_MALFORMED;
	if (take_vector(&c, 2, &v) < 0 || v.end == v.at || (v.end - v.at) % 2 != 0)
		return SNI_MALFORMED; /* cipher suites: pairs, at least one */
	if (take_vector(&c, 1, &v) < 0 || v.end == v.at)
		return SNI_MALFORMED; /* compression methods: at least one */
	if (c.at == c.end)
		return SNI_NONE; /* no extensions at all */
	if (take_vector(&c, 2, &v) < 0 || c.at != c.end)
		return SNI_MALFORMED;
	return read_extensions(v, out);
}

static int is_ldh(uint8_t ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-';
}

int sni_host_name_ok(const uint8_t *name, size_t len)
{
	size_t start = 0, digits = 0;

	if (len == 0 || len > HOST_NAME_MAX_LEN)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || name[i] == '.') {
			size_t label = i - start;
			if (label == 0 || label > LABEL_MAX || name[start] == '-' ||
			    name[i - 1] == '-')
				return 0;
			if (i == len && digits == label)
				return 0; /* numeric last label: an IPv4 literal or worse */
			start = i + 1;
			digits = 0;
		} else if (!is_ldh(name[i])) {
			return 0;
		} else if (name[i] >= '0' && name[i] <= '9') {
			digits++;
		}
	}
	return 1;
}

size_t sni_ignore_invalid(uint8_t *hello, size_t len, struct sni_name *first)
{
	struct sni_list l;
	size_t n = 0;

	if (sni_find(hello, len, &l) != SNI_OK)
		return 0;
	for (size_t i = 0; i < l.n; i++) {
		if (sni_host_name_ok(hello + l.name[i].name_at, l.name[i].len))
			continue;
		if (n == 0 && first)
			*first = l.name[i];
		hello[l.name[i].type_at] = SNI_TYPE_IGNORED;
		n++;
	}
	return n;
}

const char *sni_printable(char *out, size_t size, const uint8_t *name, size_t len)
{
	size_t n = len < size - 1 ? len : size - 1;

	for (size_t i = 0; i < n; i++)
		out[i] = name[i] > 0x20 && name[i] < 0x7f ? (char)name[i] : '?';
	out[n] = '\0';
	return out;
}
