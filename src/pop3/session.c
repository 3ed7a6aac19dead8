/* The POP3 session (RFC 1939): an explicit state machine over one
 * connection, a command table that says in which states each command is
 * valid, replies from one place, one summary log line at the end. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sysexits.h>

#include "net/tls.h"
#include "pop3/pop3.h"
#include "pop3/reply.h"
#include "pop3/session.h"
#include "util/log.h"
#include "util/wipe.h"

#define IN_AUTH (1u << POP3_AUTHORIZATION)
#define IN_TRANS (1u << POP3_TRANSACTION)

static int cmd_capa(struct pop3 *p, char *args);
static int cmd_stls(struct pop3 *p, char *args);
static int cmd_noop(struct pop3 *p, char *args);
static int cmd_quit(struct pop3 *p, char *args);

struct command {
	const char *name;
	unsigned states;        /* IN_AUTH | IN_TRANS */
	int args;               /* 0 none, 1 optional, 2 required */
	int secret;             /* the line may carry a credential: wipe it */
	/* 0 to go on, -1 to end the session (p->end says why) */
	int (*run)(struct pop3 *p, char *args);
};

static const struct command commands[] = {
	{ "CAPA", IN_AUTH | IN_TRANS, 0, 0, cmd_capa },
	{ "STLS", IN_AUTH, 0, 0, cmd_stls },
	{ "USER", IN_AUTH, 2, 0, pop3_cmd_user },
	{ "PASS", IN_AUTH, 1, 1, pop3_cmd_pass },
	{ "AUTH", IN_AUTH, 1, 1, pop3_cmd_auth },
	{ "NOOP", IN_AUTH | IN_TRANS, 0, 0, cmd_noop },
	{ "QUIT", IN_AUTH | IN_TRANS, 0, 0, cmd_quit },
	{ "STAT", IN_TRANS, 0, 0, pop3_cmd_stat },
	{ "LIST", IN_TRANS, 1, 0, pop3_cmd_list },
	{ "UIDL", IN_TRANS, 1, 0, pop3_cmd_uidl },
	{ "RETR", IN_TRANS, 2, 0, pop3_cmd_retr },
	{ "TOP", IN_TRANS, 2, 0, pop3_cmd_top },
	{ "DELE", IN_TRANS, 2, 0, pop3_cmd_dele },
	{ "RSET", IN_TRANS, 0, 0, pop3_cmd_rset },
};

static const char *const end_names[] = {
	[POP3_END_NONE] = "none",       [POP3_END_QUIT] = "quit",
	[POP3_END_EOF] = "disconnect",  [POP3_END_TIMEOUT] = "timeout",
	[POP3_END_ERRORS] = "errors",   [POP3_END_IO] = "io",
	[POP3_END_DAMAGED] = "damaged", [POP3_END_PROXY] = "proxy",
};

const char *pop3_state_name(enum pop3_state st)
{
	switch (st) {
	case POP3_AUTHORIZATION: return "AUTHORIZATION";
	case POP3_TRANSACTION: return "TRANSACTION";
	case POP3_UPDATE: return "UPDATE";
	}
	return "?";
}

/* The one transition function. */
void pop3_enter_state(struct pop3 *p, enum pop3_state to)
{
	log_debug("event=state from=%s to=%s", pop3_state_name(p->state), pop3_state_name(to));
	p->state = to;
}

int pop3_ok(struct pop3 *p, const char *fmt, ...)
{
	char text[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (n < 0)
		text[0] = '\0';
	return stream_printf(p->s, "+OK %s\r\n", text); /* data of ours: a cut only shortens it */
}

/* RFC 2449. USER and SASL only where they can work (after TLS, RFC 2595
 * section 4), and then in both states (RFC 2449 section 5: capabilities
 * of the AUTHORIZATION state are announced in both); STLS only where it
 * can. */
static int cmd_capa(struct pop3 *p, char *args)
{
	int tls = tls_active(p->s);

	(void)args;
	if (pop3_reply(p->s, P3_CAPA) < 0 ||
	    stream_puts(p->s, "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n") < 0)
		return -1;
	if (tls && stream_puts(p->s, "USER\r\nSASL PLAIN\r\n") < 0)
		return -1;
	if (!tls && p->state == POP3_AUTHORIZATION && stream_puts(p->s, "STLS\r\n") < 0)
		return -1;
	return stream_puts(p->s, "IMPLEMENTATION msgw\r\n.\r\n");
}

static int cmd_stls(struct pop3 *p, char *args)
{
	char desc[96];

	(void)args;
	if (tls_active(p->s)) {
		p->errors++;
		return pop3_reply(p->s, P3_ALREADY_TLS);
	}
	if (pop3_reply(p->s, P3_STLS) < 0)
		return -1;
	/* flushes the +OK, drops anything pipelined after STLS */
	if (tls_server_start(p->s, p->cfg) < 0) {
		log_warning("event=tls error=\"%s\"", stream_strerror(p->s));
		p->end = POP3_END_IO;
		return -1;
	}
	p->user[0] = '\0';   /* RFC 2595: forget what came before TLS */
	log_debug("event=tls tls=\"%s\"", tls_describe(p->s, desc, sizeof desc));
	return 0;
}

static int cmd_noop(struct pop3 *p, char *args)
{
	(void)args;
	return pop3_reply(p->s, P3_NOOP);
}

/* RFC 1939 section 6: QUIT from TRANSACTION applies the deletions. */
static int cmd_quit(struct pop3 *p, char *args)
{
	size_t i, marked = 0;

	(void)args;
	p->end = POP3_END_QUIT;
	if (p->state != POP3_TRANSACTION) {
		pop3_reply(p->s, P3_BYE);
		return -1;
	}
	for (i = 0; i < maildrop_count(p->md); i++)
		marked += maildrop_get(p->md, i)->deleted != 0;
	pop3_enter_state(p, POP3_UPDATE);
	if (maildrop_commit(p->md) < 0) {
		log_error("event=update mailbox=%s error=\"%s\"", p->mailbox, strerror(errno));
		pop3_reply(p->s, P3_NOT_REMOVED);
		return -1;
	}
	p->deleted = (unsigned)marked;
	pop3_reply_num(p->s, P3_BYE_DELETED, marked);
	return -1;
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcasecmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* Too many bad commands: the session ends right after the reply to the
 * last one (one reply per command, so pipelining clients stay in step). */
static int count_error(struct pop3 *p)
{
	if (p->errors < p->cfg->pop3.max_errors)
		return 0;
	log_warning("event=too_many_errors errors=%d", p->errors);
	p->end = POP3_END_ERRORS;
	return -1;
}

/* One command line (line end already stripped). *secret tells whether
 * it was one that may carry a credential. */
static int dispatch(struct pop3 *p, char *line, int *secret)
{
	const struct command *cmd;
	char *args = strchr(line, ' ');
	int rc;

	if (args)
		*args++ = '\0';
	else
		args = line + strlen(line);
	cmd = find_command(line);
	*secret = cmd != NULL && cmd->secret;
	if (cmd == NULL) {
		p->errors++;
		rc = pop3_reply(p->s, P3_UNKNOWN_COMMAND);
	} else if (!(cmd->states & (1u << p->state))) {
		p->errors++;
		rc = pop3_reply_str(p->s,
				    p->state == POP3_AUTHORIZATION ? P3_NOT_IN_AUTHORIZATION
								   : P3_NOT_IN_TRANSACTION,
				    cmd->name);
	} else if ((cmd->args == 0 && *args) || (cmd->args == 2 && *args == '\0')) {
		p->errors++;
		rc = pop3_reply_str(p->s, P3_WRONG_ARGS, cmd->name);
	} else {
		rc = cmd->run(p, args);
	}
	if (rc < 0 && p->end == POP3_END_NONE)
		p->end = POP3_END_IO;
	return rc < 0 ? -1 : count_error(p);
}

/* The line buffer and the whole stream read buffer but for its unread
 * (pipelined) part. */
static void wipe_input(struct pop3 *p)
{
	wipe(p->line, sizeof p->line);
	stream_wipe_input(p->s);
}

static int read_command(struct pop3 *p)
{
	size_t len;
	enum line_result lr = stream_getline(p->s, p->line, sizeof p->line, &len);
	int rc, secret = 0;

	switch (lr) {
	case LINE_OK:
		break;
	case LINE_TOO_LONG:
		wipe_input(p);   /* it might have been an overlong PASS */
		p->errors++;
		if (pop3_reply(p->s, P3_LINE_TOO_LONG) < 0) {
			p->end = POP3_END_IO;
			return -1;
		}
		return count_error(p);
	case LINE_EOF:
		p->end = POP3_END_EOF;
		return -1;
	case LINE_ERROR:
		p->end = stream_error(p->s) == STREAM_TIMEOUT ? POP3_END_TIMEOUT : POP3_END_IO;
		if (stream_error(p->s) == STREAM_TIMEOUT) {
			/* A read timeout loses nothing: the stream can still
			 * say goodbye, briefly, in case the peer is gone. */
			stream_clear_error(p->s);
			stream_set_timeout(p->s, 5000);
			if (p->state == POP3_AUTHORIZATION)
				log_warning("event=login_timeout");
			pop3_reply(p->s, stream_deadline(p->s) && stream_deadline(p->s) <= stream_now_ms()
						 ? P3_TIME_LIMIT : P3_IDLE);
			stream_flush(p->s);
		}
		return -1;
	}
	while (len > 0 && (p->line[len - 1] == '\n' || p->line[len - 1] == '\r'))
		p->line[--len] = '\0';
	rc = dispatch(p, p->line, &secret);
	/* PASS and AUTH lines carry passwords: wipe every copy we hold. */
	if (secret)
		wipe_input(p);
	else
		wipe(p->line, len);
	return rc;
}

/* Replies leave in whole buffers already (one write per flush), so Nagle's
 * algorithm only adds a delayed-ACK wait after each pipelined batch. Not a
 * socket (a pipe under a test or tcpserver): nothing to do. */
static void no_delay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void summary(const struct pop3 *p, long long start)
{
	log_info("event=session_end mailbox=%s retrieved=%u deleted=%u bytes=%llu "
		 "duration_ms=%lld end=%s",
		 p->mailbox[0] ? p->mailbox : "-", p->retrieved, p->deleted,
		 (unsigned long long)p->bytes, stream_now_ms() - start, end_names[p->end]);
}

int pop3_session(const struct conn *c, const struct frontend *fe)
{
	long long start = stream_now_ms();
	struct pop3 *p;
	int rc = EX_OK;

	/* On the heap, as its stream is; both are wiped when freed. */
	if ((p = calloc(1, sizeof *p)) == NULL) {
		log_error("event=session error=\"out of memory\"");
		return EX_OSERR;
	}
	p->fe = fe;
	p->cfg = &fe->app.cfg;
	p->conn = c;
	p->state = POP3_AUTHORIZATION;
	if ((p->s = stream_new(c->rfd, c->wfd, p->cfg->pop3.idle_timeout * 1000)) == NULL) {
		log_error("event=session error=\"out of memory\"");
		free(p);
		return EX_OSERR;
	}
	stream_set_session_limit(p->s, p->cfg->pop3.session_timeout);
	stream_set_login_limit(p->s, p->cfg->pop3.login_timeout);
	no_delay(c->wfd);
	log_debug("event=connect local=%s:%d implicit_tls=%d", c->local, c->local_port,
		  fe->implicit_tls);
	if (store_init(&p->store, p->cfg) < 0) {
		log_error("event=session error=\"store: %s\"", strerror(errno));
		pop3_reply(p->s, P3_UNAVAILABLE);
		stream_flush(p->s);
		rc = EX_UNAVAILABLE;
		goto out;
	}
	if (fe->implicit_tls && tls_server_start(p->s, p->cfg) < 0) {
		log_warning("event=tls error=\"%s\"", stream_strerror(p->s));
		p->end = POP3_END_IO;
		goto out;
	}
	if (pop3_reply_str(p->s, P3_GREETING, p->cfg->hostname) < 0)
		goto out;
	while (read_command(p) == 0)
		;
	stream_flush(p->s);
out:
	summary(p, start);
	if (p->md)
		maildrop_close(p->md);   /* without QUIT nothing was deleted */
	stream_shutdown(p->s);
	stream_free(p->s);
	free(p->prefetch);
	wipe(p, sizeof *p);
	free(p);
	return rc;
}
