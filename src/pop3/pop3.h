/* Inside the POP3 session: the state shared by the session loop
 * (session.c), the login commands (login.c), the maildrop commands
 * (transaction.c) and message streaming (retr.c). */
#ifndef MSGW_POP3_POP3_H
#define MSGW_POP3_POP3_H

#include <stddef.h>
#include <stdint.h>

#include "net/frontend.h"
#include "net/stream.h"
#include "store/store.h"

/* RFC 2449 caps a command at 255 octets; an AUTH PLAIN response carries
 * up to three 255-octet fields in base64, so the line limit is larger. */
#define POP3_LINE_MAX 1024
#define POP3_USER_MAX 256

/* RFC 1939 section 3: the session's states. */
enum pop3_state {
	POP3_AUTHORIZATION = 0,
	POP3_TRANSACTION,
	POP3_UPDATE,
};

/* Why the command loop ended, for the summary line. */
enum pop3_end {
	POP3_END_NONE = 0,
	POP3_END_QUIT,
	POP3_END_EOF,
	POP3_END_TIMEOUT,
	POP3_END_ERRORS,
	POP3_END_IO,
	POP3_END_DAMAGED,   /* a message failed mid-stream: the connection is cut */
	POP3_END_PROXY,     /* handed to the recording proxy, which relayed it to its end */
};

struct pop3 {
	const struct frontend *fe;
	const struct config *cfg;
	const struct conn *conn;
	struct stream *s;
	struct store store;
	enum pop3_state state;
	enum pop3_end end;
	int errors;                     /* bad commands so far */
	char user[POP3_USER_MAX];       /* from USER, "" when none */
	struct maildrop *md;            /* open in TRANSACTION */
	char mailbox[MAILBOX_ID_LEN + 1];
	unsigned retrieved, deleted;
	uint64_t bytes;                 /* message octets sent by RETR and TOP */
	unsigned char *prefetch;        /* see retr.c */
	char line[POP3_LINE_MAX];
};

/* Status texts come from the reply table (pop3/reply.h). pop3_ok is for
 * the +OK lines that carry data (STAT's drop listing, LIST n and UIDL n). */
int pop3_ok(struct pop3 *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pop3_enter_state(struct pop3 *p, enum pop3_state to);
const char *pop3_state_name(enum pop3_state st);

/* Commands: args is the rest of the line after the keyword and one space
 * ("" when none), without the line end. */
int pop3_cmd_user(struct pop3 *p, char *args);
int pop3_cmd_pass(struct pop3 *p, char *args);
int pop3_cmd_auth(struct pop3 *p, char *args);
int pop3_cmd_stat(struct pop3 *p, char *args);
int pop3_cmd_list(struct pop3 *p, char *args);
int pop3_cmd_uidl(struct pop3 *p, char *args);
int pop3_cmd_dele(struct pop3 *p, char *args);
int pop3_cmd_rset(struct pop3 *p, char *args);
int pop3_cmd_retr(struct pop3 *p, char *args);
int pop3_cmd_top(struct pop3 *p, char *args);

/* A message number argument "1".."count" of a message not deleted:
 * 0 and *idx (0-based), or -1 after answering -ERR. */
int pop3_msgno(struct pop3 *p, const char *arg, size_t *idx);
/* Strict unsigned decimal (no sign, no spaces), at most max: 0 or -1. */
int pop3_parse_uint(const char *s, uint64_t max, uint64_t *out);

/* Base64 (RFC 4648, padding required) decoding for AUTH PLAIN, into out
 * of size outmax (the decoded bytes and a NUL): the decoded length, or -1
 * when s is not base64 or does not fit. */
long pop3_base64_decode(const char *s, size_t len, unsigned char *out, size_t outmax);

/* The client side (the proxy's upstream): a status line into line (size
 * bytes, with its CR LF put back): 1 +OK, 0 -ERR, -1 lost or garbled. */
int pop3_status_read(struct stream *s, char *line, size_t size, size_t *len);
/* Is the +OK answer to this command line followed by a dot-terminated
 * list (CAPA, TOP, LIST and UIDL without an argument)? */
int pop3_multiline(const char *cmdline);

/* RFC 1939 byte-stuffing of a message as it streams out: bare LF becomes
 * CRLF, a '.' starting a line is doubled. TOP limits the body lines. */
struct pop3_stuffer {
	int at_line_start;
	int prev_cr;
	int in_body;            /* past the empty line ending the header */
	int line_empty;         /* header line so far is empty (or just CR) */
	int limit_body;         /* TOP: stop after body_lines lines of body */
	uint64_t body_lines;
	int done;               /* TOP reached its limit */
	uint64_t out_bytes;     /* message octets written, before stuffing */
};
void pop3_stuffer_init(struct pop3_stuffer *f, int limit_body, uint64_t body_lines);
/* Feed n plaintext bytes; emit(ctx, p, n) receives the stuffed output.
 * 0, or -1 when emit failed. */
int pop3_stuff(struct pop3_stuffer *f, const unsigned char *in, size_t n,
	       int (*emit)(void *ctx, const void *p, size_t n), void *ctx);
/* Ends the message: CRLF if the last line had none, then ".\r\n". */
int pop3_stuff_end(struct pop3_stuffer *f, int (*emit)(void *ctx, const void *p, size_t n),
		   void *ctx);

#endif
