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
#include "proxy/proxy.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/wipe.h"

#define POP_LINE 1024
#define UIDL_MAX 70 /* RFC 1939 7 */

struct pp {
	struct stream *c;
	const struct frontend *fe;
	const struct config *cfg;
	struct upstream up;
	struct proxy_target t;
	struct proxy_box box;
	char account[PROXY_USER_MAX + PROXY_HOST_MAX + 2];
	char line[POP_LINE]; /* the upstream's last status line, CR LF */
	size_t len;
	struct tee tee;
	struct committer cm;
	char cm_uid[UIDL_MAX + 1];
	int quit_sent;
};

/* A status line from the upstream: 1 +OK, 0 -ERR, -1 lost or garbled. */
static int up_status(struct pp *p)
{
	return pop3_status_read(p->up.s, p->line, sizeof p->line, &p->len);
}

static int up_cmd(struct pp *p, const char *cmd)
{
	if (stream_puts(p->up.s, cmd) < 0 || stream_puts(p->up.s, "\r\n") < 0 ||
	    stream_flush(p->up.s) < 0)
		return -1;
	return up_status(p);
}

static void log_login(struct pp *p, const char *result, const char *detail)
{
	proxy_log_login("pop3", &p->t, result, detail);
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
	                   p->t.host, p->t.user, uid ? uid : "unknown", date);
}

static void log_message(struct pp *p, const char *uid, const char *result)
{
	log_msg(
	    strcmp(result, "stored") == 0 || strcmp(result, "already_stored") == 0 ? LOG_LVL_INFO
	                                                                           : LOG_LVL_ERROR,
	    "event=proxy_message proto=pop3 mailbox=%s target=%s uidl=%s bytes=%llu result=%s%s%s",
	    p->t.mailbox, p->t.host, uid ? uid : "unknown", (unsigned long long)p->tee.bytes,
	    result, p->tee.err ? " error=" : "", p->tee.err ? strerror(p->tee.err) : "");
}

/* Wait for the previous copy's commit (see committer_start) and log it:
 * a failure loudly, since the client has the message but the archive not. */
static void commit_wait(struct pp *p)
{
	struct committer *c = &p->cm;

	if (!committer_wait(c))
		return;
	log_msg(
	    c->rc == 0 ? LOG_LVL_INFO : LOG_LVL_ERROR,
	    "event=proxy_message proto=pop3 mailbox=%s target=%s uidl=%s bytes=%llu result=%s%s%s",
	    p->t.mailbox, p->t.host, p->cm_uid, (unsigned long long)c->tee.bytes,
	    c->rc == 0 ? "stored" : "not_recorded", c->rc ? " error=" : "",
	    c->rc ? strerror(c->tee.err) : "");
	if (c->seen_rc)
		log_warning("event=proxy_seen_index mailbox=%s error=\"%s\"", p->t.mailbox,
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
	if (p->cm.running && strcmp(p->cm.key, r->key) == 0)
		commit_wait(p); /* the same message, its copy still being committed */
	r->seen = seen_has(&p->box, r->key);
	if (r->seen < 0) {
		log_warning("event=proxy_seen_index mailbox=%s error=\"%s\"", p->t.mailbox,
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
		(void)tee_begin(&p->tee, &p->box, h.data, h.len,
		                (uint64_t)p->cfg->smtp.max_message_size);
	buf_free(&h);
}

/* Send cmd upstream and read its status: 1 +OK, 0 -ERR (passed on to the
 * client), -1 lost. */
static int up_retrieve(struct pp *p, const char *cmd)
{
	int st = up_cmd(p, cmd);

	if (st == 0)
		(void)stream_write(p->c, p->line, p->len);
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
	(void)stream_write(p->c, p->line, p->len);
	body_relay(p->up.s, DATA_UPSTREAM, sink_stream, p->c,
	           tee_active(&p->tee) ? sink_tee : NULL, &p->tee, &dr);
	if (dr.in_err) {
		tee_abort(&p->tee);
		return -1;
	}
	(void)stream_puts(p->c, ".\r\n");
	if (r->seen) {
		log_message(p, r->uid, "already_stored");
	} else if (top && (r->size == 0 || p->tee.bytes != r->size)) {
		tee_abort(&p->tee); /* only part of the message: no copy of a part */
	} else if (!dr.tee_err && !dr.fwd_err && tee_active(&p->tee)) {
		/* the client has the message: commit while it asks for more */
		commit_wait(p);
		snprintf(p->cm_uid, sizeof p->cm_uid, "%s", r->uid ? r->uid : "unknown");
		committer_start(&p->cm, &p->tee, r->keyed ? r->key : NULL);
	} else {
		tee_abort(&p->tee);
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
	body_relay(p->up.s, DATA_UPSTREAM, NULL, NULL, tee_active(&p->tee) ? sink_tee : NULL,
	           &p->tee, &dr);
	if (dr.in_err) {
		tee_abort(&p->tee);
		return -1;
	}
	first = p->tee.bytes;
	if (dr.tee_err || !tee_active(&p->tee) || tee_commit(&p->tee) < 0) {
		tee_abort(&p->tee);
		log_message(p, r->uid, "not_recorded");
		(void)stream_puts(p->c, "-ERR [SYS/TEMP] The gateway could not record a copy of "
		                        "this message\r\n");
		return 1;
	}
	log_message(p, r->uid, "stored");
	if (r->keyed && seen_add(&p->box, r->key) < 0)
		log_warning("event=proxy_seen_index mailbox=%s error=\"%s\"", p->t.mailbox,
		            strerror(errno));
	if ((st = up_retrieve(p, cmd)) <= 0)
		return st;
	(void)stream_write(p->c, p->line, p->len);
	body_relay(p->up.s, DATA_UPSTREAM, sink_stream, p->c, NULL, NULL, &dr);
	if (dr.in_err || dr.fwd_err || dr.content != first) {
		log_error("event=proxy_message proto=pop3 mailbox=%s uidl=%s result=changed_upstream "
		          "detail=\"second transfer differs from the recorded copy\"",
		          p->t.mailbox, r->uid ? r->uid : "unknown");
		return -1; /* no final dot: the client never has an unrecorded whole */
	}
	(void)stream_puts(p->c, ".\r\n");
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
		(void)stream_puts(p->c, top ? "-ERR Syntax: TOP msg n\r\n" : "-ERR Syntax: RETR msg\r\n");
		return 0;
	}
	if (identify(p, top, &r) < 0)
		return -1;
	if (!top && p->cfg->proxy.pop3_require_copy && !r.seen)
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
		enum line_result lr = stream_getline(p->c, line, sizeof line, &n);
		const char *const *k;
		struct body_result dr;
		int st;

		if (lr == LINE_EOF || lr == LINE_ERROR)
			return;
		if (lr == LINE_TOO_LONG) {
			(void)stream_puts(p->c, "-ERR Line too long\r\n");
			continue;
		}
		chomp(line, &n);
		if (verb_is(line, "QUIT")) {
			p->quit_sent = 1;
			commit_wait(p); /* every copy is in place before +OK */
			if (up_cmd(p, "QUIT") >= 0)
				(void)stream_write(p->c, p->line, p->len);
			else
				(void)stream_puts(p->c, "+OK Bye\r\n");
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
			(void)stream_puts(p->c, verb_is(line, "USER") || verb_is(line, "PASS") ||
			                                verb_is(line, "AUTH") ||
			                                verb_is(line, "APOP") ||
			                                verb_is(line, "STLS")
			                            ? "-ERR Already authenticated\r\n"
			                            : "-ERR Unknown command\r\n");
			continue;
		}
		if ((st = up_cmd(p, line)) < 0)
			goto lost;
		(void)stream_write(p->c, p->line, p->len);
		if (st == 1 && pop3_multiline(line)) {
			body_relay(p->up.s, DATA_UPSTREAM, sink_stream, p->c, NULL, NULL, &dr);
			if (dr.in_err)
				goto lost;
			(void)stream_puts(p->c, ".\r\n");
		}
	}
lost:
	(void)stream_puts(p->c, "-ERR [SYS/TEMP] Connection to the target server lost\r\n");
}

/* The one reply to every refusal before the upstream has answered the
 * credentials, as msgw-pop3's own failed log-in; the reason is logged. */
#define REFUSAL "-ERR [AUTH] Authentication failed\r\n"

/* Connect and TLS: -1 (err filled) when the target is no usable server. */
static int up_open(struct pp *p, int implicit, char *err, size_t errlen)
{
	if (upstream_connect(&p->up, p->cfg, &p->t, proxy_pop3.std_ports, err, errlen) < 0)
		return -1;
	if (implicit && upstream_tls(&p->up, p->cfg, p->t.host, err, errlen) < 0)
		return -1;
	snprintf(err, errlen, "bad greeting");
	if (up_status(p) != 1)
		return -1;
	if (!implicit) {
		snprintf(err, errlen, "STLS refused");
		if (up_cmd(p, "STLS") != 1)
			return -1;
		if (upstream_tls(&p->up, p->cfg, p->t.host, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* The client's credentials, the same way it sent them: 1 +OK, 0 -ERR,
 * -1 lost. */
static int up_credentials(struct pp *p, const char *pass, size_t plen, enum proxy_pop3_auth how,
                          char *cmd, size_t csize, char *msg)
{
	size_t ulen = strlen(p->t.user), mlen = ulen + plen + 2;
	int st;

	if (how == PROXY_POP3_SASL_PLAIN) {
		msg[0] = '\0';
		memcpy(msg + 1, p->t.user, ulen);
		msg[ulen + 1] = '\0';
		memcpy(msg + ulen + 2, pass, plen);
		memcpy(cmd, "AUTH PLAIN ", 11);
		if (b64_encode(msg, mlen, cmd + 11, csize - 11) < 0)
			return -1;
		return up_cmd(p, cmd);
	}
	snprintf(cmd, csize, "USER %s", p->t.user);
	if ((st = up_cmd(p, cmd)) != 1)
		return st;
	snprintf(cmd, csize, "PASS %.*s", (int)plen, pass);
	return up_cmd(p, cmd);
}

/* Connect, TLS, then the credentials. Returns 1 logged in, 0 refused by
 * the upstream (its reply sent), -1 failed (logged; the caller refuses). */
static int up_login(struct pp *p, const char *pass, size_t plen, enum proxy_pop3_auth how)
{
	char err[256], *cmd = NULL, *msg = NULL;
	size_t mlen = strlen(p->t.user) + plen + 2, clen = (mlen + 2) / 3 * 4 + 32 + mlen;
	int implicit = upstream_implicit(p->t.port, p->fe->implicit_tls), st = -1;

	if (up_open(p, implicit, err, sizeof err) < 0)
		goto fail;
	snprintf(err, sizeof err, "lost during log-in");
	if ((cmd = malloc(clen)) == NULL || (msg = malloc(mlen + 1)) == NULL)
		goto fail;
	if ((st = up_credentials(p, pass, plen, how, cmd, clen, msg)) < 0)
		goto fail;
	(void)stream_write(p->c, p->line, p->len); /* the upstream's verdict */
	log_login(p, st == 1 ? "ok" : "rejected_by_target", NULL);
	goto out;
fail:
	st = -1;
	/* a stream failure (timeout, reset) says more than the step's name */
	log_login(p, "upstream_failed",
	          p->up.fd >= 0 && stream_error(p->up.s) != STREAM_OK &&
	                  stream_error(p->up.s) != STREAM_TLS
	              ? stream_strerror(p->up.s)
	              : err);
out:
	if (p->up.fd >= 0)
		stream_wipe_output(p->up.s); /* PASS / AUTH, sent */
	if (cmd)
		wipe(cmd, clen);
	if (msg)
		wipe(msg, mlen + 1);
	free(cmd);
	free(msg);
	return st;
}

/* Everything checked before the upstream is involved: NULL, or the reply
 * (one text for every refusal but the caller bug of a client not on TLS). */
static const char *check_login(struct pp *p, const char *peer, const char *login)
{
	const struct proxy_client cl = {&proxy_pop3, peer, tls_active(p->c), p->fe->implicit_tls};
	enum proxy_refusal r = proxy_check_login(p->cfg, &cl, login, &p->t, &p->box);
	size_t i;

	if (r != PROXY_OK)
		return r == PROXY_NO_TLS
		           ? "-ERR [PRIVACY] Use STLS first: no credentials over plain text\r\n"
		           : REFUSAL;
	/* the dedup key: the upstream account, host case-folded */
	snprintf(p->account, sizeof p->account, "%s%%%s", p->t.user, p->t.host);
	for (i = strlen(p->t.user) + 1; p->account[i]; i++)
		p->account[i] = (char)tolower((unsigned char)p->account[i]);
	return NULL;
}

int proxy_pop3_takeover(struct stream *client, const struct frontend *fe, const char *peer,
                        const char *login, const char *password, size_t plen,
                        enum proxy_pop3_auth how)
{
	struct pp *p = calloc(1, sizeof *p);
	long long start = stream_now_ms();
	const char *why;
	int rc = PROXY_REFUSED, st;

	if (p == NULL) {
		(void)stream_puts(client, "-ERR [SYS/TEMP] Out of memory\r\n");
		return PROXY_REFUSED;
	}
	p->c = client;
	p->fe = fe;
	tcp_nodelay(stream_wfd(client));
	p->cfg = &fe->app.cfg;
	p->up.fd = -1;
	if ((why = check_login(p, peer, login)) != NULL ||
	    (st = up_login(p, password, plen, how)) < 0) {
		proxy_refusal_delay(p->cfg, start);
		(void)stream_puts(client, why ? why : REFUSAL);
		goto out;
	}
	if (st != 1)
		goto out;
	rc = PROXY_FINISHED;
	stream_login_done(client);
	stream_set_timeout(client, p->cfg->pop3.idle_timeout * 1000);
	relay(p);
out:
	commit_wait(p);
	if (p->up.fd >= 0 && !p->quit_sent) {
		(void)stream_puts(p->up.s, "QUIT\r\n");
		(void)stream_flush(p->up.s);
	}
	upstream_close(&p->up);
	tee_abort(&p->tee);
	wipe(p->line, sizeof p->line);
	free(p);
	(void)stream_flush(client);
	return rc;
}
