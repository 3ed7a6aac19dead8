#include "config.h"

#include <string.h>

#include "smtp/data.h"

void data_reader_init(struct data_reader *r)
{
	r->st = DS_BOL;
	r->line_len = 0;
	r->line_too_long = 0;
}

static void count(struct data_reader *r, size_t n)
{
	r->line_len += n;
	if (r->line_len > SMTP_DATA_LINE_MAX)
		r->line_too_long = 1;
}

/* The state after content byte c in the middle of a line. */
static enum data_state mid(unsigned char c)
{
	return c == '\r' ? DS_CR : DS_MID;
}

size_t data_reader_feed(struct data_reader *r, const unsigned char *in, size_t n,
			unsigned char *out, size_t *outlen)
{
	size_t i = 0, o = 0;

	while (i < n && r->st != DS_END) {
		unsigned char c;

		if (r->st == DS_MID) {
			/* Most of a message: copy up to the next CR in one go. */
			const unsigned char *cr = memchr(in + i, '\r', n - i);
			size_t span = cr ? (size_t)(cr - in) - i : n - i;

			memcpy(out + o, in + i, span);
			o += span;
			i += span;
			count(r, span);
			if (cr == NULL)
				break;
			out[o++] = '\r';
			i++;
			count(r, 1);
			r->st = DS_CR;
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
			r->st = mid(c);
			break;
		case DS_CR:
			out[o++] = c;
			if (c == '\n') {
				r->st = DS_BOL;
				r->line_len = 0;
				continue;
			}
			r->st = mid(c);
			break;
		case DS_DOT:
			if (c == '\r') {
				r->st = DS_DOTCR;
				continue;
			}
			out[o++] = c;     /* the stuffed dot is dropped */
			r->st = mid(c);
			break;
		case DS_DOTCR:
			if (c == '\n') {
				r->st = DS_END;
				continue;
			}
			out[o++] = '\r';  /* ".\r" then not LF: the CR is content */
			out[o++] = c;
			r->st = mid(c);
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
