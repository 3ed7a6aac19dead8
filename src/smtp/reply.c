#include "config.h"

#include "smtp/reply.h"

struct reply_def {
	int code;
	const char *enh;   /* NULL: none (greeting, HELO, 354) */
	const char *text;
};

static const struct reply_def replies[R_COUNT] = {
	[R_GREETING] = { 220, NULL, "ESMTP msgw ready" },
	[R_BLOCKED_GREETING] = { 554, "5.7.1", "access denied from your network" },
	[R_BYE] = { 221, "2.0.0", "closing connection" },
	[R_OKAY] = { 250, "2.0.0", "OK" },
	[R_HELO] = { 250, NULL, "at your service" },
	[R_MAIL_OK] = { 250, "2.1.0", "sender OK" },
	[R_RCPT_OK] = { 250, "2.1.5", "recipient OK" },
	[R_RESET] = { 250, "2.0.0", "reset" },
	[R_STORED] = { 250, "2.6.0", "message stored" },
	[R_CHUNK_OK] = { 250, "2.0.0", "octets received" },
	[R_VRFY] = { 252, "2.5.0", "cannot VRFY, but will try delivery" },
	[R_HELP] = { 214, "2.0.0", "commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS" },
	[R_START_DATA] = { 354, NULL, "end data with <CR><LF>.<CR><LF>" },
	[R_START_TLS] = { 220, "2.0.0", "ready to start TLS" },
	[R_TIMEOUT] = { 421, "4.4.2", "timeout, closing connection" },
	[R_TOO_MANY_ERRORS] = { 421, "4.7.0", "too many errors, closing connection" },
	[R_SUSPENDED] = { 450, "4.2.1", "mailbox temporarily disabled" },
	[R_LOCAL_ERROR] = { 451, "4.3.0", "local error, try again later" },
	[R_TLS_UNAVAILABLE] = { 454, "4.7.0", "TLS not available" },
	[R_NO_SPACE] = { 452, "4.3.1", "insufficient system storage" },
	[R_TOO_MANY_RCPTS] = { 452, "4.5.3", "too many recipients" },
	[R_UNRECOGNIZED] = { 500, "5.5.1", "command unrecognized" },
	[R_LINE_TOO_LONG] = { 500, "5.5.2", "line too long" },
	[R_BAD_LINE] = { 500, "5.5.2", "command line must end in CRLF, without NUL, CR or LF inside" },
	[R_DATA_LINE_TOO_LONG] = { 500, "5.5.2", "message line too long" },
	[R_SYNTAX] = { 501, "5.5.4", "syntax error in parameters" },
	[R_BAD_SENDER] = { 501, "5.1.7", "bad sender address syntax" },
	[R_BAD_RCPT] = { 501, "5.1.3", "bad recipient address syntax" },
	[R_BAD_HELO] = { 501, "5.5.4", "bad or missing domain in HELO/EHLO" },
	[R_NOT_IMPLEMENTED] = { 502, "5.5.1", "command not implemented" },
	[R_BAD_SEQUENCE] = { 503, "5.5.1", "bad sequence of commands" },
	[R_ALREADY_TLS] = { 503, "5.5.1", "TLS already active" },
	[R_NEED_BDAT] = { 503, "5.5.1", "BODY=BINARYMIME needs BDAT, not DATA" },
	[R_NEED_TLS] = { 530, "5.7.0", "must issue a STARTTLS command first" },
	[R_UNKNOWN_MAILBOX] = { 550, "5.1.1", "no such mailbox" },
	[R_NO_RELAY] = { 550, "5.7.1", "relaying denied" },
	[R_TOO_BIG] = { 552, "5.3.4", "message size exceeds fixed limit" },
	[R_NETWORK_DENIED] = { 554, "5.7.1", "access denied from your network" },
	[R_BAD_PARAM] = { 555, "5.5.4", "unsupported MAIL/RCPT parameter" },
	[R_AUTH_CANCELLED] = { 501, "5.0.0", "authentication cancelled" },
	[R_AUTH_MALFORMED] = { 501, "5.5.2", "cannot decode the authentication response" },
	[R_AUTH_BAD_MECH] = { 504, "5.5.4", "unrecognized authentication mechanism" },
	[R_AUTH_FAILED] = { 535, "5.7.8", "only remote_user%target_server%mailbox_id log-ins are accepted here" },
	[R_AUTH_REQUIRED] = { 530, "5.7.0", "authentication required" },
	[R_PROXY_REFUSED] = { 535, "5.7.8", "Authentication credentials invalid" },
	[R_PROXY_ALREADY_AUTH] = { 503, "5.5.1", "Already authenticated" },
	[R_PROXY_NOT_RELAYED] = { 500, "5.5.1", "Command unrecognized or not relayed by the recording proxy" },
	[R_PROXY_CONTROL_CHAR] = { 500, "5.5.2", "Control character in command line" },
	[R_PROXY_BDAT_SYNTAX] = { 501, "5.5.4", "Syntax: BDAT size [LAST]" },
	[R_PROXY_NO_BDAT] = { 502, "5.5.1", "BDAT not available" },
	[R_PROXY_CHUNK_TOO_BIG] = { 552, "5.3.4", "Chunk too big" },
	[R_PROXY_CLOSING] = { 421, "4.3.0", "Closing connection" },
	[R_PROXY_LOST] = { 451, "4.4.2", "Connection to the target server lost" },
	[R_PROXY_LOST_CLOSING] = { 421, "4.4.2", "Connection to the target server lost, closing" },
	[R_PROXY_TOO_BIG] = { 552, "5.3.4", "Message too big for the gateway mailbox" },
	[R_PROXY_FULL] = { 452, "4.3.1", "Gateway storage full, message not sent; try again later" },
	[R_PROXY_NOT_RECORDED] = { 451, "4.3.0", "Gateway could not record the message, not sent; try again later" },
	[R_PROXY_NO_MEMORY] = { 454, "4.3.0", "Out of memory" },
};

int reply_code(enum reply r)
{
	return replies[r].code;
}

int reply_send(struct stream *s, enum reply r, const char *arg)
{
	const struct reply_def *d = &replies[r];

	return stream_printf(s, "%d %s%s%s%s%s\r\n", d->code, d->enh ? d->enh : "", d->enh ? " " : "",
			     arg ? arg : "", arg ? " " : "", d->text);
}
