/* The DATA reader's byte machine: finds the end of data and undoes dot-
 * stuffing, streaming, with no line buffer (constant memory).
 * Only CRLF ends a line: the end of data is exactly CRLF "." CRLF, and a
 * bare LF or bare CR is message content that neither ends a line nor lets
 * a following "." end the data (no SMTP smuggling). A line that starts
 * with "." (after CRLF, or at the very start) loses that one dot.
 * The upstream mode is for a body a server sends (POP3 RETR/TOP to the
 * proxy): there LF ends a line too, with or without CR, as Dovecot and
 * Postfix write and read it, so "." LF ends the body as "." CRLF does. */
#ifndef MSGW_SMTP_DATA_H
#define MSGW_SMTP_DATA_H

#include <stddef.h>
#include <stdint.h>

/* A message line longer than this (octets between CRLFs) is refused with
 * 500 5.5.2: far above RFC 5322's 998, so real mail is never refused. */
#define SMTP_DATA_LINE_MAX (1024 * 1024)

enum data_state { DS_BOL = 0, DS_MID, DS_CR, DS_DOT, DS_DOTCR, DS_END };

enum data_mode { DATA_STRICT = 0, DATA_UPSTREAM };

struct data_reader {
	enum data_state st;
	enum data_mode mode;
	uint64_t line_len;     /* octets since the last CRLF */
	int line_too_long;     /* some line exceeded SMTP_DATA_LINE_MAX */
};

void data_reader_init(struct data_reader *r);
void data_reader_init_mode(struct data_reader *r, enum data_mode mode);
/* Consumes input bytes up to and including the terminating CRLF.CRLF;
 * writes the unstuffed message bytes to out (room for n + 1 bytes) and
 * their count to *outlen. Returns the number of input bytes consumed; the
 * end was found when r->st == DS_END (the rest of in is not touched: it
 * is the next pipelined command). */
size_t data_reader_feed(struct data_reader *r, const unsigned char *in, size_t n,
			unsigned char *out, size_t *outlen);

#endif
