#include "config.h"

#include "smtp/data.h"

void data_reader_init(struct data_reader *r)
{
	r->st = DS_BOL;
	r->line_len = 0;
	r->line_too_long = 0;
}

/* c in the middle of a line (or right after a bare CR is emitted). */
static enum data_state mid(unsigned char c)
{
	return c == '\r' ? DS_CR : DS_MID;
}

size_t data_reader_feed(struct data_reader *r, const unsigned char *in, size_t n,
			unsigned char *out, size_t *outlen)
{
	size_t i, o = 0;

	for (i = 0; i < n && r->st != DS_END; i++) {
		unsigned char c = in[i];

		switch (r->st) {
		case DS_BOL:
			if (c == '.') {
				r->st = DS_DOT;   /* held: stuffing or end */
				continue;
			}
			out[o++] = c;
			r->st = mid(c);
			break;
		case DS_MID:
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
			r->st = c == '\r' ? DS_CR : DS_MID;
			r->line_len++;
			break;
		case DS_END:
			break;
		}
		if (++r->line_len > SMTP_DATA_LINE_MAX)
			r->line_too_long = 1;
	}
	*outlen = o;
	return i;
}
