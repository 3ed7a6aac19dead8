/* The SMTP recording proxy: log in upstream with the client's credentials,
 * then relay the session command by command, keeping the client's
 * pipelined groups together (RFC 2920), and record each message the
 * upstream accepted in the gateway mailbox. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "net/tls.h"
#include "proxy/handoff.h"
#include "proxy/proxy.h"
#include "smtp/client.h"
#include "smtp/command.h"
#include "smtp/reply.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/wipe.h"

#define CMD_MAX 2048
#define GROUP_MAX 32
#define ENV_MAX (64 * 1024)


enum ent_kind { E_FWD, E_LOCAL, E_DATA, E_BDAT, E_QUIT };

struct ent {
	enum ent_kind kind;
	enum reply local; /* E_LOCAL: the reply */
	size_t len;
	char line[CMD_MAX]; /* without CR LF */
};

/* The relay's state, as smtp/session.c keeps msgw-smtp's: one enter()
 * that logs every transition. */
enum relay_state {
	RS_RELAY,       /* commands are relayed */
	RS_BDAT_FAILED, /* a BDAT of this transaction failed: wait for RSET/MAIL */
	RS_LOST,        /* upstream lost, or left in DATA without its final dot */
	RS_QUIT,        /* QUIT relayed */
};

static const char *const relay_state_names[] = {"relay", "bdat_failed", "lost", "quit"};

struct sp {
	struct proxy_session ps; /* client, upstream, target, mailbox, copies */
	enum relay_state st;
	struct buf from, rcpts;
	size_t nrcpt;
	struct smtp_reply r;
	struct smtp_caps caps; /* the upstream's, from its last EHLO */
	struct ent g[GROUP_MAX];
};

static void enter(struct sp *p, enum relay_state to)
{
	if (p->st != to)
		log_debug("event=proxy_state proto=smtp from=%s to=%s", relay_state_names[p->st],
		          relay_state_names[to]);
	p->st = to;
}

/* The upstream is gone: 0, for the callers that go on with the client. */
static int lost(struct sp *p)
{
	enter(p, RS_LOST);
	return 0;
}

/* The upstream's reply; -1 when it is lost or garbled, or when it says
 * 354 to anything but the proxy's own DATA: the upstream would take what
 * follows as message content the proxy never recorded, so the session
 * ends there (with up_dead set, nothing more goes upstream). */
static int up_reply(struct sp *p, int after_data)
{
	if (smtp_reply_read(p->ps.up.s, &p->r) < 0)
		return -1;
	if (p->r.code == 354 && !after_data) {
		log_error("event=proxy_unexpected_354 proto=smtp mailbox=%s target=%s",
		          p->ps.t.mailbox, p->ps.t.host);
		enter(p, RS_LOST);
		return -1;
	}
	return 0;
}

/* One command to the upstream and its reply; -1 when the upstream is lost. */
static int up_cmd(struct sp *p, const char *cmd)
{
	if (upstream_send(&p->ps.up, cmd) < 0)
		return -1;
	return up_reply(p, 0);
}

static void client_reply(struct sp *p, const char *text)
{
	(void)stream_puts(p->ps.c, text);
}

/* One of the proxy's own replies, from the SMTP codec's table. */
static void say(struct sp *p, enum reply r)
{
	(void)reply_send(p->ps.c, r, NULL);
}

/* The upstream's EHLO reply for the client: without STARTTLS and AUTH,
 * which the proxy itself has already dealt with. */
static void ehlo_filtered(struct sp *p)
{
	char out[SMTP_REPLY_MAX], *line = p->r.text, *eol;
	size_t o = 0, last = 0;

	for (; (eol = strstr(line, "\r\n")) != NULL; line = eol + 2) {
		size_t n = (size_t)(eol - line) + 2;
		const char *kw = n > 6 ? line + 4 : "";
		if (o > 0 && (strncasecmp(kw, "STARTTLS", 8) == 0 ||
		              (strncasecmp(kw, "AUTH", 4) == 0 && (kw[4] == ' ' || kw[4] == '='))))
			continue;
		last = o;
		memcpy(out + o, line, n);
		out[o + 3] = '-';
		o += n;
	}
	if (o == 0)
		return;
	out[last + 3] = ' ';
	out[o] = '\0';
	client_reply(p, out);
}

static void env_clear(struct sp *p)
{
	buf_reset(&p->from);
	buf_reset(&p->rcpts);
	p->nrcpt = 0;
	if (p->st == RS_BDAT_FAILED)
		enter(p, RS_RELAY);
}

/* The <address> of MAIL FROM:/RCPT TO:, as sent. */
static void env_addr(const char *line, struct buf *b, int sep)
{
	const char *lt = strchr(line, '<'), *gt = lt ? strchr(lt, '>') : NULL;

	if (lt == NULL || gt == NULL)
		return;
	if (sep && b->len > 0)
		(void)buf_appends(b, ",\r\n\t");
	(void)buf_append(b, lt, (size_t)(gt - lt) + 1);
}

static int trace_header(struct sp *p, char *out, size_t size)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	localtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", &tm);
	n = snprintf(
	    out, size,
	    "X-Msgw-Proxy: sent; from=%s;\r\n\trcpt=%s;\r\n\tserver=%s; user=%s;\r\n\t%s\r\n",
	    p->from.len ? p->from.data : "<>", p->rcpts.len ? p->rcpts.data : "", p->ps.t.host,
	    p->ps.t.user, date);
	return n < 0 || (size_t)n >= size ? -1 : n;
}

static enum reply store_failure_reply(int err)
{
	if (err == EFBIG)
		return R_PROXY_TOO_BIG;
	if (err == ENOSPC)
		return R_PROXY_FULL;
	if (err == EMSGSIZE)
		return R_DATA_LINE_TOO_LONG;
	return R_PROXY_NOT_RECORDED;
}

/* Start the copy with its trace header (the envelope is known by now). */
static int tee_start_header(struct sp *p)
{
	char *hdr = malloc(ENV_MAX * 2 + 1024);
	int n, rc = -1;

	if (hdr == NULL) {
		p->ps.tee.err = ENOMEM;
		tee_abort(&p->ps.tee);
		return -1;
	}
	n = trace_header(p, hdr, ENV_MAX * 2 + 1024);
	if (n < 0)
		p->ps.tee.err = EINVAL;
	else
		rc = tee_write(&p->ps.tee, hdr, (size_t)n);
	if (rc < 0)
		tee_abort(&p->ps.tee);
	free(hdr);
	return rc;
}

static void log_message(struct sp *p, const char *result)
{
	log_info("event=proxy_message proto=smtp mailbox=%s target=%s bytes=%llu rcpts=%zu "
	         "result=%s%s%s",
	         p->ps.t.mailbox, p->ps.t.host, (unsigned long long)p->ps.tee.bytes, p->nrcpt,
	         result, p->ps.tee.err ? " error=" : "",
	         p->ps.tee.err ? strerror(p->ps.tee.err) : "");
}

/* Wait for the previous copy's commit (see committer_start) and log it. */
static void commit_wait(struct sp *p)
{
	struct committer *c = &p->ps.cm;

	if (!committer_wait(c))
		return;
	if (c->rc == 0) {
		log_info("event=proxy_message proto=smtp mailbox=%s target=%s bytes=%llu rcpts=%zu "
		         "result=stored",
		         p->ps.t.mailbox, p->ps.t.host, (unsigned long long)c->tee.bytes, c->nrcpt);
		return;
	}
	/* The upstream has the message already; a 4xx now would make the
	 * client send it twice. Say so loudly instead. */
	log_error("event=proxy_copy_lost proto=smtp mailbox=%s target=%s error=\"%s\"",
	          p->ps.t.mailbox, p->ps.t.host, strerror(c->tee.err));
}

/* The upstream accepted the message: make the copy permanent, in the
 * background, while the client gets the reply and goes on. */
static void finish_copy(struct sp *p)
{
	commit_wait(p);
	p->ps.cm.nrcpt = p->nrcpt;
	committer_start(&p->ps.cm, &p->ps.tee, NULL);
}

/* The upstream has answered the end of a message: keep the copy on 2xx,
 * drop it otherwise, pass the answer on, start a new envelope. */
static int conclude(struct sp *p)
{
	if (p->r.code / 100 == 2) {
		finish_copy(p);
	} else {
		tee_abort(&p->ps.tee);
		log_message(p, "rejected");
	}
	client_reply(p, p->r.text);
	env_clear(p);
	return 0;
}

/* After the upstream's 354: the message from the client, teed. */
static int do_data(struct sp *p)
{
	struct body_result dr;

	client_reply(p, p->r.text);
	if (tee_start_header(p) < 0) {
		/* nothing went upstream yet but the upstream waits for data:
		 * read the client's and drop the upstream connection */
		enter(p, RS_LOST);
	}
	stream_set_timeout(p->ps.c, p->ps.cfg->smtp.data_timeout * 1000);
	body_relay(p->ps.c, DATA_STRICT, p->st == RS_LOST ? NULL : sink_stream, p->ps.up.s,
	           tee_active(&p->ps.tee) ? sink_tee : NULL, &p->ps.tee, &dr);
	stream_set_timeout(p->ps.c, p->ps.cfg->smtp.command_timeout * 1000);
	if (dr.in_err) {
		tee_abort(&p->ps.tee);
		return -1;
	}
	if (dr.too_long && !dr.tee_err) {
		/* refused as msgw-smtp refuses it; never completed upstream */
		p->ps.tee.err = EMSGSIZE;
		dr.tee_err = 1;
	}
	if (p->st != RS_LOST && !dr.tee_err && !dr.fwd_err && tee_ready(&p->ps.tee) < 0)
		dr.tee_err = 1;
	if (p->st == RS_LOST || dr.tee_err || dr.fwd_err) {
		/* Never send the final dot for a message not recorded whole:
		 * dropping the connection makes the upstream discard it. */
		tee_abort(&p->ps.tee);
		log_message(p, dr.fwd_err && !dr.tee_err && p->st != RS_LOST ? "upstream_lost"
		                                                        : "not_recorded");
		say(p, dr.fwd_err && !dr.tee_err && p->st != RS_LOST
		           ? R_PROXY_LOST
		           : store_failure_reply(p->ps.tee.err));
		enter(p, RS_LOST);
		env_clear(p);
		return 0;
	}
	if (up_cmd(p, ".") < 0) {
		tee_abort(&p->ps.tee);
		say(p, R_PROXY_LOST);
		enter(p, RS_LOST);
		return 0;
	}
	return conclude(p);
}

/* Read and drop n bytes of the client's chunk. */
static int skip_bytes(struct stream *s, unsigned long long n)
{
	char blk[4096];

	while (n > 0) {
		ssize_t r = stream_read(s, blk, n < sizeof blk ? (size_t)n : sizeof blk);
		if (r <= 0)
			return -1;
		n -= (unsigned long long)r;
	}
	return 0;
}

/* A BDAT chunk: teed first, forwarded always (the upstream counts the
 * bytes); LAST is only sent upstream as a separate "BDAT 0 LAST" once the
 * copy holds the whole message. */
static int do_bdat(struct sp *p, const char *line)
{
	uint64_t size, left;
	int last, tee_ok;
	char cmd[64];

	/* checked when the line was read (classify) */
	if (cmd_parse_bdat(line + 5, &size, &last) < 0)
		return -1;
	if (size > (uint64_t)p->ps.cfg->smtp.max_message_size) {
		say(p, R_PROXY_CHUNK_TOO_BIG);
		say(p, R_PROXY_CLOSING);
		return -1;
	}
	if (!p->caps.chunking || p->st == RS_BDAT_FAILED) {
		if (skip_bytes(p->ps.c, size) < 0)
			return -1;
		say(p, p->caps.chunking ? R_BAD_SEQUENCE : R_PROXY_NO_BDAT);
		return 0;
	}
	if (!tee_active(&p->ps.tee) && (tee_begin(&p->ps.tee, &p->ps.box, "", 0,
	                                          (uint64_t)p->ps.cfg->smtp.max_message_size) < 0 ||
	                                tee_start_header(p) < 0)) {
		if (skip_bytes(p->ps.c, size) < 0)
			return -1;
		log_message(p, "not_recorded");
		say(p, store_failure_reply(p->ps.tee.err));
		enter(p, RS_BDAT_FAILED);
		return up_cmd(p, "RSET") < 0 ? lost(p) : 0;
	}
	snprintf(cmd, sizeof cmd, "BDAT %llu\r\n", (unsigned long long)size);
	if (stream_puts(p->ps.up.s, cmd) < 0)
		goto lost;
	stream_set_timeout(p->ps.c, p->ps.cfg->smtp.data_timeout * 1000);
	for (left = size; left > 0;) {
		char blk[8192];
		ssize_t r =
		    stream_read(p->ps.c, blk, left < sizeof blk ? (size_t)left : sizeof blk);
		if (r <= 0) {
			tee_abort(&p->ps.tee);
			return -1;
		}
		if (tee_active(&p->ps.tee))
			(void)tee_write(&p->ps.tee, blk, (size_t)r);
		if (stream_write(p->ps.up.s, blk, (size_t)r) < 0)
			goto lost;
		left -= (uint64_t)r;
	}
	stream_set_timeout(p->ps.c, p->ps.cfg->smtp.command_timeout * 1000);
	tee_ok = tee_active(&p->ps.tee) && (!last || tee_ready(&p->ps.tee) == 0);
	if (stream_flush(p->ps.up.s) < 0 || up_reply(p, 0) < 0)
		goto lost;
	if (p->r.code / 100 != 2 || !tee_ok) {
		enter(p, RS_BDAT_FAILED);
		tee_abort(&p->ps.tee);
		if (p->r.code / 100 != 2) {
			log_message(p, "rejected");
			client_reply(p, p->r.text);
			return 0;
		}
		log_message(p, "not_recorded");
		say(p, store_failure_reply(p->ps.tee.err));
		return up_cmd(p, "RSET") < 0 ? lost(p) : 0;
	}
	if (!last) {
		client_reply(p, p->r.text);
		return 0;
	}
	if (up_cmd(p, "BDAT 0 LAST") < 0)
		goto lost;
	return conclude(p);
lost:
	tee_abort(&p->ps.tee);
	say(p, R_PROXY_LOST);
	enter(p, RS_LOST);
	return 0;
}

static void local(struct ent *e, enum reply reply)
{
	e->kind = E_LOCAL;
	e->local = reply;
}

/* Verbs the proxy relays, and whether what follows them is sound. */
static int args_ok(const char *verb, const char *args)
{
	char helo[SMTP_DOMAIN_MAX + 1];

	if (strcmp(verb, "EHLO") == 0 || strcmp(verb, "HELO") == 0)
		return cmd_parse_helo(args, helo) == 0;
	if (strcmp(verb, "MAIL") == 0)
		return strncasecmp(args, "FROM:", 5) == 0;
	if (strcmp(verb, "RCPT") == 0)
		return strncasecmp(args, "TO:", 3) == 0;
	return strcmp(verb, "NOOP") == 0 || *args == '\0'; /* RSET, DATA, QUIT */
}

static int relayed(const char *verb)
{
	static const char *const verbs[] = {"EHLO", "HELO", "MAIL", "RCPT", "DATA",
	                                    "RSET", "NOOP", "QUIT", NULL};

	for (const char *const *v = verbs; *v; v++)
		if (strcmp(verb, *v) == 0)
			return 1;
	return 0;
}

/* The client's line (with its line end), split by msgw-smtp's own
 * command code: only the verbs the proxy understands go upstream, and
 * then as the proxy writes them ("VERB args"); everything else is
 * answered here and never reaches the upstream. */
static void classify(struct ent *e)
{
	char verb[SMTP_VERB_MAX + 1];
	const char *args;
	uint64_t size;
	int last;

	if (cmd_check_line(e->line, e->len) != CMD_OK) {
		local(e, R_BAD_LINE);
		return;
	}
	e->len -= 2;
	for (size_t i = 0; i < e->len; i++)
		if ((unsigned char)e->line[i] < 0x20 || e->line[i] == 0x7f) {
			local(e, R_PROXY_CONTROL_CHAR);
			return;
		}
	if (cmd_split(e->line, verb, &args) < 0) {
		local(e, R_UNRECOGNIZED);
		return;
	}
	if (strcmp(verb, "AUTH") == 0)
		local(e, R_PROXY_ALREADY_AUTH);
	else if (strcmp(verb, "STARTTLS") == 0)
		local(e, R_ALREADY_TLS);
	else if (strcmp(verb, "BDAT") == 0)
		e->kind = cmd_parse_bdat(args, &size, &last) == 0 ? E_BDAT
		                                                   : (e->local = R_PROXY_BDAT_SYNTAX, E_LOCAL);
	else if (!relayed(verb))
		local(e, R_PROXY_NOT_RELAYED);
	else if (!args_ok(verb, args))
		local(e, R_SYNTAX);
	else
		e->kind = strcmp(verb, "DATA") == 0 ? E_DATA : strcmp(verb, "QUIT") == 0 ? E_QUIT : E_FWD;
	if (e->kind != E_LOCAL) {
		/* canonical: the verb as parsed, one space, the arguments */
		char canon[CMD_MAX];
		int n = snprintf(canon, sizeof canon, "%s%s%s", verb, *args ? " " : "", args);

		memcpy(e->line, canon, (size_t)n + 1);
		e->len = (size_t)n;
	}
}

/* Entries after which the group ends: anything but MAIL, RCPT, RSET and
 * local answers waits for its reply before the next command is read. */
static int ends_group(const struct ent *e)
{
	return e->kind != E_LOCAL && !(e->kind == E_FWD && (verb_is(e->line, "MAIL") ||
	                                                    verb_is(e->line, "RCPT") ||
	                                                    verb_is(e->line, "RSET")));
}

/* After a failed message the upstream is gone: let the client end
 * politely, refuse anything else. */
static void dead_reply(struct ent *e)
{
	if (e->kind == E_QUIT)
		local(e, R_BYE);
	else if (e->kind == E_FWD && (verb_is(e->line, "RSET") || verb_is(e->line, "NOOP")))
		local(e, R_OKAY);
	else
		local(e, R_PROXY_LOST_CLOSING);
}

/* The copy for a DATA is begun before anything of the message goes
 * upstream; when it cannot be, the DATA is refused here. */
static void data_begin(struct sp *p, struct ent *e)
{
	tee_abort(&p->ps.tee);
	if (tee_begin(&p->ps.tee, &p->ps.box, "", 0, (uint64_t)p->ps.cfg->smtp.max_message_size) <
	    0) {
		local(e, store_failure_reply(p->ps.tee.err));
		log_message(p, "not_recorded");
	}
}

/* Read one pipelined group of client commands and send the forwardable
 * ones upstream together. Returns the number of entries; *eof when the
 * client went away. */
static size_t read_group(struct sp *p, int *eof)
{
	size_t n = 0;
	int last = 0;

	*eof = 0;
	while (!last && n < GROUP_MAX) {
		struct ent *e = &p->g[n];
		enum line_result lr = stream_getline(p->ps.c, e->line, sizeof e->line, &e->len);

		if (lr == LINE_EOF || lr == LINE_ERROR) {
			*eof = 1;
			break;
		}
		n++;
		if (lr == LINE_TOO_LONG)
			local(e, R_LINE_TOO_LONG);
		else
			classify(e);
		if (p->st == RS_LOST && e->kind != E_LOCAL) {
			dead_reply(e);
			last = 1;
		}
		last = last || ends_group(e);
		if (e->kind == E_DATA)
			data_begin(p, e);
		if ((e->kind == E_FWD || e->kind == E_DATA || e->kind == E_QUIT) &&
		    (stream_write(p->ps.up.s, e->line, e->len) < 0 ||
		     stream_puts(p->ps.up.s, "\r\n") < 0))
			enter(p, RS_LOST);
		if (!last && stream_pending(p->ps.c) == 0 && !stream_input_ready(p->ps.c, 0))
			last = 1;
	}
	return n;
}

/* The upstream's reply to a forwarded command, passed on; the envelope
 * is tracked for the copy's trace header. */
static void pass_reply(struct sp *p, const struct ent *e)
{
	int ok = p->r.code / 100 == 2;

	if (ok && verb_is(e->line, "MAIL")) {
		env_clear(p);
		env_addr(e->line, &p->from, 0);
	} else if (ok && verb_is(e->line, "RCPT")) {
		env_addr(e->line, &p->rcpts, 1);
		p->nrcpt++;
	} else if (ok && (verb_is(e->line, "RSET") || verb_is(e->line, "HELO"))) {
		env_clear(p);
	} else if (ok && verb_is(e->line, "EHLO")) {
		env_clear(p);
		smtp_caps_parse(&p->r, &p->caps);
		ehlo_filtered(p);
		return;
	}
	client_reply(p, p->r.text);
}

/* 0: go on; 1: the session is over. */
static int run_group(struct sp *p, size_t n)
{
	size_t i;

	if (p->st != RS_LOST && stream_flush(p->ps.up.s) < 0)
		enter(p, RS_LOST);
	for (i = 0; i < n; i++) {
		struct ent *e = &p->g[i];

		if (e->kind == E_LOCAL) {
			say(p, e->local);
			if (p->st == RS_LOST &&
			    (reply_code(e->local) == 421 || reply_code(e->local) == 221))
				return 1;
			continue;
		}
		if (e->kind == E_BDAT) {
			if (do_bdat(p, e->line) < 0)
				return 1;
			continue;
		}
		if (p->st == RS_LOST || up_reply(p, e->kind == E_DATA) < 0) {
			tee_abort(&p->ps.tee);
			say(p, R_PROXY_LOST_CLOSING);
			return 1;
		}
		if (e->kind == E_QUIT) {
			enter(p, RS_QUIT);
			commit_wait(p); /* every copy is in place before 221 */
			client_reply(p, p->r.text);
			return 1;
		}
		if (e->kind == E_DATA) {
			if (p->r.code != 354) {
				tee_abort(&p->ps.tee);
				client_reply(p, p->r.text);
			} else if (do_data(p) < 0) {
				return 1;
			}
			continue;
		}
		pass_reply(p, e);
	}
	return 0;
}

static void relay(struct sp *p)
{
	int eof = 0;

	while (!eof) {
		size_t n = read_group(p, &eof);
		if (run_group(p, n))
			break;
	}
	tee_abort(&p->ps.tee);
	(void)stream_flush(p->ps.c);
}

/* SASL PLAIN, or LOGIN, as the upstream offers; the encoded credentials
 * are wiped as soon as they are sent. */
static int up_auth(struct sp *p, const char *pass, size_t plen)
{
	size_t ulen = strlen(p->ps.t.user), size = (ulen > plen ? ulen : plen) / 3 * 4 + 8;
	char *line = NULL;
	int rc = -1;

	if (p->caps.auth_plain) {
		if ((line = proxy_auth_plain(&p->ps, pass, plen, &size)) != NULL)
			rc = up_cmd(p, line);
	} else if ((line = malloc(size)) != NULL) {
		if (up_cmd(p, "AUTH LOGIN") < 0 || p->r.code != 334 ||
		    b64_encode(p->ps.t.user, ulen, line, size) < 0 || up_cmd(p, line) < 0 ||
		    p->r.code != 334 || b64_encode(pass, plen, line, size) < 0)
			goto out;
		rc = up_cmd(p, line);
	}
out:
	stream_wipe_output(p->ps.up.s); /* the encoded credentials, sent */
	if (line)
		wipe(line, size);
	free(line);
	return rc;
}

/* Connect, TLS, capabilities: everything before a credential leaves.
 * -1 (logged) when the target is not a usable mail server. */
static int up_open(struct sp *p)
{
	char err[256];
	int implicit = upstream_implicit(p->ps.t.port, p->ps.fe->implicit_tls);

	if (upstream_connect(&p->ps.up, p->ps.cfg, &p->ps.t, proxy_smtp.std_ports, err,
	                     sizeof err) < 0)
		goto fail;
	if (implicit && upstream_tls(&p->ps.up, p->ps.cfg, p->ps.t.host, err, sizeof err) < 0)
		goto fail;
	snprintf(err, sizeof err, "bad greeting or EHLO reply");
	if (smtp_reply_read(p->ps.up.s, &p->r) < 0 || p->r.code != 220)
		goto fail;
	snprintf(err, sizeof err, "EHLO %s", p->ps.cfg->hostname);
	if (up_cmd(p, err) < 0 || p->r.code != 250)
		goto fail;
	smtp_caps_parse(&p->r, &p->caps);
	if (!implicit) {
		snprintf(err, sizeof err, "no STARTTLS offered");
		if (!p->caps.starttls || up_cmd(p, "STARTTLS") < 0 || p->r.code != 220)
			goto fail;
		if (upstream_tls(&p->ps.up, p->ps.cfg, p->ps.t.host, err, sizeof err) < 0)
			goto fail;
		snprintf(err, sizeof err, "EHLO %s", p->ps.cfg->hostname);
		if (up_cmd(p, err) < 0 || p->r.code != 250)
			goto fail;
		smtp_caps_parse(&p->r, &p->caps);
	}
	snprintf(err, sizeof err, "no AUTH PLAIN or LOGIN offered");
	if (!p->caps.auth_plain && !p->caps.auth_login)
		goto fail;
	return 0;
fail:
	proxy_session_upstream_failed(&p->ps, err);
	return -1;
}

/* Connect, TLS, then the credentials: 1 logged in, 0 refused by the
 * upstream (its reply sent), -1 failed (logged; the caller refuses). */
static int up_login(struct sp *p, const char *pass, size_t plen)
{
	if (up_open(p) < 0)
		return -1;
	if (up_auth(p, pass, plen) < 0) {
		proxy_session_upstream_failed(&p->ps, "lost during AUTH");
		return -1;
	}
	client_reply(p, p->r.text); /* the upstream's own verdict */
	proxy_session_log(&p->ps, p->r.code == 235 ? "ok" : "rejected_by_target", NULL);
	return p->r.code == 235;
}

int proxy_smtp_takeover(struct stream *client, const struct frontend *fe, const char *peer,
                        const char *login, const char *password, size_t plen)
{
	struct sp *p = calloc(1, sizeof *p);
	enum proxy_refusal why;
	int rc = PROXY_REFUSED, st = -1;

	if (p == NULL) {
		(void)reply_send(client, R_PROXY_NO_MEMORY, NULL);
		return PROXY_REFUSED;
	}
	proxy_session_init(&p->ps, &proxy_smtp, client, fe);
	buf_init(&p->from, 1024);
	buf_init(&p->rcpts, ENV_MAX);
	if ((why = proxy_session_check(&p->ps, peer, login)) == PROXY_OK)
		st = up_login(p, password, plen);
	if (st < 0) {
		/* one reply to every refusal (the reason is logged), but for
		 * the caller bug of a client not on TLS */
		proxy_session_refusal_delay(&p->ps);
		say(p, why == PROXY_NO_TLS ? R_NEED_TLS : R_PROXY_REFUSED);
	} else if (st == 1) {
		rc = PROXY_FINISHED;
		proxy_session_relay_start(&p->ps, p->ps.cfg->smtp.command_timeout * 1000);
		relay(p);
	}
	commit_wait(p);
	/* never QUIT after an unfinished DATA: the upstream would take it as text */
	proxy_session_end(&p->ps, p->st != RS_LOST && p->st != RS_QUIT);
	buf_free(&p->from);
	buf_free(&p->rcpts);
	free(p);
	return rc;
}
