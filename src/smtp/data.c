#include "config.h"

#include <string.h>

#include "smtp/data.h"

void data_reader_init_mode(struct data_reader *r, enum data_mode mode)
{
	r->st = DS_BOL;
	r->mode = mode;
	r->line_len = 0;
	r->line_too_long = 0;
}

void data_reader_init(struct data_reader *r)
{
	data_reader_init_mode(r, DATA_STRICT);
}

static void count(struct data_reader *r, size_t n)
{
	r->line_len += n;
	if (r->line_len > SMTP_DATA_LINE_MAX)
		r->line_too_long = 1;
}

/* The state after content byte c in the middle of a line: strict mode
 * waits for CR LF, upstream mode ends a line at any LF (a CR before it
 * changes nothing there). */
static enum data_state mid(const struct data_reader *r, unsigned char c)
{
	if (r->mode == DATA_UPSTREAM)
		return c == '\n' ? DS_BOL : DS_MID;
	return c == '\r' ? DS_CR : DS_MID;
}

/* Where a run of plain content ends: the next CR (strict) or LF
 * (upstream); NULL when none is in in[0..n). */
static const unsigned char *run_end(const struct data_reader *r, const unsigned char *in, size_t n)
{
	return memchr(in, r->mode == DATA_STRICT ? '\r' : '\n', n);
}

size_t data_reader_feed(struct data_reader *r, const unsigned char *in, size_t n,
			unsigned char *out, size_t *outlen)
{
	size_t i = 0, o = 0;

	while (i < n && r->st != DS_END) {
		unsigned char c;

		if (r->st == DS_MID) {
			/* Most of a message: copy up to the next line end in one go. */
			const unsigned char *e = run_end(r, in + i, n - i);
			size_t span = e ? (size_t)(e - in) - i : n - i;

			memcpy(out + o, in + i, span);
			o += span;
			i += span;
			count(r, span);
			if (e == NULL)
				break;
			out[o++] = in[i++];
			count(r, 1);
			r->st = mid(r, out[o - 1]);
			if (r->st == DS_BOL)
				r->line_len = 0;
			continue;
		}
		c = in[i++];
		switch (r->st) {
		case DS_BOL:
			if (c == '.') {
				r->st = DS_DOT;   /* held: stuffing or end */
				continue;
			}
			out[o++] = c;
			r->st = mid(r, c);
			break;
		case DS_CR:
			out[o++] = c;
			if (c == '\n') {
				r->st = DS_BOL;
				r->line_len = 0;
				continue;
			}
			r->st = mid(r, c);
			break;
		case DS_DOT:
			if (c == '\r') {
				r->st = DS_DOTCR;
				continue;
			}
			if (c == '\n' && r->mode == DATA_UPSTREAM) {
				r->st = DS_END; /* "." LF */
				continue;
			}
			out[o++] = c;     /* the stuffed dot is dropped */
			r->st = mid(r, c);
			break;
		case DS_DOTCR:
			if (c == '\n') {
				r->st = DS_END;
				continue;
			}
			out[o++] = '\r';  /* ".\r" then not LF: the CR is content */
			out[o++] = c;
			r->st = mid(r, c);
			count(r, 1);
			break;
		case DS_MID:
		case DS_END:
			break;
		}
		count(r, 1);
	}
	*outlen = o;
	return i;
}
