/* Every reply msgw-smtp sends, from one table: the basic code, the
 * enhanced status code (RFC 3463) and the text stay consistent. */
#ifndef MSGW_SMTP_REPLY_H
#define MSGW_SMTP_REPLY_H

#include "net/stream.h"

enum reply {
	R_GREETING,          /* 220 <host> ESMTP */
	R_BLOCKED_GREETING,  /* 554 5.7.1: connection from outside allowed_networks */
	R_BYE,               /* 221 2.0.0 */
	R_OKAY,                /* 250 2.0.0 */
	R_HELO,              /* 250 <host> */
	R_MAIL_OK,           /* 250 2.1.0 */
	R_RCPT_OK,           /* 250 2.1.5 */
	R_RESET,             /* 250 2.0.0 */
	R_STORED,            /* 250 2.6.0 */
	R_CHUNK_OK,          /* 250 2.0.0 */
	R_VRFY,              /* 252 2.5.0 */
	R_HELP,              /* 214 2.0.0 */
	R_START_DATA,        /* 354 */
	R_START_TLS,         /* 220 2.0.0 */
	R_TIMEOUT,           /* 421 4.4.2 */
	R_TOO_MANY_ERRORS,   /* 421 4.7.0 */
	R_SUSPENDED,         /* 450 4.2.1 */
	R_LOCAL_ERROR,       /* 451 4.3.0 */
	R_TLS_UNAVAILABLE,   /* 454 4.7.0 */
	R_NO_SPACE,          /* 452 4.3.1 */
	R_TOO_MANY_RCPTS,    /* 452 4.5.3 */
	R_UNRECOGNIZED,      /* 500 5.5.1 */
	R_LINE_TOO_LONG,     /* 500 5.5.2 */
	R_BAD_LINE,          /* 500 5.5.2: no CRLF, NUL, bare CR or LF */
	R_DATA_LINE_TOO_LONG,/* 500 5.5.2 */
	R_SYNTAX,            /* 501 5.5.4 */
	R_BAD_SENDER,        /* 501 5.1.7 */
	R_BAD_RCPT,          /* 501 5.1.3 */
	R_BAD_HELO,          /* 501 5.5.4 */
	R_NOT_IMPLEMENTED,   /* 502 5.5.1 */
	R_BAD_SEQUENCE,      /* 503 5.5.1 */
	R_ALREADY_TLS,       /* 503 5.5.1 */
	R_NEED_BDAT,         /* 503 5.5.1: BODY=BINARYMIME with DATA */
	R_NEED_TLS,          /* 530 5.7.0 */
	R_UNKNOWN_MAILBOX,   /* 550 5.1.1 */
	R_NO_RELAY,          /* 550 5.7.1 */
	R_TOO_BIG,           /* 552 5.3.4 */
	R_NETWORK_DENIED,    /* 554 5.7.1 */
	R_BAD_PARAM,         /* 555 5.5.4 */
	R_AUTH_CANCELLED,    /* 501 5.0.0 */
	R_AUTH_MALFORMED,    /* 501 5.5.2 */
	R_AUTH_BAD_MECH,     /* 504 5.5.4 */
	R_AUTH_FAILED,       /* 535 5.7.8 */
	R_AUTH_REQUIRED,     /* 530 5.7.0: msgw-proxy, before a proxy log-in */
	/* the recording proxy's own replies (proxy/smtp.c) */
	R_PROXY_REFUSED,     /* 535 5.7.8: every refusal before the upstream answered */
	R_PROXY_ALREADY_AUTH,/* 503 5.5.1 */
	R_PROXY_NOT_RELAYED, /* 500 5.5.1: a verb the proxy does not relay */
	R_PROXY_CONTROL_CHAR,/* 500 5.5.2 */
	R_PROXY_BDAT_SYNTAX, /* 501 5.5.4 */
	R_PROXY_NO_BDAT,     /* 502 5.5.1: the upstream offers no CHUNKING */
	R_PROXY_CHUNK_TOO_BIG, /* 552 5.3.4, then the connection closes */
	R_PROXY_CLOSING,     /* 421 4.3.0 */
	R_PROXY_LOST,        /* 451 4.4.2: upstream lost, the message was not sent */
	R_PROXY_LOST_CLOSING,/* 421 4.4.2 */
	R_PROXY_TOO_BIG,     /* 552 5.3.4: larger than the copy may be */
	R_PROXY_FULL,        /* 452 4.3.1 */
	R_PROXY_NOT_RECORDED,/* 451 4.3.0 */
	R_PROXY_NO_MEMORY,   /* 454 4.3.0 */
	R_COUNT
};

/* The 3-digit code of r. */
int reply_code(enum reply r);
/* "CODE ENH [arg ]TEXT\r\n" (arg may be NULL) into the stream's buffer;
 * goes out with the next flush, so pipelined replies travel together. */
int reply_send(struct stream *s, enum reply r, const char *arg);

#endif
