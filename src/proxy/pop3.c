/* The POP3 recording proxy: log in upstream the way the client did, relay
 * the transaction state, and record each message the client retrieves with
 * RETR (once per upstream account and UIDL) in the gateway mailbox. */
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
#include "pop3/pop3.h"
#include "pop3/reply.h"
#include "proxy/proxy.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/wipe.h"

#define POP_LINE 1024
#define UIDL_MAX 70 /* RFC 1939 7 */

struct pp {
	struct proxy_session ps; /* client, upstream, target, mailbox, copies */
	char account[PROXY_USER_MAX + PROXY_HOST_MAX + 2];
	char line[POP_LINE]; /* the upstream's last status line, CR LF */
	size_t len;
	char cm_uid[UIDL_MAX + 1];
	int quit_sent;
};

/* A status line from the upstream: 1 +OK, 0 -ERR, -1 lost or garbled. */
static int up_status(struct pp *p)
{
	return pop3_status_read(p->ps.up.s, p->line, sizeof p->line, &p->len);
}

static int up_cmd(struct pp *p, const char *cmd)
{
	if (upstream_send(&p->ps.up, cmd) < 0)
		return -1;
	return up_status(p);
}

static int copy_header(struct pp *p, const char *uid, struct buf *h)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", &tm);
	return buf_appendf(h,
	                   "X-Msgw-Proxy: retrieved; server=%s; user=%s;\r\n\tuidl=%s;\r\n\t%s\r\n",
	                   p->ps.t.host, p->ps.t.user, uid ? uid : "unknown", date);
}

static void log_message(struct pp *p, const char *uid, const char *result)
{
	log_msg(
	    strcmp(result, "stored") == 0 || strcmp(result, "already_stored") == 0 ? LOG_LVL_INFO
	                                                                           : LOG_LVL_ERROR,
	    "event=proxy_message proto=pop3 mailbox=%s target=%s uidl=%s bytes=%llu result=%s%s%s",
	    p->ps.t.mailbox, p->ps.t.host, uid ? uid : "unknown",
	    (unsigned long long)p->ps.tee.bytes, result, p->ps.tee.err ? " error=" : "",
	    p->ps.tee.err ? strerror(p->ps.tee.err) : "");
}

/* Wait for the previous copy's commit (see committer_start) and log it:
 * a failure loudly, since the client has the message but the archive not. */
static void commit_wait(struct pp *p)
{
	struct committer *c = &p->ps.cm;

	if (!committer_wait(c))
		return;
	log_msg(
	    c->rc == 0 ? LOG_LVL_INFO : LOG_LVL_ERROR,
	    "event=proxy_message proto=pop3 mailbox=%s target=%s uidl=%s bytes=%llu result=%s%s%s",
	    p->ps.t.mailbox, p->ps.t.host, p->cm_uid, (unsigned long long)c->tee.bytes,
	    c->rc == 0 ? "stored" : "not_recorded", c->rc ? " error=" : "",
	    c->rc ? strerror(c->tee.err) : "");
	if (c->seen_rc)
		log_warning("event=proxy_seen_index mailbox=%s error=\"%s\"", p->ps.t.mailbox,
		            strerror(c->seen_rc));
}

/* What the proxy knows of a message before it is retrieved. */
struct retrieval {
	char num[21];        /* the message number, digits */
	char uidbuf[POP_LINE];
	const char *uid;     /* the upstream's UIDL, or NULL */
	char key[SEEN_KEY_LEN + 1];
	int keyed, seen;
	uint64_t size;       /* the upstream's LIST size (TOP only), 0 unknown */
};

/* "+OK n size" or "+OK n uid": the second field, or NULL. */
static char *second_field(char *line)
{
	char *sp = strchr(line, ' '), *f, *end;

	if (sp == NULL || (f = strchr(sp + 1, ' ')) == NULL)
		return NULL;
	f++;
	for (end = f; *end > 0x20 && *end < 0x7f; end++)
		;
	if (end == f || end - f > UIDL_MAX)
		return NULL;
	*end = '\0';
	return f;
}

/* UIDL (and for TOP, LIST) of message r->num from the upstream, and the
 * seen index: -1 when the upstream is lost. */
static int identify(struct pp *p, int top, struct retrieval *r)
{
	char cmd[64], *f;
	int st;

	snprintf(cmd, sizeof cmd, "UIDL %s", r->num);
	if ((st = up_cmd(p, cmd)) < 0)
		return -1;
	if (st == 1) {
		snprintf(r->uidbuf, sizeof r->uidbuf, "%s", p->line);
		r->uid = second_field(r->uidbuf);
	}
	if (top) {
		snprintf(cmd, sizeof cmd, "LIST %s", r->num);
		if ((st = up_cmd(p, cmd)) < 0)
			return -1;
		if (st == 1 && (f = second_field(p->line)) != NULL)
			r->size = strtoull(f, NULL, 10);
	}
	if (r->uid == NULL)
		return 0;
	seen_key(p->account, r->uid, r->key);
	r->keyed = 1;
	if (p->ps.cm.running && strcmp(p->ps.cm.key, r->key) == 0)
		commit_wait(p); /* the same message, its copy still being committed */
	r->seen = seen_has(&p->ps.box, r->key);
	if (r->seen < 0) {
		log_warning("event=proxy_seen_index mailbox=%s error=\"%s\"", p->ps.t.mailbox,
		            strerror(errno));
		r->seen = 0;
	}
	return 0;
}

/* Start the copy of r with its trace header; failures are logged later. */
static void copy_begin(struct pp *p, const struct retrieval *r)
{
	struct buf h;

	buf_init(&h, 4096);
	if (copy_header(p, r->uid, &h) == 0)
		(void)tee_begin(&p->ps.tee, &p->ps.box, h.data, h.len,
		                (uint64_t)p->ps.cfg->smtp.max_message_size);
	buf_free(&h);
}

/* Send cmd upstream and read its status: 1 +OK, 0 -ERR (passed on to the
 * client), -1 lost. */
static int up_retrieve(struct pp *p, const char *cmd)
{
	int st = up_cmd(p, cmd);

	if (st == 0)
		(void)stream_write(p->ps.c, p->line, p->len);
	return st;
}

/* RETR (or a TOP that carried the whole message) relayed to the client
 * while teed; the copy is committed in the background. */
static int retrieve_streamed(struct pp *p, const char *cmd, int top, struct retrieval *r)
{
	struct body_result dr;
	int st = up_retrieve(p, cmd);

	if (st <= 0)
		return st;
	if (!r->seen)
		copy_begin(p, r);
	(void)stream_write(p->ps.c, p->line, p->len);
	body_relay(p->ps.up.s, DATA_UPSTREAM, sink_stream, p->ps.c,
	           tee_active(&p->ps.tee) ? sink_tee : NULL, &p->ps.tee, &dr);
	if (dr.in_err) {
		tee_abort(&p->ps.tee);
		return -1;
	}
	(void)stream_puts(p->ps.c, ".\r\n");
	if (r->seen) {
		log_message(p, r->uid, "already_stored");
	} else if (top && (r->size == 0 || p->ps.tee.bytes != r->size)) {
		tee_abort(&p->ps.tee); /* only part of the message: no copy of a part */
	} else if (!dr.tee_err && !dr.fwd_err && tee_active(&p->ps.tee)) {
		/* the client has the message: commit while it asks for more */
		commit_wait(p);
		snprintf(p->cm_uid, sizeof p->cm_uid, "%s", r->uid ? r->uid : "unknown");
		committer_start(&p->ps.cm, &p->ps.tee, r->keyed ? r->key : NULL);
	} else {
		tee_abort(&p->ps.tee);
		log_message(p, r->uid, "not_recorded");
	}
	return 1;
}

/* pop3_require_copy: the message is fetched twice, so memory stays
 * constant whatever its size: first into the copy only, which is committed;
 * then to the client, whose final "." is only sent when the second
 * transfer has the same length as the recorded one. */
static int retrieve_required(struct pp *p, const char *cmd, struct retrieval *r)
{
	struct body_result dr;
	uint64_t first;
	int st = up_retrieve(p, cmd);

	if (st <= 0)
		return st;
	copy_begin(p, r);
	body_relay(p->ps.up.s, DATA_UPSTREAM, NULL, NULL, tee_active(&p->ps.tee) ? sink_tee : NULL,
	           &p->ps.tee, &dr);
	if (dr.in_err) {
		tee_abort(&p->ps.tee);
		return -1;
	}
	first = p->ps.tee.bytes;
	if (dr.tee_err || !tee_active(&p->ps.tee) || tee_commit(&p->ps.tee) < 0) {
		tee_abort(&p->ps.tee);
		log_message(p, r->uid, "not_recorded");
		(void)pop3_reply(p->ps.c, P3_PROXY_NOT_RECORDED);
		return 1;
	}
	log_message(p, r->uid, "stored");
	if (r->keyed && seen_add(&p->ps.box, r->key) < 0)
		log_warning("event=proxy_seen_index mailbox=%s error=\"%s\"", p->ps.t.mailbox,
		            strerror(errno));
	if ((st = up_retrieve(p, cmd)) <= 0)
		return st;
	(void)stream_write(p->ps.c, p->line, p->len);
	body_relay(p->ps.up.s, DATA_UPSTREAM, sink_stream, p->ps.c, NULL, NULL, &dr);
	if (dr.in_err || dr.fwd_err || dr.content != first) {
		log_error(
		    "event=proxy_message proto=pop3 mailbox=%s uidl=%s result=changed_upstream "
		    "detail=\"second transfer differs from the recorded copy\"",
		    p->ps.t.mailbox, r->uid ? r->uid : "unknown");
		return -1; /* no final dot: the client never has an unrecorded whole */
	}
	(void)stream_puts(p->ps.c, ".\r\n");
	return 1;
}

/* "n" (RETR) or "n m" (TOP): digits; the message number into num. */
static int msg_args(const char *arg, int top, char num[21])
{
	size_t k = strspn(arg, "0123456789"), m;

	if (k == 0 || k >= 21)
		return -1;
	memcpy(num, arg, k);
	num[k] = '\0';
	if (!top)
		return arg[k] == '\0' ? 0 : -1;
	if (arg[k] != ' ')
		return -1;
	m = strspn(arg + k + 1, "0123456789");
	return m > 0 && arg[k + 1 + m] == '\0' ? 0 : -1;
}

/* RETR n or TOP n m: 0 to go on, -1 when the session must end. */
static int do_retrieve(struct pp *p, const char *line, int top)
{
	struct retrieval r;
	const char *arg = line + (top ? 3 : 4);
	int st;

	memset(&r, 0, sizeof r);
	while (*arg == ' ')
		arg++;
	if (msg_args(arg, top, r.num) < 0) {
		(void)pop3_reply(p->ps.c, top ? P3_TOP_USAGE : P3_RETR_USAGE);
		return 0;
	}
	if (identify(p, top, &r) < 0)
		return -1;
	if (!top && p->ps.cfg->proxy.pop3_require_copy && !r.seen)
		st = retrieve_required(p, line, &r);
	else
		st = retrieve_streamed(p, line, top, &r);
	return st < 0 ? -1 : 0;
}

static void relay(struct pp *p)
{
	static const char *const known[] = {"STAT", "LIST", "UIDL", "TOP",  "DELE",
	                                    "NOOP", "RSET", "CAPA", "LAST", NULL};
	char line[POP_LINE];
	size_t n;

	for (;;) {
		enum line_result lr = stream_getline(p->ps.c, line, sizeof line, &n);
		const char *const *k;
		struct body_result dr;
		int st;

		if (lr == LINE_EOF || lr == LINE_ERROR)
			return;
		if (lr == LINE_TOO_LONG) {
			(void)pop3_reply(p->ps.c, P3_LINE_TOO_LONG);
			continue;
		}
		chomp(line, &n);
		if (verb_is(line, "QUIT")) {
			p->quit_sent = 1;
			commit_wait(p); /* every copy is in place before +OK */
			if (up_cmd(p, "QUIT") >= 0)
				(void)stream_write(p->ps.c, p->line, p->len);
			else
				(void)pop3_reply(p->ps.c, P3_BYE);
			return;
		}
		if (verb_is(line, "RETR") || verb_is(line, "TOP")) {
			if (do_retrieve(p, line, verb_is(line, "TOP")) < 0)
				goto lost;
			continue;
		}
		for (k = known; *k && !verb_is(line, *k); k++)
			;
		if (*k == NULL) {
			(void)pop3_reply(p->ps.c, verb_is(line, "USER") || verb_is(line, "PASS") ||
			                                  verb_is(line, "AUTH") ||
			                                  verb_is(line, "APOP") ||
			                                  verb_is(line, "STLS")
			                              ? P3_PROXY_ALREADY_AUTH
			                              : P3_UNKNOWN_COMMAND);
			continue;
		}
		if ((st = up_cmd(p, line)) < 0)
			goto lost;
		(void)stream_write(p->ps.c, p->line, p->len);
		if (st == 1 && pop3_multiline(line)) {
			body_relay(p->ps.up.s, DATA_UPSTREAM, sink_stream, p->ps.c, NULL, NULL,
			           &dr);
			if (dr.in_err)
				goto lost;
			(void)stream_puts(p->ps.c, ".\r\n");
		}
	}
lost:
	(void)pop3_reply(p->ps.c, P3_PROXY_LOST);
}

/* Connect and TLS: -1 (err filled) when the target is no usable server. */
static int up_open(struct pp *p, int implicit, char *err, size_t errlen)
{
	if (upstream_connect(&p->ps.up, p->ps.cfg, &p->ps.t, proxy_pop3.std_ports, err, errlen) < 0)
		return -1;
	if (implicit && upstream_tls(&p->ps.up, p->ps.cfg, p->ps.t.host, err, errlen) < 0)
		return -1;
	snprintf(err, errlen, "bad greeting");
	if (up_status(p) != 1)
		return -1;
	if (!implicit) {
		snprintf(err, errlen, "STLS refused");
		if (up_cmd(p, "STLS") != 1)
			return -1;
		if (upstream_tls(&p->ps.up, p->ps.cfg, p->ps.t.host, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* The client's credentials, the same way it sent them: 1 +OK, 0 -ERR,
 * -1 lost (or out of memory). */
static int up_credentials(struct pp *p, const char *pass, size_t plen, enum proxy_pop3_auth how)
{
	char user[PROXY_USER_MAX + 8], *cmd;
	size_t size = plen + sizeof "PASS ";
	int st;

	if (how == PROXY_POP3_SASL_PLAIN) {
		if ((cmd = proxy_auth_plain(&p->ps, pass, plen, &size)) == NULL)
			return -1;
		st = up_cmd(p, cmd);
	} else {
		snprintf(user, sizeof user, "USER %s", p->ps.t.user);
		if ((st = up_cmd(p, user)) != 1)
			return st;
		if ((cmd = malloc(size)) == NULL)
			return -1;
		snprintf(cmd, size, "PASS %.*s", (int)plen, pass);
		st = up_cmd(p, cmd);
	}
	wipe(cmd, size);
	free(cmd);
	return st;
}

/* Connect, TLS, then the credentials. Returns 1 logged in, 0 refused by
 * the upstream (its reply sent), -1 failed (logged; the caller refuses). */
static int up_login(struct pp *p, const char *pass, size_t plen, enum proxy_pop3_auth how)
{
	char err[256];
	int implicit = upstream_implicit(p->ps.t.port, p->ps.fe->implicit_tls), st = -1;

	if (up_open(p, implicit, err, sizeof err) == 0) {
		snprintf(err, sizeof err, "lost during log-in");
		st = up_credentials(p, pass, plen, how);
	}
	if (st < 0)
		proxy_session_upstream_failed(&p->ps, err);
	if (p->ps.up.fd >= 0)
		stream_wipe_output(p->ps.up.s); /* PASS / AUTH, sent */
	if (st < 0)
		return -1;
	(void)stream_write(p->ps.c, p->line, p->len); /* the upstream's verdict */
	proxy_session_log(&p->ps, st == 1 ? "ok" : "rejected_by_target", NULL);
	return st;
}

/* The dedup key: the upstream account, host case-folded. */
static void set_account(struct pp *p)
{
	size_t i;

	snprintf(p->account, sizeof p->account, "%s%%%s", p->ps.t.user, p->ps.t.host);
	for (i = strlen(p->ps.t.user) + 1; p->account[i]; i++)
		p->account[i] = (char)tolower((unsigned char)p->account[i]);
}

int proxy_pop3_takeover(struct stream *client, const struct frontend *fe, const char *peer,
                        const char *login, const char *password, size_t plen,
                        enum proxy_pop3_auth how)
{
	struct pp *p = calloc(1, sizeof *p);
	enum proxy_refusal why;
	int rc = PROXY_REFUSED, st = -1;

	if (p == NULL) {
		(void)pop3_reply(client, P3_NO_MEMORY);
		return PROXY_REFUSED;
	}
	proxy_session_init(&p->ps, &proxy_pop3, client, fe);
	if ((why = proxy_session_check(&p->ps, peer, login)) == PROXY_OK) {
		set_account(p);
		st = up_login(p, password, plen, how);
	}
	if (st < 0) {
		/* one reply to every refusal (the reason is logged), but for
		 * the caller bug of a client not on TLS */
		proxy_session_refusal_delay(&p->ps);
		(void)pop3_reply(client, why == PROXY_NO_TLS ? P3_PROXY_NEED_TLS : P3_AUTH_FAILED);
	} else if (st == 1) {
		rc = PROXY_FINISHED;
		proxy_session_relay_start(&p->ps, p->ps.cfg->pop3.idle_timeout * 1000);
		relay(p);
	}
	commit_wait(p);
	proxy_session_end(&p->ps, !p->quit_sent);
	wipe(p->line, sizeof p->line);
	free(p);
	return rc;
}
