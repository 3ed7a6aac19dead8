/* The SMTP session: an explicit state machine driven by a command table.
 * Each command names the states it is valid in; anything else gets 503.
 * Replies come from smtp/reply.c; message bodies stream from the
 * connection through smtp/data.c into the store, never held in memory. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "net/stream.h"
#include "net/tls.h"
#include "proxy/handoff.h"
#include "sasl/smtpauth.h"
#include "smtp/command.h"
#include "smtp/data.h"
#include "smtp/rcpt.h"
#include "smtp/received.h"
#include "smtp/reply.h"
#include "smtp/session.h"
#include "store/store.h"
#include "util/log.h"
#include "util/wipe.h"

enum state { ST_INIT, ST_READY, ST_MAIL, ST_RCPT, ST_BDAT, ST_BLOCKED, ST_DONE };

static const char *const state_names[] = { "init", "ready", "mail", "rcpt", "bdat", "blocked", "done" };

#define IN(s) (1u << (s))
#define ST_SESSION (IN(ST_INIT) | IN(ST_READY) | IN(ST_MAIL) | IN(ST_RCPT))

struct session {
	struct stream *s;
	const struct frontend *fe;
	const struct conn *c;
	const struct config *cfg;
	struct store store;
	enum state st;
	const char *end;                 /* why the session ended: the log's result= */
	char tls[160];                   /* tls_describe() once TLS is up, for the log */
	int errors;
	int esmtp;
	char helo[SMTP_DOMAIN_MAX + 1];
	/* the transaction */
	char from[SMTP_PATH_MAX + 1];
	int has_from;
	enum body_type body;
	int smtputf8;
	char first_rcpt[SMTP_PATH_MAX + 1];
	size_t nrcpt;                    /* accepted RCPTs, duplicates included */
	struct mailbox **mbs;            /* distinct mailboxes, at most max_recipients */
	size_t nmb, cap;
	struct delivery *d;
	uint64_t size;                   /* message octets received from the client */
	enum reply tx_err;               /* R_OKAY while the transaction is fine */
	char id[17];
	/* for the summary line */
	unsigned messages;
	uint64_t bytes;
	char last_from[SMTP_PATH_MAX + 1];
	size_t last_rcpts;
	int last_code;
	unsigned char in[STREAM_BUFSIZE];
	unsigned char out[STREAM_BUFSIZE + 1];
};

typedef void (*cmd_fn)(struct session *ss, const char *args);

enum { C_NEEDS_TLS = 1, C_ANY_STATE = 2, C_JOURNAL = 4 };

struct command {
	const char *verb;
	unsigned states;    /* IN(...) bits where the command is valid */
	unsigned flags;     /* C_NEEDS_TLS: 530 before TLS under require_tls;
			     * C_ANY_STATE: the handler checks the state itself;
			     * C_JOURNAL: a journal transaction, which the
			     * proxy-only policy (msgw-proxy) refuses */
	cmd_fn fn;
};

static void enter(struct session *ss, enum state to)
{
	if (ss->st != to)
		log_debug("event=state from=%s to=%s", state_names[ss->st], state_names[to]);
	ss->st = to;
}

static void done(struct session *ss, const char *why)
{
	if (ss->end == NULL)
		ss->end = why;
	enter(ss, ST_DONE);
}

static void reply(struct session *ss, enum reply r, const char *arg)
{
	(void)reply_send(ss->s, r, arg);
}

/* A refused command: counts towards smtp.max_errors. */
static void fail(struct session *ss, enum reply r)
{
	reply(ss, r, NULL);
	if (++ss->errors >= ss->cfg->smtp.max_errors) {
		reply(ss, R_TOO_MANY_ERRORS, NULL);
		log_warning("event=too-many-errors errors=%d", ss->errors);
		done(ss, "too-many-errors");
	}
}

/* Waits for input within the per-command timeout and the session bound.
 * 0 when input is there; else answers 421 4.4.2 and ends the session. */
static int wait_input(struct session *ss, int timeout_s)
{
	long long budget = (long long)timeout_s * 1000;

	if (stream_pending(ss->s) > 0)
		return 0;
	if (stream_flush(ss->s) < 0) {
		done(ss, "write-error");
		return -1;
	}
	if (stream_time_left(ss->s) >= 0 && stream_time_left(ss->s) < budget)
		budget = stream_time_left(ss->s);
	if (budget > 0 && stream_input_ready(ss->s, (int)budget))
		return 0;
	reply(ss, R_TIMEOUT, NULL);
	(void)stream_flush(ss->s);
	log_info("event=timeout state=%s", state_names[ss->st]);
	done(ss, "timeout");
	return -1;
}

/* The transaction ---------------------------------------------------- */

static void tx_reset(struct session *ss)
{
	if (ss->d) {
		delivery_abort(ss->d);
		ss->d = NULL;
	}
	ss->has_from = 0;
	ss->from[0] = '\0';
	ss->first_rcpt[0] = '\0';
	ss->nrcpt = ss->nmb = 0;
	ss->size = 0;
	ss->tx_err = R_OKAY;
	ss->body = BODY_7BIT;
	ss->smtputf8 = 0;
}

static enum reply store_error(const char *what)
{
	int e = errno;
	char q[120];

	log_error("event=store-error op=%s error=%s", what, log_q(q, sizeof q, strerror(e)));
	return e == ENOSPC ? R_NO_SPACE : R_LOCAL_ERROR;
}

static void new_id(char id[17])
{
	unsigned char r[8];
	uint64_t t = (uint64_t)time(NULL);

	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		memcpy(r, &t, sizeof r);   /* uniqueness only: not a secret */
	for (size_t i = 0; i < sizeof r; i++)
		snprintf(id + 2 * i, 3, "%02x", r[i]);
}

/* Opens the delivery and writes the trace header; R_OKAY or the reply. */
static enum reply tx_begin(struct session *ss)
{
	char hdr[2048], tls[160];
	struct trace_info t = {
		.from = ss->from, .helo = ss->helo, .peer = ss->c->peer,
		.hostname = ss->cfg->hostname, .id = ss->id, .esmtp = ss->esmtp,
		.smtputf8 = ss->smtputf8, .when = time(NULL),
		.tls = tls_active(ss->s) ? tls_describe(ss->s, tls, sizeof tls) : NULL,
		.rcpt = ss->nrcpt == 1 ? ss->first_rcpt : NULL,
	};
	int n;

	new_id(ss->id);
	n = trace_format(hdr, sizeof hdr, &t);
	if (n < 0) {
		log_error("event=internal-error what=trace-header-too-long");
		return R_LOCAL_ERROR;
	}
	if (delivery_begin(&ss->d, &ss->store, (const struct mailbox *const *)ss->mbs, ss->nmb) < 0) {
		ss->d = NULL;
		return store_error("delivery-begin");
	}
	if (delivery_trace(ss->d, hdr, (size_t)n) < 0) {
		enum reply r = store_error("delivery-write");
		delivery_abort(ss->d);
		ss->d = NULL;
		return r;
	}
	return R_OKAY;
}

/* Message content: counted against the size limit and stored, until the
 * first failure; after that only counted (the client is still sending). */
static void tx_write(struct session *ss, const void *p, size_t n)
{
	ss->size += n;
	if (ss->tx_err != R_OKAY)
		return;
	if (ss->size > (uint64_t)ss->cfg->smtp.max_message_size)
		ss->tx_err = R_TOO_BIG;
	else if (n > 0 && delivery_write(ss->d, p, n) < 0)
		ss->tx_err = store_error("delivery-write");
	if (ss->tx_err != R_OKAY) {
		delivery_abort(ss->d);
		ss->d = NULL;
	}
}

/* Ends the transaction: the reply, 250 only once every copy is durable. */
static void tx_finish(struct session *ss)
{
	enum reply r = ss->tx_err;
	char q[SMTP_PATH_MAX * 4 + 8];
	int dropped = 0;

	if (r == R_OKAY) {
		struct delivery *d = ss->d;
		ss->d = NULL;
		dropped = delivery_commit(d);
		r = dropped < 0 ? store_error("delivery-commit") : R_STORED;
	}
	if (dropped > 0)
		log_info("event=duplicate id=%s copies=%d", ss->id, dropped);
	ss->last_code = reply_code(r);
	snprintf(ss->last_from, sizeof ss->last_from, "%s", ss->from);
	ss->last_rcpts = ss->nrcpt;
	log_info("event=message id=%s from=%s rcpts=%zu size=%" PRIu64 " result=%d", ss->id,
		 log_q(q, sizeof q, ss->from), ss->nrcpt, ss->size, ss->last_code);
	if (r == R_STORED) {
		ss->messages++;
		ss->bytes += ss->size;
		reply(ss, r, ss->id);
	} else if (r == R_TOO_BIG || r == R_DATA_LINE_TOO_LONG) {
		fail(ss, r);
	} else {
		reply(ss, r, NULL);
	}
	tx_reset(ss);
	if (ss->st != ST_DONE)
		enter(ss, ST_READY);
}

/* Commands ------------------------------------------------------------ */

static void do_helo_common(struct session *ss, const char *args, int esmtp)
{
	char name[SMTP_DOMAIN_MAX + 1];

	if (cmd_parse_helo(args, name) < 0) {
		fail(ss, R_BAD_HELO);
		return;
	}
	tx_reset(ss);
	memcpy(ss->helo, name, sizeof name);
	ss->esmtp = esmtp;
	enter(ss, ST_READY);
}

/* STARTTLS is offered only when it can work: a certificate and key are
 * configured and readable. Otherwise a client that may send in plain text
 * goes on without TLS instead of failing in the handshake. */
static int tls_possible(const struct session *ss)
{
	const struct config *cfg = ss->cfg;

	return !tls_active(ss->s) && tls_server_ready(cfg);
}

/* AUTH exists for proxy log-ins only: where the proxy is enabled, and on
 * msgw-proxy's ports, whose only way in it is (the hand-off refuses with
 * its uniform reply while proxy.enabled is false). */
static int auth_offered(const struct session *ss)
{
	return ss->cfg->proxy.enabled || ss->fe->proxy_only;
}

static void do_ehlo(struct session *ss, const char *args)
{
	do_helo_common(ss, args, 1);
	if (ss->st != ST_READY)
		return;
	stream_printf(ss->s,
		      "250-%s at your service\r\n"
		      "250-PIPELINING\r\n"
		      "250-SIZE %" PRId64 "\r\n"
		      "250-8BITMIME\r\n"
		      "250-BINARYMIME\r\n"
		      "250-SMTPUTF8\r\n"
		      "250-CHUNKING\r\n"
		      "%s%s"
		      "250 ENHANCEDSTATUSCODES\r\n",
		      ss->cfg->hostname, ss->cfg->smtp.max_message_size,
		      tls_possible(ss) ? "250-STARTTLS\r\n" : "",
		      /* only proxy log-ins exist, and never before TLS */
		      tls_active(ss->s) && auth_offered(ss) ? "250-AUTH PLAIN LOGIN\r\n" : "");
}

static void do_helo(struct session *ss, const char *args)
{
	do_helo_common(ss, args, 0);
	if (ss->st == ST_READY)
		reply(ss, R_HELO, ss->cfg->hostname);
}

static void do_mail(struct session *ss, const char *args)
{
	struct mail_params p;

	switch (cmd_parse_mail(args, &p)) {
	case PATH_OK: break;
	case PATH_SYNTAX: fail(ss, R_BAD_SENDER); return;
	case PATH_PARAM: fail(ss, R_BAD_PARAM); return;
	}
	if (p.size > ss->cfg->smtp.max_message_size) {
		fail(ss, R_TOO_BIG);
		return;
	}
	tx_reset(ss);
	memcpy(ss->from, p.path, sizeof p.path);
	ss->has_from = 1;
	ss->body = p.body;
	ss->smtputf8 = p.smtputf8;
	enter(ss, ST_MAIL);
	reply(ss, R_MAIL_OK, NULL);
}

/* Adds mb unless the same mailbox is already a recipient (one copy). */
static int add_mailbox(struct session *ss, const struct mailbox *mb)
{
	for (size_t i = 0; i < ss->nmb; i++)
		if (strcmp(ss->mbs[i]->id, mb->id) == 0)
			return 0;
	if (ss->nmb == ss->cap) {
		size_t cap = ss->cap ? ss->cap * 2 : 4;
		struct mailbox **v = realloc(ss->mbs, cap * sizeof *v);
		if (v == NULL)
			return -1;
		memset(v + ss->cap, 0, (cap - ss->cap) * sizeof *v);
		ss->mbs = v;
		ss->cap = cap;
	}
	if (ss->mbs[ss->nmb] == NULL && (ss->mbs[ss->nmb] = malloc(sizeof *mb)) == NULL)
		return -1;
	memcpy(ss->mbs[ss->nmb++], mb, sizeof *mb);
	return 0;
}

static void do_rcpt(struct session *ss, const char *args)
{
	char path[SMTP_PATH_MAX + 1];
	struct mailbox mb;

	switch (cmd_parse_rcpt(args, path)) {
	case PATH_OK: break;
	case PATH_SYNTAX: fail(ss, R_BAD_RCPT); return;
	case PATH_PARAM: fail(ss, R_BAD_PARAM); return;
	}
	if (ss->nrcpt >= (size_t)ss->cfg->smtp.max_recipients) {
		/* Not an error: the client sends the rest in a later transaction. */
		reply(ss, R_TOO_MANY_RCPTS, NULL);
		return;
	}
	switch (rcpt_lookup(&ss->store, ss->cfg, ss->c->peer, path, &mb)) {
	case RCPT_OK: break;
	case RCPT_OTHER_DOMAIN: fail(ss, R_NO_RELAY); return;
	case RCPT_UNKNOWN: fail(ss, R_UNKNOWN_MAILBOX); return;
	case RCPT_SUSPENDED: reply(ss, R_SUSPENDED, NULL); return;
	case RCPT_NETWORK: fail(ss, R_NETWORK_DENIED); return;
	case RCPT_TEMPFAIL: reply(ss, R_LOCAL_ERROR, NULL); return;
	}
	if (add_mailbox(ss, &mb) < 0) {
		log_error("event=out-of-memory");
		reply(ss, R_LOCAL_ERROR, NULL);
		return;
	}
	if (ss->nrcpt++ == 0)
		memcpy(ss->first_rcpt, path, sizeof path);
	enter(ss, ST_RCPT);
	reply(ss, R_RCPT_OK, NULL);
}

static void do_data(struct session *ss, const char *args)
{
	struct data_reader dr;
	enum reply r;

	if (*args != '\0') {
		fail(ss, R_SYNTAX);
		return;
	}
	if (ss->body == BODY_BINARYMIME) {
		fail(ss, R_NEED_BDAT);
		return;
	}
	if ((r = tx_begin(ss)) != R_OKAY) {
		reply(ss, r, NULL);
		tx_reset(ss);
		enter(ss, ST_READY);
		return;
	}
	reply(ss, R_START_DATA, NULL);
	stream_set_timeout(ss->s, ss->cfg->smtp.data_timeout * 1000);
	data_reader_init(&dr);
	while (dr.st != DS_END) {
		const unsigned char *in;
		ssize_t got;
		size_t used, outlen;

		if (wait_input(ss, ss->cfg->smtp.data_timeout) < 0)
			goto out;
		/* only what belongs to the message is consumed: the rest is
		 * the next pipelined commands */
		got = stream_peek(ss->s, &in);
		if (got <= 0) {
			char q[200];
			log_info("event=disconnect state=data error=%s",
				 log_q(q, sizeof q, stream_strerror(ss->s)));
			done(ss, "disconnect-in-data");
			goto out;
		}
		used = data_reader_feed(&dr, in, (size_t)got, ss->out, &outlen);
		stream_consume(ss->s, used);
		tx_write(ss, ss->out, outlen);
	}
	if (dr.line_too_long && ss->tx_err == R_OKAY) {
		ss->tx_err = R_DATA_LINE_TOO_LONG;
		delivery_abort(ss->d);
		ss->d = NULL;
	}
	tx_finish(ss);
out:
	stream_set_timeout(ss->s, ss->cfg->smtp.command_timeout * 1000);
	if (ss->st == ST_DONE)
		tx_reset(ss);
}

/* Reads a BDAT chunk of n octets; only stored while the transaction is
 * good. 0, or -1 when the session ended (timeout, disconnect). */
static int read_chunk(struct session *ss, uint64_t n, int store)
{
	int rc = -1;

	stream_set_timeout(ss->s, ss->cfg->smtp.data_timeout * 1000);
	while (n > 0) {
		size_t want = n < sizeof ss->in ? (size_t)n : sizeof ss->in;
		ssize_t got;

		if (wait_input(ss, ss->cfg->smtp.data_timeout) < 0)
			goto out;
		got = stream_read(ss->s, ss->in, want);
		if (got <= 0) {
			char q[200];
			log_info("event=disconnect state=bdat error=%s",
				 log_q(q, sizeof q, stream_strerror(ss->s)));
			done(ss, "disconnect-in-data");
			goto out;
		}
		if (store)
			tx_write(ss, ss->in, (size_t)got);
		n -= (uint64_t)got;
	}
	rc = 0;
out:
	stream_set_timeout(ss->s, ss->cfg->smtp.command_timeout * 1000);
	return rc;
}

/* BDAT's octets follow the command whatever happens, so they are always
 * read (and dropped when the command is refused): otherwise they would be
 * taken for commands. */
static void do_bdat(struct session *ss, const char *args)
{
	uint64_t n;
	int last;
	enum reply r;
	char num[24];

	if (cmd_parse_bdat(args, &n, &last) < 0) {
		fail(ss, R_SYNTAX);
		return;
	}
	if (ss->fe->proxy_only || (ss->st != ST_RCPT && ss->st != ST_BDAT)) {
		if (read_chunk(ss, n, 0) == 0)
			fail(ss, ss->fe->proxy_only ? R_AUTH_REQUIRED : R_BAD_SEQUENCE);
		return;
	}
	if (ss->st == ST_RCPT && (r = tx_begin(ss)) != R_OKAY)
		ss->tx_err = r;
	enter(ss, ST_BDAT);
	if (read_chunk(ss, n, 1) < 0) {
		tx_reset(ss);
		return;
	}
	if (last || ss->tx_err != R_OKAY) {
		/* RFC 3030: after a failed chunk the client sends no more BDAT;
		 * any it pipelined already find no transaction (503). */
		tx_finish(ss);
		return;
	}
	snprintf(num, sizeof num, "%" PRIu64, n);
	reply(ss, R_CHUNK_OK, num);
}

static void do_rset(struct session *ss, const char *args)
{
	(void)args;
	tx_reset(ss);
	if (ss->st != ST_INIT)
		enter(ss, ST_READY);
	reply(ss, R_RESET, NULL);
}

static void do_noop(struct session *ss, const char *args)
{
	(void)args;
	reply(ss, R_OKAY, NULL);
}

static void do_quit(struct session *ss, const char *args)
{
	(void)args;
	reply(ss, R_BYE, ss->cfg->hostname);
	done(ss, "quit");
}

static void do_vrfy(struct session *ss, const char *args)
{
	(void)args;
	reply(ss, R_VRFY, NULL);
}

static void do_help(struct session *ss, const char *args)
{
	(void)args;
	reply(ss, R_HELP, NULL);
}

static void do_not_implemented(struct session *ss, const char *args)
{
	(void)args;
	fail(ss, R_NOT_IMPLEMENTED);
}

static int start_tls(struct session *ss)
{
	if (tls_server_start(ss->s, ss->cfg) < 0) {
		char q[200];
		log_warning("event=tls-failed error=%s", log_q(q, sizeof q, stream_strerror(ss->s)));
		done(ss, "tls-failed");
		return -1;
	}
	tls_describe(ss->s, ss->tls, sizeof ss->tls);
	return 0;
}

static void do_starttls(struct session *ss, const char *args)
{
	if (*args != '\0') {
		fail(ss, R_SYNTAX);
		return;
	}
	if (tls_active(ss->s)) {
		fail(ss, R_ALREADY_TLS);
		return;
	}
	if (!tls_possible(ss)) {
		log_warning("event=tls-unavailable cert=%s", ss->cfg->tls.cert ? ss->cfg->tls.cert : "none");
		reply(ss, R_TLS_UNAVAILABLE, NULL);
		return;
	}
	reply(ss, R_START_TLS, NULL);
	if (stream_flush(ss->s) < 0) {
		done(ss, "write-error");
		return;
	}
	/* tls_server_start drops plaintext pipelined after STARTTLS (RFC 3207
	 * section 5: no command injection); the client starts over with EHLO. */
	if (start_tls(ss) < 0)
		return;
	tx_reset(ss);
	ss->helo[0] = '\0';
	ss->esmtp = 0;
	enter(ss, ST_INIT);
}

/* AUTH is the recording proxy's way in (msgw-proxy(8)): a
 * remote_user%target_server%mailbox_id log-in hands the session over; the
 * journal path itself needs no log-in. Never before TLS: nothing on the
 * AUTH line is read then. */
static void do_auth(struct session *ss, const char *args)
{
	struct smtpauth a;

	if (!auth_offered(ss)) {
		fail(ss, R_NOT_IMPLEMENTED);
		return;
	}
	if (!tls_active(ss->s)) {
		fail(ss, R_NEED_TLS);
		return;
	}
	switch (smtpauth_read(ss->s, args, &a)) {
	case SMTPAUTH_OK:
		break;
	case SMTPAUTH_BAD_MECH:
		fail(ss, R_AUTH_BAD_MECH);
		goto out;
	case SMTPAUTH_CANCELLED:
		reply(ss, R_AUTH_CANCELLED, NULL);
		goto out;
	case SMTPAUTH_MALFORMED:
		fail(ss, R_AUTH_MALFORMED);
		goto out;
	case SMTPAUTH_LOST:
		done(ss, "disconnect");
		goto out;
	}
	if (!proxy_login_wanted(a.user)) {
		log_warning("event=auth_failed reason=not-a-proxy-login");
		fail(ss, R_AUTH_FAILED);
	} else if (proxy_smtp_takeover(ss->s, ss->fe, ss->c->peer, a.user, a.pass, a.plen) == PROXY_FINISHED) {
		done(ss, "proxy");
	} else if (++ss->errors >= ss->cfg->smtp.max_errors) {
		/* the proxy sent its refusal; this one counts like a bad command */
		reply(ss, R_TOO_MANY_ERRORS, NULL);
		done(ss, "too-many-errors");
	}
out:
	smtpauth_wipe(&a, ss->s);
}

/* The command table. */
static const struct command commands[] = {
	{ "EHLO", ST_SESSION, 0, do_ehlo },
	{ "HELO", ST_SESSION, 0, do_helo },
	{ "MAIL", IN(ST_READY), C_NEEDS_TLS | C_JOURNAL, do_mail },
	{ "RCPT", IN(ST_MAIL) | IN(ST_RCPT), C_NEEDS_TLS | C_JOURNAL, do_rcpt },
	{ "DATA", IN(ST_RCPT), C_NEEDS_TLS | C_JOURNAL, do_data },
	{ "BDAT", 0, C_ANY_STATE | C_JOURNAL, do_bdat },
	{ "RSET", ST_SESSION | IN(ST_BDAT), 0, do_rset },
	{ "NOOP", ST_SESSION | IN(ST_BDAT), 0, do_noop },
	{ "QUIT", ST_SESSION | IN(ST_BDAT) | IN(ST_BLOCKED), 0, do_quit },
	{ "VRFY", ST_SESSION, 0, do_vrfy },
	{ "HELP", ST_SESSION, 0, do_help },
	{ "STARTTLS", IN(ST_INIT) | IN(ST_READY), 0, do_starttls },
	{ "AUTH", IN(ST_READY), 0, do_auth },
	{ "EXPN", ST_SESSION, 0, do_not_implemented },
	{ "TURN", ST_SESSION, 0, do_not_implemented },
	{ "ETRN", ST_SESSION, 0, do_not_implemented },
};

static void dispatch(struct session *ss, char *line, size_t len)
{
	char verb[SMTP_VERB_MAX + 1];
	const char *args;
	const struct command *cmd = NULL;

	if (cmd_check_line(line, len) != CMD_OK) {
		fail(ss, R_BAD_LINE);
		return;
	}
	if (cmd_split(line, verb, &args) < 0) {
		fail(ss, R_UNRECOGNIZED);
		return;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(commands[i].verb, verb) == 0)
			cmd = &commands[i];
	if (cmd == NULL) {
		fail(ss, R_UNRECOGNIZED);
		return;
	}
	/* msgw-proxy: a successful proxy log-in ends this session (the
	 * relay takes over), so a journal command here is always early;
	 * BDAT's octets are read and dropped by do_bdat. */
	if ((cmd->flags & C_JOURNAL) && ss->fe->proxy_only && !(cmd->flags & C_ANY_STATE)) {
		fail(ss, R_AUTH_REQUIRED);
		return;
	}
	if (!(cmd->flags & C_ANY_STATE) && !(cmd->states & IN(ss->st))) {
		fail(ss, R_BAD_SEQUENCE);
		return;
	}
	if ((cmd->flags & C_NEEDS_TLS) && ss->cfg->smtp.require_tls && !tls_active(ss->s)) {
		fail(ss, R_NEED_TLS);
		return;
	}
	cmd->fn(ss, args);
}

/* A piece of line ended by a bare LF: only CRLF ends a command line, so
 * everything up to the next CRLF belongs to the same (refused) line and
 * never starts a command. */
static int bare_lf(const char *line, size_t len)
{
	return len > 0 && line[len - 1] == '\n' && (len < 2 || line[len - 2] != '\r');
}

static void serve_commands(struct session *ss)
{
	char line[SMTP_LINE_MAX];
	size_t len, total = 0;
	int broken = 0;

	while (ss->st != ST_DONE) {
		if (wait_input(ss, ss->cfg->smtp.command_timeout) < 0)
			return;
		switch (stream_getline(ss->s, line, sizeof line, &len)) {
		case LINE_OK:
			total += len;
			if (bare_lf(line, len) && total < SMTP_LINE_MAX) {
				broken = 1;
				break;
			}
			if (broken || bare_lf(line, len))
				fail(ss, total < SMTP_LINE_MAX ? R_BAD_LINE : R_LINE_TOO_LONG);
			else
				dispatch(ss, line, len);
			wipe(line, len);   /* an AUTH line can carry a password */
			broken = 0;
			total = 0;
			break;
		case LINE_TOO_LONG:
			fail(ss, R_LINE_TOO_LONG);
			broken = 0;
			total = 0;
			break;
		case LINE_EOF:
			done(ss, len ? "disconnect-mid-line" : "disconnect");
			return;
		case LINE_ERROR:
			log_info("event=read-error error=%s", log_q(line, sizeof line, stream_strerror(ss->s)));
			done(ss, stream_error(ss->s) == STREAM_TIMEOUT ? "timeout" : "read-error");
			return;
		}
	}
}

static void summary(struct session *ss, long long start)
{
	char q1[200], q2[SMTP_PATH_MAX * 4 + 8];

	log_info("event=session tls=%s from=%s rcpts=%zu size=%" PRIu64 " messages=%u last=%d "
		 "result=%s duration_ms=%lld",
		 log_q(q1, sizeof q1, ss->tls[0] ? ss->tls : "none"),
		 log_q(q2, sizeof q2, ss->last_from), ss->last_rcpts, ss->bytes, ss->messages,
		 ss->last_code, ss->end ? ss->end : "unknown", stream_now_ms() - start);
}

int smtp_session(const struct conn *c, const struct frontend *fe)
{
	const struct config *cfg = &fe->app.cfg;
	long long start = stream_now_ms();
	struct session *ss = calloc(1, sizeof *ss);
	int rc = EX_OK;

	log_set_peer(c->peer);
	if (ss == NULL) {
		log_error("event=out-of-memory");
		return EX_OSERR;
	}
	/* Replies leave in whole buffers already; Nagle would only hold one
	 * back for a delayed ACK. Not a socket (a pipe, a test): ignored. */
	(void)setsockopt(c->wfd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	ss->fe = fe;
	ss->c = c;
	ss->cfg = cfg;
	ss->tx_err = R_OKAY;
	if ((ss->s = stream_new(c->rfd, c->wfd, cfg->smtp.command_timeout * 1000)) == NULL) {
		log_error("event=out-of-memory");
		free(ss);
		return EX_OSERR;
	}
	stream_set_session_limit(ss->s, cfg->smtp.session_timeout);
	if (fe->proxy_only)   /* msgw-proxy(8): log in within pop3.login_timeout */
		stream_set_login_limit(ss->s, cfg->pop3.login_timeout);
	if (store_init(&ss->store, cfg) < 0) {
		log_error("event=store-init error=%s", strerror(errno));
		reply(ss, R_LOCAL_ERROR, cfg->hostname);
		done(ss, "store-error");
		rc = EX_TEMPFAIL;
	} else if (fe->implicit_tls && start_tls(ss) < 0) {
		rc = EX_PROTOCOL;
	} else if (!fe->proxy_only && !networks_allow(cfg->smtp.networks, cfg->smtp.n_networks, c->peer)) {
		log_warning("event=denied reason=allowed-networks");
		reply(ss, R_BLOCKED_GREETING, cfg->hostname);
		enter(ss, ST_BLOCKED);
		ss->end = "denied";
	} else {
		reply(ss, R_GREETING, cfg->hostname);
	}
	serve_commands(ss);
	stream_shutdown(ss->s);
	summary(ss, start);
	tx_reset(ss);
	for (size_t i = 0; i < ss->cap; i++)
		free(ss->mbs[i]);
	free(ss->mbs);
	stream_free(ss->s);
	free(ss);
	return rc;
}
