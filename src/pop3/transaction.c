/* The TRANSACTION state's listing and marking commands (RFC 1939
 * section 5): everything here comes from the Maildir names, nothing is
 * decrypted. */
#include "config.h"

#include <string.h>

#include "pop3/pop3.h"
#include "pop3/reply.h"

int pop3_msgno(struct pop3 *p, const char *arg, size_t *idx)
{
	size_t count = maildrop_count(p->md);
	uint64_t n;

	if (pop3_parse_uint(arg, UINT64_MAX, &n) < 0) {
		p->errors++;
		pop3_reply(p->s, P3_BAD_MSGNO);
		return -1;
	}
	if (n == 0 || n > count) {
		pop3_reply(p->s, P3_NO_SUCH_MESSAGE);
		return -1;
	}
	if (maildrop_get(p->md, (size_t)n - 1)->deleted) {
		pop3_reply_num(p->s, P3_ALREADY_DELETED, n);
		return -1;
	}
	*idx = (size_t)n - 1;
	return 0;
}

int pop3_cmd_stat(struct pop3 *p, char *args)
{
	size_t i, count = maildrop_count(p->md), live = 0;
	uint64_t octets = 0;

	(void)args;
	for (i = 0; i < count; i++) {
		const struct maildrop_msg *m = maildrop_get(p->md, i);

		if (!m->deleted) {
			live++;
			octets += m->size;
		}
	}
	return pop3_ok(p, "%zu %llu", live, (unsigned long long)octets);
}

/* LIST and UIDL: one message with an argument, else every live one. */
static int listing(struct pop3 *p, const char *args, int uidl)
{
	size_t i, count = maildrop_count(p->md);

	if (*args) {
		const struct maildrop_msg *m;

		if (pop3_msgno(p, args, &i) < 0)
			return 0;
		m = maildrop_get(p->md, i);
		if (uidl)
			return pop3_ok(p, "%zu %s", i + 1, m->uidl);
		return pop3_ok(p, "%zu %llu", i + 1, (unsigned long long)m->size);
	}
	if (pop3_reply(p->s, uidl ? P3_UIDL_LISTING : P3_SCAN_LISTING) < 0)
		return -1;
	for (i = 0; i < count; i++) {
		const struct maildrop_msg *m = maildrop_get(p->md, i);
		int rc;

		if (m->deleted)
			continue;
		if (uidl)
			rc = stream_printf(p->s, "%zu %s\r\n", i + 1, m->uidl);
		else
			rc = stream_printf(p->s, "%zu %llu\r\n", i + 1, (unsigned long long)m->size);
		if (rc < 0)
			return -1;
	}
	return stream_puts(p->s, ".\r\n");
}

int pop3_cmd_list(struct pop3 *p, char *args)
{
	return listing(p, args, 0);
}

int pop3_cmd_uidl(struct pop3 *p, char *args)
{
	return listing(p, args, 1);
}

int pop3_cmd_dele(struct pop3 *p, char *args)
{
	size_t idx;

	if (pop3_msgno(p, args, &idx) < 0)
		return 0;
	if (maildrop_delete(p->md, idx) < 0)
		return pop3_reply_num(p->s, P3_CANNOT_MARK, idx + 1);
	return pop3_reply_num(p->s, P3_DELETED, idx + 1);
}

int pop3_cmd_rset(struct pop3 *p, char *args)
{
	(void)args;
	maildrop_reset(p->md);
	return pop3_reply_num(p->s, P3_RESET, maildrop_count(p->md));
}
