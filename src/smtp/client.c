/* The client side of SMTP, for the proxy's upstream sessions: reading a
 * server's (multi-line) reply and the capabilities of its EHLO reply. */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "smtp/client.h"

int smtp_reply_read(struct stream *s, struct smtp_reply *r)
{
	char line[1024];
	int lines = 0;
	size_t n;

	r->len = 0;
	r->code = 0;
	for (;;) {
		int code;
		if (stream_getline(s, line, sizeof line, &n) != LINE_OK)
			return -1;
		chomp(line, &n);
		if (n < 3 || !isdigit((unsigned char)line[0]) || !isdigit((unsigned char)line[1]) ||
		    !isdigit((unsigned char)line[2]) || (n > 3 && line[3] != ' ' && line[3] != '-'))
			return -1;
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		if ((lines > 0 && code != r->code) || ++lines > SMTP_REPLY_LINES ||
		    r->len + n + 3 > sizeof r->text)
			return -1;
		r->code = code;
		memcpy(r->text + r->len, line, n);
		memcpy(r->text + r->len + n, "\r\n", 3);
		r->len += n + 2;
		if (n == 3 || line[3] == ' ')
			return 0;
	}
}

void smtp_caps_parse(const struct smtp_reply *r, struct smtp_caps *c)
{
	const char *line = r->text, *eol;

	memset(c, 0, sizeof *c);
	for (; (eol = strstr(line, "\r\n")) != NULL; line = eol + 2) {
		const char *kw = line + 4;
		if (eol - line < 4)
			continue;
		if (strncasecmp(kw, "CHUNKING", 8) == 0)
			c->chunking = 1;
		else if (strncasecmp(kw, "STARTTLS", 8) == 0)
			c->starttls = 1;
		else if (strncasecmp(kw, "AUTH", 4) == 0 && (kw[4] == ' ' || kw[4] == '=')) {
			char mech[512];
			size_t k = (size_t)(eol - kw) - 5, i;
			if (k > sizeof mech - 3)
				k = sizeof mech - 3;
			mech[0] = ' ';
			for (i = 0; i < k; i++)
				mech[i + 1] = (char)toupper((unsigned char)kw[5 + i]);
			mech[k + 1] = ' ';
			mech[k + 2] = '\0';
			if (strstr(mech, " PLAIN "))
				c->auth_plain = 1;
			if (strstr(mech, " LOGIN "))
				c->auth_login = 1;
		}
	}
}
