#include "config.h"

#include <ctype.h>

#include <string.h>
#include <strings.h>

#include "smtp/command.h"

enum cmd_check cmd_check_line(char *line, size_t len)
{
	if (len < 2 || line[len - 1] != '\n' || line[len - 2] != '\r')
		return CMD_NO_CRLF;
	for (size_t i = 0; i < len - 2; i++)
		if (line[i] == '\0' || line[i] == '\r' || line[i] == '\n')
			return CMD_BAD_CHAR;
	line[len - 2] = '\0';
	return CMD_OK;
}

int cmd_split(const char *line, char verb[SMTP_VERB_MAX + 1], const char **args)
{
	size_t n = 0;

	while (line[n] != '\0' && line[n] != ' ') {
		char c = line[n];
		if (n == SMTP_VERB_MAX || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
			return -1;
		verb[n++] = (char)(c >= 'a' ? c - 'a' + 'A' : c);
	}
	if (n == 0)
		return -1;
	verb[n] = '\0';
	line += n;
	while (*line == ' ')
		line++;
	*args = line;
	return 0;
}

/* Printable ASCII or, for SMTPUTF8 addresses, any byte of 0x80 and up. */
static int path_char_ok(unsigned char c)
{
	return c > 0x20 && c != 0x7f;
}

/* "<path>" at *pp: copies the mailbox (without a source route) into out,
 * moves *pp past '>'. Quoted local parts may hold spaces. */
static int parse_path(const char **pp, char out[SMTP_PATH_MAX + 1], int allow_empty)
{
	const char *p = *pp, *end;
	size_t n;
	int quoted = 0;

	if (*p++ != '<')
		return -1;
	/* An obsolete source route "@a,@b:" is accepted and ignored (RFC 5321 4.1.2). */
	if (*p == '@') {
		const char *colon = strchr(p, ':');
		const char *gt = strchr(p, '>');
		if (colon == NULL || (gt != NULL && gt < colon))
			return -1;
		p = colon + 1;
	}
	for (end = p; *end != '\0'; end++) {
		unsigned char c = (unsigned char)*end;
		if (c == '"')
			quoted = !quoted;
		else if (c == '\\' && quoted && end[1] != '\0')
			end++;
		else if (c == '>' && !quoted)
			break;
		else if (!path_char_ok(c) && !(quoted && c == ' '))
			return -1;
	}
	if (*end != '>' || quoted)
		return -1;
	n = (size_t)(end - p);
	if (n > SMTP_PATH_MAX || (n == 0 && !allow_empty))
		return -1;
	if (n > 0) {
		const char *at = memchr(p, '@', n);
		const char *last_at = at;
		while (at != NULL) {
			last_at = at;
			at = memchr(at + 1, '@', n - (size_t)(at + 1 - p));
		}
		if (last_at == NULL || last_at == p || last_at == end - 1 ||
		    (size_t)(end - last_at - 1) > SMTP_DOMAIN_MAX)
			return -1;
	}
	memcpy(out, p, n);
	out[n] = '\0';
	*pp = end + 1;
	return 0;
}

/* Case-insensitive prefix ("FROM:"), then optional spaces (a common
 * leniency: "MAIL FROM: <a@b>"). */
static const char *after_prefix(const char *args, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncasecmp(args, prefix, n) != 0)
		return NULL;
	args += n;
	while (*args == ' ')
		args++;
	return args;
}

static int parse_size(const char *v, int64_t *out)
{
	int64_t n = 0;

	if (*v == '\0')
		return -1;
	for (; *v; v++) {
		if (*v < '0' || *v > '9' || n > (INT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (*v - '0');
	}
	*out = n;
	return 0;
}

/* RFC 3461 xtext: printable ASCII but '+' and '=', or "+" and two upper
 * hex digits; "<>" is allowed as is for AUTH=. */
static int xtext_valid(const char *v)
{
	if (*v == '\0')
		return 0;
	for (; *v; v++) {
		if (*v == '+') {
			if (!isxdigit((unsigned char)v[1]) || !isxdigit((unsigned char)v[2]))
				return 0;
			v += 2;
		} else if (*v < '!' || *v > '~' || *v == '=') {
			return 0;
		}
	}
	return 1;
}

static int mail_param(struct mail_params *p, const char *kw, size_t kwlen, const char *val)
{
	if (kwlen == 4 && strncasecmp(kw, "SIZE", 4) == 0 && val)
		return p->size < 0 ? parse_size(val, &p->size) : -1;
	if (kwlen == 4 && strncasecmp(kw, "BODY", 4) == 0 && val) {
		if (strcasecmp(val, "7BIT") == 0)
			p->body = BODY_7BIT;
		else if (strcasecmp(val, "8BITMIME") == 0)
			p->body = BODY_8BITMIME;
		else if (strcasecmp(val, "BINARYMIME") == 0)
			p->body = BODY_BINARYMIME;
		else
			return -1;
		return 0;
	}
	if (kwlen == 8 && strncasecmp(kw, "SMTPUTF8", 8) == 0 && !val) {
		p->smtputf8 = 1;
		return 0;
	}
	/* RFC 4954 section 5: a server that offers AUTH (msgw does, after
	 * TLS, for proxy log-ins) must take AUTH=<mailbox>|<> on MAIL; relays
	 * such as Dovecot's submission service send it. Checked as xtext and
	 * otherwise ignored: it vouches for nothing on the journal path. */
	if (kwlen == 4 && strncasecmp(kw, "AUTH", 4) == 0 && val)
		return xtext_valid(val) ? 0 : -1;
	return -1;
}

enum path_err cmd_parse_mail(const char *args, struct mail_params *p)
{
	const char *a = after_prefix(args, "FROM:");

	memset(p, 0, sizeof *p);
	p->size = -1;
	if (a == NULL || parse_path(&a, p->path, 1) < 0 || (*a != '\0' && *a != ' '))
		return PATH_SYNTAX;
	while (*a == ' ')
		a++;
	while (*a != '\0') {
		char tok[SMTP_LINE_MAX];
		size_t n = strcspn(a, " ");
		const char *eq;

		memcpy(tok, a, n);
		tok[n] = '\0';
		eq = strchr(tok, '=');
		if (eq)
			tok[eq - tok] = '\0';
		if (mail_param(p, tok, eq ? (size_t)(eq - tok) : n, eq ? eq + 1 : NULL) < 0)
			return PATH_PARAM;
		a += n;
		while (*a == ' ')
			a++;
	}
	return PATH_OK;
}

enum path_err cmd_parse_rcpt(const char *args, char path[SMTP_PATH_MAX + 1])
{
	const char *a = after_prefix(args, "TO:");

	if (a == NULL || parse_path(&a, path, 0) < 0)
		return PATH_SYNTAX;
	while (*a == ' ')
		a++;
	return *a == '\0' ? PATH_OK : PATH_PARAM;
}

int cmd_parse_bdat(const char *args, uint64_t *size, int *last)
{
	int64_t n;
	char num[24];
	size_t k = strcspn(args, " ");
	const char *rest = args + k;

	if (k == 0 || k >= sizeof num)
		return -1;
	memcpy(num, args, k);
	num[k] = '\0';
	if (parse_size(num, &n) < 0)
		return -1;
	while (*rest == ' ')
		rest++;
	if (*rest == '\0')
		*last = 0;
	else if (strcasecmp(rest, "LAST") == 0)
		*last = 1;
	else
		return -1;
	*size = (uint64_t)n;
	return 0;
}

int cmd_parse_helo(const char *args, char out[SMTP_DOMAIN_MAX + 1])
{
	size_t n = strcspn(args, " ");

	if (n == 0 || n > SMTP_DOMAIN_MAX)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (args[i] <= 0x20 || args[i] >= 0x7f)
			return -1;
	memcpy(out, args, n);
	out[n] = '\0';
	return 0;
}

int addr_split(const char *addr, char *buf, size_t size, const char **local, const char **domain,
	       int tag)
{
	size_t n = strlen(addr);
	char *at;

	if (n >= size)
		return -1;
	memcpy(buf, addr, n + 1);
	at = strrchr(buf, '@');
	if (at == NULL || at == buf || at[1] == '\0')
		return -1;
	*at = '\0';
	if (tag) {
		char *plus = strchr(buf, '+');
		if (plus == buf)
			return -1;
		if (plus)
			*plus = '\0';
	}
	*local = buf;
	*domain = at + 1;
	return 0;
}
