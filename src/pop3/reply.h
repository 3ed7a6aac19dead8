/* Every status line msgw-pop3 and the POP3 recording proxy send, from one
 * table (as smtp/reply.h is for SMTP): "+OK text" or "-ERR [CODE] text",
 * the response codes of RFC 2449 and RFC 3206. A text may hold one
 * argument: {n} a number, {s} a string of msgw's own (never peer input).
 * Not here: what follows a status line (CAPA, listings, message content)
 * and the drop and scan listings of STAT, LIST n and UIDL n, which are
 * data (RFC 1939 section 5). */
#ifndef MSGW_POP3_REPLY_H
#define MSGW_POP3_REPLY_H

#include <stddef.h>

#include "net/stream.h"

/* RFC 2449 section 4: a response line is at most 512 octets, CRLF included. */
#define POP3_REPLY_MAX 512

enum pop3_reply {
	/* +OK */
	P3_GREETING,           /* {s}: the host name */
	P3_CAPA,
	P3_STLS,
	P3_NOOP,
	P3_BYE,                /* msgw-pop3 outside TRANSACTION, the proxy */
	P3_BYE_DELETED,        /* {n} */
	P3_SEND_PASS,
	P3_MECHANISMS,
	P3_LOGGED_IN,          /* {n} messages */
	P3_SCAN_LISTING,
	P3_UIDL_LISTING,
	P3_DELETED,            /* {n} */
	P3_RESET,              /* {n} messages */
	P3_OCTETS,             /* {n}: RETR and TOP */
	/* -ERR, any state */
	P3_UNKNOWN_COMMAND,
	P3_NOT_IN_AUTHORIZATION, /* {s}: the command */
	P3_NOT_IN_TRANSACTION,   /* {s}: the command */
	P3_WRONG_ARGS,         /* {s}: the command */
	P3_LINE_TOO_LONG,
	P3_TIME_LIMIT,
	P3_IDLE,
	P3_UNAVAILABLE,        /* [SYS/TEMP]: the store cannot be used */
	P3_NO_MEMORY,          /* [SYS/TEMP] */
	/* -ERR, AUTHORIZATION */
	P3_ALREADY_TLS,
	P3_NEED_TLS,           /* [AUTH]: USER, PASS, AUTH before STLS */
	P3_AUTH_FAILED,        /* [AUTH]: every failed log-in, every proxy refusal */
	P3_IN_USE,             /* [IN-USE] */
	P3_MAILDROP_UNAVAILABLE, /* [SYS/TEMP] */
	P3_USER_USAGE,
	P3_USER_FIRST,
	P3_AUTH_MALFORMED,
	P3_AUTH_BAD_BASE64,
	P3_AUTH_CANCELLED,
	P3_AUTH_BAD_MECH,
	/* -ERR, TRANSACTION */
	P3_BAD_MSGNO,
	P3_NO_SUCH_MESSAGE,
	P3_ALREADY_DELETED,    /* {n} */
	P3_CANNOT_MARK,        /* [SYS/TEMP] {n} */
	P3_NOT_REMOVED,        /* [SYS/TEMP]: QUIT could not apply every DELE */
	P3_TOP_USAGE,
	P3_RETR_USAGE,
	P3_UNREADABLE,         /* {n} */
	P3_UNDECRYPTABLE,      /* {n} */
	/* -ERR, the recording proxy's own (proxy/pop3.c) */
	P3_PROXY_NEED_TLS,     /* [PRIVACY]: a caller bug, see proxy/handoff.h */
	P3_PROXY_ALREADY_AUTH,
	P3_PROXY_LOST,         /* [SYS/TEMP] */
	P3_PROXY_NOT_RECORDED, /* [SYS/TEMP]: pop3_require_copy */
	P3_COUNT
};

/* The argument r's text takes: 'n' ({n}), 's' ({s}) or 0 (none). */
int pop3_reply_arg(enum pop3_reply r);
/* The line, CRLF included, into out (size > 2): its length. n fills {n},
 * arg fills {s} (NULL: ""); the text is cut to fit, the CRLF never. */
size_t pop3_reply_format(char *out, size_t size, enum pop3_reply r, unsigned long long n,
			 const char *arg);

/* Into the stream's buffer (out with the next flush): 0 or -1. The
 * variant must match the text's argument (an internal bug aborts). */
int pop3_reply(struct stream *s, enum pop3_reply r);
int pop3_reply_num(struct stream *s, enum pop3_reply r, unsigned long long n);
int pop3_reply_str(struct stream *s, enum pop3_reply r, const char *arg);

#endif
