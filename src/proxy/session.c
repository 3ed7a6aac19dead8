/* msgw-proxy's own front ends: just enough SMTP and POP3 to get the
 * client onto TLS and read a user%server%mailbox log-in, then the same
 * hand-off msgw-smtp and msgw-pop3 use (handoff.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "net/tls.h"
#include "proxy/handoff.h"
#include "proxy/proxy.h"
#include "proxy/session.h"
#include "sasl/smtpauth.h"
#include "util/log.h"
#include "util/wipe.h"

#define FRONT_LINE 1024
#define MAX_LOGIN_FAILURES 3

struct front {
	struct stream s;
	const struct frontend *fe;
	const struct config *cfg;
	const char *peer;
	int errors, failures;
	char line[FRONT_LINE];
	size_t len;
	unsigned char dec[FRONT_LINE]; /* decoded SASL message: a secret */
	size_t dlen;
};

/* -1 at EOF, error, or too many bad lines. */
static int get_line(struct front *f)
{
	enum line_result lr = stream_getline(&f->s, f->line, sizeof f->line, &f->len);

	if (lr == LINE_EOF || lr == LINE_ERROR)
		return -1;
	if (lr == LINE_TOO_LONG) {
		f->len = 0;
		f->line[0] = '\0';
		return ++f->errors > f->cfg->smtp.max_errors ? -1 : 1;
	}
	chomp(f->line, &f->len);
	return 0;
}

/* What follows a four-letter command and its space; "" when nothing. */
static const char *args(const struct front *f)
{
	return f->len > 5 ? f->line + 5 : "";
}

/* A base64 line into f->dec; -1 when malformed. "*" cancels (-2). */
static int get_b64(struct front *f)
{
	if (get_line(f) != 0)
		return -3;
	if (strcmp(f->line, "*") == 0)
		return -2;
	return b64_decode(f->line, f->len, f->dec, sizeof f->dec, &f->dlen);
}

/* Credentials may sit in our copies and in the stream's input buffer
 * (consumed, not yet overwritten): wipe them all. */
static void forget(struct front *f)
{
	wipe(f->line, sizeof f->line);
	wipe(f->dec, sizeof f->dec);
	stream_wipe_consumed(&f->s);
}

static int starttls(struct front *f)
{
	if (tls_server_start(&f->s, f->cfg) < 0) {
		log_info("event=tls_failed error=\"%s\"", stream_strerror(&f->s));
		return -1;
	}
	return 0;
}

/* --- SMTP --- */

static void smtp_ehlo(struct front *f, int tls)
{
	stream_printf(&f->s, "250-%s\r\n", f->cfg->hostname);
	if (!tls)
		stream_puts(&f->s, "250-STARTTLS\r\n");
	else
		stream_puts(&f->s, "250-AUTH PLAIN LOGIN\r\n");
	stream_puts(&f->s, "250-PIPELINING\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n");
}

/* AUTH PLAIN / LOGIN: 1 when handed to the proxy and finished, 0 go on,
 * -1 end. */
static int smtp_auth(struct front *f, const char *args)
{
	struct smtpauth a;
	int rc = 0;

	switch (smtpauth_read(&f->s, args, &a)) {
	case SMTPAUTH_OK:
		break;
	case SMTPAUTH_BAD_MECH:
		stream_puts(&f->s, "504 5.5.4 Unrecognized authentication mechanism\r\n");
		goto out;
	case SMTPAUTH_CANCELLED:
		stream_puts(&f->s, "501 5.0.0 Authentication cancelled\r\n");
		goto out;
	case SMTPAUTH_MALFORMED:
		stream_puts(&f->s, "501 5.5.2 Cannot decode the response\r\n");
		goto out;
	case SMTPAUTH_LOST:
		rc = -1;
		goto out;
	}
	if (!proxy_login_wanted(a.user)) {
		stream_puts(&f->s, "535 5.7.8 This port only accepts "
		                   "remote_user%target_server%mailbox_id log-ins\r\n");
		rc = ++f->failures >= MAX_LOGIN_FAILURES ? -1 : 0;
	} else if (proxy_smtp_takeover(&f->s, f->fe, f->peer, a.user, a.pass, a.plen) == PROXY_FINISHED) {
		rc = 1;
	} else {
		rc = ++f->failures >= MAX_LOGIN_FAILURES ? -1 : 0;
	}
out:
	smtpauth_wipe(&a, &f->s);
	forget(f);
	return rc;
}

static int smtp_front(struct front *f)
{
	int tls = f->fe->implicit_tls, r;

	stream_set_timeout(&f->s, f->cfg->smtp.command_timeout * 1000);
	stream_set_session_limit(&f->s, f->cfg->smtp.session_timeout);
	stream_set_login_limit(&f->s, f->cfg->pop3.login_timeout);
	if (tls && starttls(f) < 0)
		return EX_PROTOCOL;
	stream_printf(&f->s, "220 %s ESMTP msgw recording proxy\r\n", f->cfg->hostname);
	while ((r = get_line(f)) >= 0) {
		if (r == 1)
			stream_puts(&f->s, "500 5.5.2 Line too long\r\n");
		else if (verb_is(f->line, "EHLO"))
			smtp_ehlo(f, tls);
		else if (verb_is(f->line, "HELO"))
			stream_printf(&f->s, "250 %s\r\n", f->cfg->hostname);
		else if (verb_is(f->line, "STARTTLS")) {
			if (tls) {
				stream_puts(&f->s, "503 5.5.1 TLS already active\r\n");
				continue;
			}
			stream_puts(&f->s, "220 2.0.0 Ready to start TLS\r\n");
			if (stream_flush(&f->s) < 0 || starttls(f) < 0)
				return EX_PROTOCOL;
			tls = 1;
		} else if (verb_is(f->line, "AUTH")) {
			if (!tls) {
				/* whatever came with it is dropped unread */
				forget(f);
				stream_puts(&f->s,
				            "530 5.7.0 Must issue a STARTTLS command first\r\n");
				continue;
			}
			r = smtp_auth(f, args(f));
			if (r != 0)
				return r > 0 ? EX_OK : EX_PROTOCOL;
		} else if (verb_is(f->line, "MAIL") || verb_is(f->line, "RCPT") ||
		           verb_is(f->line, "DATA") || verb_is(f->line, "BDAT"))
			stream_puts(&f->s, "530 5.7.0 Authentication required\r\n");
		else if (verb_is(f->line, "NOOP") || verb_is(f->line, "RSET"))
			stream_puts(&f->s, "250 2.0.0 OK\r\n");
		else if (verb_is(f->line, "QUIT")) {
			stream_puts(&f->s, "221 2.0.0 Bye\r\n");
			return EX_OK;
		} else if (++f->errors > f->cfg->smtp.max_errors) {
			stream_puts(&f->s, "421 4.7.0 Too many errors\r\n");
			return EX_PROTOCOL;
		} else
			stream_puts(&f->s, "502 5.5.2 Command not recognized\r\n");
	}
	return EX_OK;
}

/* --- POP3 --- */

static int pop3_capa(struct front *f, int tls)
{
	stream_puts(&f->s, "+OK Capability list follows\r\n");
	if (tls)
		stream_puts(&f->s, "USER\r\nSASL PLAIN\r\n");
	else
		stream_puts(&f->s, "STLS\r\n");
	return stream_puts(&f->s, "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n.\r\n");
}

/* 1 finished, 0 go on, -1 end. */
static int pop3_login(struct front *f, const char *user, const char *pw, size_t plen,
                      enum proxy_pop3_auth how)
{
	if (!proxy_login_wanted(user)) {
		stream_puts(&f->s, "-ERR [AUTH] This port only accepts "
		                   "remote_user%target_server%mailbox_id log-ins\r\n");
		return ++f->failures >= MAX_LOGIN_FAILURES ? -1 : 0;
	}
	if (proxy_pop3_takeover(&f->s, f->fe, f->peer, user, pw, plen, how) == PROXY_FINISHED)
		return 1;
	return ++f->failures >= MAX_LOGIN_FAILURES ? -1 : 0;
}

static int pop3_auth(struct front *f, const char *args)
{
	const char *u, *pw;
	size_t plen;
	int r, rc;

	if (strncasecmp(args, "PLAIN", 5) != 0 || (args[5] != '\0' && args[5] != ' ')) {
		stream_puts(&f->s, "-ERR Unsupported mechanism\r\n");
		return 0;
	}
	if (args[5] == ' ' && args[6]) {
		r = b64_decode(args + 6, strlen(args + 6), f->dec, sizeof f->dec, &f->dlen);
	} else {
		stream_puts(&f->s, "+ \r\n");
		r = get_b64(f);
	}
	if (r == -3)
		return -1;
	if (r < 0 || sasl_plain_split(f->dec, f->dlen, &u, &pw, &plen) < 0) {
		forget(f);
		stream_puts(&f->s, r == -2 ? "-ERR Authentication cancelled\r\n"
		                           : "-ERR Malformed response\r\n");
		return 0;
	}
	rc = pop3_login(f, u, pw, plen, PROXY_POP3_SASL_PLAIN);
	forget(f);
	return rc;
}

static int pop3_front(struct front *f)
{
	int tls = f->fe->implicit_tls, r;
	char user[FRONT_LINE] = "";

	stream_set_timeout(&f->s, f->cfg->pop3.idle_timeout * 1000);
	stream_set_session_limit(&f->s, f->cfg->pop3.session_timeout);
	stream_set_login_limit(&f->s, f->cfg->pop3.login_timeout);
	if (tls && starttls(f) < 0)
		return EX_PROTOCOL;
	stream_puts(&f->s, "+OK msgw recording proxy ready\r\n");
	while ((r = get_line(f)) >= 0) {
		if (r == 1)
			stream_puts(&f->s, "-ERR Line too long\r\n");
		else if (verb_is(f->line, "CAPA"))
			pop3_capa(f, tls);
		else if (verb_is(f->line, "STLS")) {
			if (tls) {
				stream_puts(&f->s, "-ERR TLS already active\r\n");
				continue;
			}
			stream_puts(&f->s, "+OK Begin TLS negotiation\r\n");
			if (stream_flush(&f->s) < 0 || starttls(f) < 0)
				return EX_PROTOCOL;
			tls = 1;
		} else if (!tls && (verb_is(f->line, "USER") || verb_is(f->line, "PASS") ||
		                    verb_is(f->line, "AUTH") || verb_is(f->line, "APOP"))) {
			forget(f);
			stream_puts(
			    &f->s,
			    "-ERR [PRIVACY] Use STLS first: no credentials over plain text\r\n");
		} else if (verb_is(f->line, "USER") && f->len > 5) {
			snprintf(user, sizeof user, "%s", f->line + 5);
			stream_puts(&f->s, "+OK\r\n");
		} else if (verb_is(f->line, "PASS")) {
			if (user[0] == '\0') {
				forget(f);
				stream_puts(&f->s, "-ERR USER first\r\n");
				continue;
			}
			r = pop3_login(f, user, args(f), f->len > 5 ? f->len - 5 : 0,
			               PROXY_POP3_USER_PASS);
			forget(f);
			wipe(user, sizeof user);
			if (r != 0)
				return r > 0 ? EX_OK : EX_PROTOCOL;
		} else if (verb_is(f->line, "AUTH") && f->len > 5) {
			r = pop3_auth(f, args(f));
			if (r != 0)
				return r > 0 ? EX_OK : EX_PROTOCOL;
		} else if (verb_is(f->line, "QUIT")) {
			stream_puts(&f->s, "+OK Bye\r\n");
			return EX_OK;
		} else if (++f->errors > f->cfg->pop3.max_errors) {
			stream_puts(&f->s, "-ERR Too many errors\r\n");
			return EX_PROTOCOL;
		} else
			stream_puts(&f->s, "-ERR Unknown command\r\n");
	}
	return EX_OK;
}

int proxy_session(const struct conn *c, const struct frontend *fe)
{
	struct front *f = calloc(1, sizeof *f);
	int rc;

	if (f == NULL)
		return EX_OSERR;
	f->fe = fe;
	f->cfg = &fe->app.cfg;
	f->peer = c->peer;
	stream_init(&f->s, c->rfd, c->wfd, 30000);
	rc = strcmp(fe->service, "pop3") == 0 ? pop3_front(f) : smtp_front(f);
	stream_shutdown(&f->s);
	forget(f);
	free(f);
	return rc;
}
