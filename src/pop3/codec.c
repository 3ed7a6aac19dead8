/* The pure parts of POP3, kept apart so unit tests and fuzzers reach
 * them without a store: byte-stuffing (RFC 1939 section 3), base64 for
 * AUTH PLAIN (RFC 4648), numeric arguments. */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "crypt/b64.h"
#include "pop3/pop3.h"

int pop3_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		unsigned d;

		if (*s < '0' || *s > '9')
			return -1;
		d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10) {
			v = UINT64_MAX;   /* saturate: "TOP 1 99999999999999999999" means all */
			continue;
		}
		v = v * 10 + d;
	}
	*out = v > max ? max : v;
	return 0;
}

long pop3_base64_decode(const char *s, size_t len, unsigned char *out, size_t outmax)
{
	size_t n;

	/* the tree's one base64 (crypt/b64.c); it also writes a NUL after */
	return b64_decode(s, len, out, outmax, &n) < 0 ? -1 : (long)n;
}

void pop3_stuffer_init(struct pop3_stuffer *f, int limit_body, uint64_t body_lines)
{
	memset(f, 0, sizeof *f);
	f->at_line_start = 1;
	f->line_empty = 1;
	f->limit_body = limit_body;
	f->body_lines = body_lines;
}

/* A line has just ended: follow the header/body boundary for TOP. */
static void line_ended(struct pop3_stuffer *f)
{
	if (!f->in_body) {
		if (f->line_empty) {
			f->in_body = 1;
			if (f->limit_body && f->body_lines == 0)
				f->done = 1;
		}
	} else if (f->limit_body && --f->body_lines == 0) {
		f->done = 1;
	}
	f->at_line_start = 1;
	f->line_empty = 1;
	f->prev_cr = 0;
}

/* Does the segment keep the current line "empty" (nothing but one CR)? */
static int still_empty(const struct pop3_stuffer *f, const unsigned char *seg, size_t len)
{
	if (!f->line_empty)
		return 0;
	if (len == 0)
		return 1;
	return len == 1 && seg[0] == '\r' && !f->prev_cr;
}

/* Lines that need no change (CRLF, no leading dot) are passed on in one
 * span: emit is called only around the insertions, not once per line. */
int pop3_stuff(struct pop3_stuffer *f, const unsigned char *in, size_t n,
	       int (*emit)(void *ctx, const void *p, size_t n), void *ctx)
{
	size_t i = 0, span = 0;   /* in[span..i) is passed on but not yet emitted */

	while (i < n && !f->done) {
		const unsigned char *nl;
		size_t end, seg;

		if (f->at_line_start) {
			f->at_line_start = 0;
			if (in[i] == '.') {
				if ((i > span && emit(ctx, in + span, i - span) < 0) ||
				    emit(ctx, ".", 1) < 0)
					return -1;
				span = i;
			}
		}
		nl = memchr(in + i, '\n', n - i);
		end = nl ? (size_t)(nl - in) : n;
		seg = end - i;
		f->line_empty = still_empty(f, in + i, seg);
		if (seg > 0)
			f->prev_cr = in[end - 1] == '\r';
		if (nl == NULL) {
			f->out_bytes += seg;
			i = end;
			break;
		}
		if (!f->prev_cr) {
			/* bare LF: the CR goes in before it */
			if ((end > span && emit(ctx, in + span, end - span) < 0) ||
			    emit(ctx, "\r", 1) < 0)
				return -1;
			span = end;
			f->out_bytes += seg + 2;
		} else {
			f->out_bytes += seg + 1;
		}
		i = end + 1;
		line_ended(f);
	}
	if (i > span && emit(ctx, in + span, i - span) < 0)
		return -1;
	return 0;
}

int pop3_stuff_end(struct pop3_stuffer *f, int (*emit)(void *ctx, const void *p, size_t n),
		   void *ctx)
{
	if (!f->at_line_start) {
		if (emit(ctx, f->prev_cr ? "\n" : "\r\n", f->prev_cr ? 1 : 2) < 0)
			return -1;
		f->out_bytes += f->prev_cr ? 1 : 2;
		f->at_line_start = 1;
	}
	return emit(ctx, ".\r\n", 3);
}

int pop3_status_read(struct stream *s, char *line, size_t size, size_t *len)
{
	if (size < 3 || stream_getline(s, line, size - 2, len) != LINE_OK)
		return -1;
	chomp(line, len);
	memcpy(line + *len, "\r\n", 3);
	*len += 2;
	if (strncmp(line, "+OK", 3) == 0 && (line[3] == ' ' || line[3] == '\r'))
		return 1;
	if (strncmp(line, "-ERR", 4) == 0 && (line[4] == ' ' || line[4] == '\r'))
		return 0;
	return -1;
}

/* verb (case-insensitive), then the end or a space */
static const char *after_verb(const char *line, const char *verb)
{
	size_t n = strlen(verb);

	if (strncasecmp(line, verb, n) != 0 || (line[n] != '\0' && line[n] != ' '))
		return NULL;
	return line + n;
}

int pop3_multiline(const char *cmdline)
{
	const char *a;

	if (after_verb(cmdline, "CAPA") || after_verb(cmdline, "TOP"))
		return 1;
	if ((a = after_verb(cmdline, "LIST")) == NULL && (a = after_verb(cmdline, "UIDL")) == NULL)
		return 0;
	while (*a == ' ')
		a++;
	return *a == '\0';
}
