#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/reply.h"
#include "util/log.h"

struct reply_def {
	int ok;            /* +OK, else -ERR */
	const char *code;  /* RFC 2449 / RFC 3206 response code, NULL: none */
	const char *text;
};

#define OK(text) { 1, NULL, text }
#define ERR(code, text) { 0, code, text }

static const struct reply_def replies[P3_COUNT] = {
	[P3_GREETING] = OK("{s} msgw POP3 server ready"),
	[P3_CAPA] = OK("Capability list follows"),
	[P3_STLS] = OK("Begin TLS negotiation"),
	[P3_NOOP] = OK("Nothing done"),
	[P3_BYE] = OK("Bye"),
	[P3_BYE_DELETED] = OK("Bye, {n} messages deleted"),
	[P3_SEND_PASS] = OK("Send PASS"),
	[P3_MECHANISMS] = OK("Supported mechanisms follow"),
	[P3_LOGGED_IN] = OK("Logged in, {n} messages"),
	[P3_SCAN_LISTING] = OK("Scan listing follows"),
	[P3_UIDL_LISTING] = OK("Unique-ID listing follows"),
	[P3_DELETED] = OK("Message {n} deleted"),
	[P3_RESET] = OK("Maildrop has {n} messages"),
	[P3_OCTETS] = OK("{n} octets"),
	[P3_UNKNOWN_COMMAND] = ERR(NULL, "Unknown command"),
	[P3_NOT_IN_AUTHORIZATION] = ERR(NULL, "{s} is not valid in the AUTHORIZATION state"),
	[P3_NOT_IN_TRANSACTION] = ERR(NULL, "{s} is not valid in the TRANSACTION state"),
	[P3_WRONG_ARGS] = ERR(NULL, "Wrong arguments for {s}"),
	[P3_LINE_TOO_LONG] = ERR(NULL, "Line too long"),
	[P3_TIME_LIMIT] = ERR(NULL, "Time limit reached, closing"),
	[P3_IDLE] = ERR(NULL, "Idle for too long, closing"),
	[P3_UNAVAILABLE] = ERR("SYS/TEMP", "Service not available"),
	[P3_NO_MEMORY] = ERR("SYS/TEMP", "Out of memory, try again later"),
	[P3_ALREADY_TLS] = ERR(NULL, "TLS is already active"),
	[P3_NEED_TLS] = ERR("AUTH", "Use STLS first: no credentials without TLS"),
	[P3_AUTH_FAILED] = ERR("AUTH", "Authentication failed"),
	[P3_IN_USE] = ERR("IN-USE", "Maildrop is in use by another session"),
	[P3_MAILDROP_UNAVAILABLE] = ERR("SYS/TEMP", "Cannot open the maildrop now, try again later"),
	[P3_USER_USAGE] = ERR(NULL, "Usage: USER name"),
	[P3_USER_FIRST] = ERR(NULL, "USER first"),
	[P3_AUTH_MALFORMED] = ERR(NULL, "Malformed AUTH PLAIN response"),
	[P3_AUTH_BAD_BASE64] = ERR(NULL, "Invalid base64 in AUTH PLAIN response"),
	[P3_AUTH_CANCELLED] = ERR(NULL, "Authentication cancelled"),
	[P3_AUTH_BAD_MECH] = ERR(NULL, "Unsupported authentication mechanism"),
	[P3_BAD_MSGNO] = ERR(NULL, "Invalid message number"),
	[P3_NO_SUCH_MESSAGE] = ERR(NULL, "No such message"),
	[P3_ALREADY_DELETED] = ERR(NULL, "Message {n} already deleted"),
	[P3_CANNOT_MARK] = ERR("SYS/TEMP", "Cannot mark message {n}"),
	[P3_NOT_REMOVED] = ERR("SYS/TEMP", "Some deleted messages were not removed"),
	[P3_TOP_USAGE] = ERR(NULL, "Usage: TOP msg lines"),
	[P3_RETR_USAGE] = ERR(NULL, "Usage: RETR msg"),
	[P3_UNREADABLE] = ERR(NULL, "Message {n} cannot be read"),
	[P3_UNDECRYPTABLE] = ERR(NULL, "Message {n} cannot be decrypted"),
	[P3_PROXY_NEED_TLS] = ERR("PRIVACY", "Use STLS first: no credentials over plain text"),
	[P3_PROXY_ALREADY_AUTH] = ERR(NULL, "Already authenticated"),
	[P3_PROXY_LOST] = ERR("SYS/TEMP", "Connection to the target server lost"),
	[P3_PROXY_NOT_RECORDED] = ERR("SYS/TEMP", "The gateway could not record a copy of this message"),
};

int pop3_reply_arg(enum pop3_reply r)
{
	const char *t = replies[r].text;

	if (strstr(t, "{n}"))
		return 'n';
	if (strstr(t, "{s}"))
		return 's';
	return 0;
}

/* Append src[0..n) to out at *o, as much as fits before the CRLF's room. */
static void put(char *out, size_t room, size_t *o, const char *src, size_t n)
{
	if (n > room - *o)
		n = room - *o;
	memcpy(out + *o, src, n);
	*o += n;
}

size_t pop3_reply_format(char *out, size_t size, enum pop3_reply r, unsigned long long n,
			 const char *arg)
{
	const struct reply_def *d = &replies[r];
	size_t room = size - 2, o = 0;   /* room: all but the CRLF */
	char num[24];
	const char *t;

	put(out, room, &o, d->ok ? "+OK " : "-ERR ", d->ok ? 4 : 5);
	if (d->code) {
		put(out, room, &o, "[", 1);
		put(out, room, &o, d->code, strlen(d->code));
		put(out, room, &o, "] ", 2);
	}
	for (t = d->text; *t; t++) {
		if (t[0] == '{' && (t[1] == 'n' || t[1] == 's') && t[2] == '}') {
			const char *v = t[1] == 's' ? (arg ? arg : "") : num;

			if (t[1] == 'n')
				snprintf(num, sizeof num, "%llu", n);
			put(out, room, &o, v, strlen(v));
			t += 2;
		} else {
			put(out, room, &o, t, 1);
		}
	}
	memcpy(out + o, "\r\n", 2);
	return o + 2;
}

static int send_line(struct stream *s, enum pop3_reply r, int want, unsigned long long n,
		     const char *arg)
{
	char line[POP3_REPLY_MAX];

	if (pop3_reply_arg(r) != want) {
		log_error("event=bug detail=\"pop3 reply %d sent with the wrong argument\"", (int)r);
		abort();
	}
	return stream_write(s, line, pop3_reply_format(line, sizeof line, r, n, arg));
}

int pop3_reply(struct stream *s, enum pop3_reply r)
{
	return send_line(s, r, 0, 0, NULL);
}

int pop3_reply_num(struct stream *s, enum pop3_reply r, unsigned long long n)
{
	return send_line(s, r, 'n', n, NULL);
}

int pop3_reply_str(struct stream *s, enum pop3_reply r, const char *arg)
{
	return send_line(s, r, 's', 0, arg);
}
