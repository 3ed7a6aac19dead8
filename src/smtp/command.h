/* SMTP command-line parsing, free of I/O so it can be unit-tested and
 * fuzzed: the verb, MAIL/RCPT paths and parameters, BDAT arguments, and
 * splitting a mailbox address. */
#ifndef MSGW_SMTP_COMMAND_H
#define MSGW_SMTP_COMMAND_H

#include <stddef.h>
#include <stdint.h>

/* RFC 5321 4.5.3.1: 512 octets for a command line; the slack leaves room
 * for the parameters of SMTP extensions. Longer lines get 500 5.5.2. */
#define SMTP_LINE_MAX 1024
#define SMTP_PATH_MAX 256      /* forward-path/reverse-path, without <> */
#define SMTP_DOMAIN_MAX 255
#define SMTP_LOCAL_MAX 64
#define SMTP_VERB_MAX 12

enum body_type { BODY_7BIT = 0, BODY_8BITMIME, BODY_BINARYMIME };

enum cmd_check {
	CMD_OK = 0,
	CMD_NO_CRLF,       /* line does not end in CRLF */
	CMD_BAD_CHAR,      /* NUL, CR or LF inside the line */
};

/* Checks that line[0..len) ends in CRLF and holds no NUL, CR or LF before
 * it; then cuts the CRLF off (line is NUL-terminated at len - 2). */
enum cmd_check cmd_check_line(char *line, size_t len);

/* Splits "VERB args": verb upper-cased into verb (at most SMTP_VERB_MAX
 * letters); *args points past the spaces after it (an empty string when
 * none). -1 when the verb is empty, too long or not letters. */
int cmd_split(const char *line, char verb[SMTP_VERB_MAX + 1], const char **args);

struct mail_params {
	char path[SMTP_PATH_MAX + 1];  /* "" for the null sender <> */
	int64_t size;                  /* SIZE=, or -1 */
	enum body_type body;
	int smtputf8;
};

enum path_err {
	PATH_OK = 0,
	PATH_SYNTAX,       /* the FROM:/TO: prefix or the <path> is malformed */
	PATH_PARAM,        /* an unknown or malformed parameter */
};

/* "FROM:<path> [SIZE=n] [BODY=7BIT|8BITMIME|BINARYMIME] [SMTPUTF8]". */
enum path_err cmd_parse_mail(const char *args, struct mail_params *p);
/* "TO:<path>" (no parameters are supported); path is not empty. */
enum path_err cmd_parse_rcpt(const char *args, char path[SMTP_PATH_MAX + 1]);
/* "SIZE [LAST]": 0 and *size, *last; -1 on a syntax error. */
int cmd_parse_bdat(const char *args, uint64_t *size, int *last);
/* A HELO/EHLO argument: a domain or address literal of printable ASCII,
 * at most SMTP_DOMAIN_MAX octets (anything after a space is ignored, as
 * some clients add text). 0 or -1. */
int cmd_parse_helo(const char *args, char out[SMTP_DOMAIN_MAX + 1]);

/* Splits "local@domain" at the last '@': *local and *domain point into
 * buf (a copy); the local part is cut at the first '+' when tag is set.
 * -1 when there is no '@' or a part is empty. */
int addr_split(const char *addr, char *buf, size_t size, const char **local, const char **domain,
	       int tag);

#endif
