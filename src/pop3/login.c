/* Login: USER/PASS (RFC 1939) and AUTH PLAIN (RFC 5034), only over TLS.
 * The user is a mailbox id or its full address; the password unseals the
 * mailbox identity. A failure never tells whether the mailbox exists: the
 * same reply, at the same moment (login start + the larger of
 * pop3.login_failure_delay and the cost of a real unseal, which an unknown
 * name pays too, on a decoy). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "crypt/age.h"
#include "net/tls.h"
#include "pop3/pop3.h"
#include "pop3/reply.h"
#include "proxy/handoff.h"
#include "util/log.h"
#include "util/slots.h"
#include "util/wipe.h"

/* How a login name is served. Proxy names (user%server%mailbox) go to the
 * recording proxy when proxy.enabled; otherwise they name no mailbox.
 * Under msgw-proxy's proxy-only policy no other name is a mailbox: it
 * fails as an unknown one does (same reply, same delay). */
enum login_route { ROUTE_UNKNOWN = 0, ROUTE_MAILBOX, ROUTE_PROXY };

/* An age file sealed to a password nobody knows, at the configured work
 * factor: unknown names spend on it what a wrong password spends on the
 * real identity.age (scrypt, then a failing unwrap). Salt, body and MAC
 * are fixed public values: nothing here is secret. */
static const char decoy_fmt[] =
	"age-encryption.org/v1\n"
	"-> scrypt BGG0PJKSeNu++YKNyVDJZg %d\n"
	"dO35qELU2W9aBFoPIeVXh8kHu3p63kfAlBg+scOGkbo\n"
	"--- ruE+/srpu1M9pKQo+vEpy7j/Y94PLV+MwOmE6f70ILI\n"
	"0123456789abcdef0123456789abcdef0123456789abcdef";

static void burn_decoy(const struct pop3 *p, const char *pw, size_t plen)
{
	struct age_decryptor *d = NULL;
	int fds[2] = { -1, -1 };
	char hdr[sizeof decoy_fmt + 16];
	int n;

	n = snprintf(hdr, sizeof hdr, decoy_fmt, p->cfg->crypt.scrypt_log_n);
	if (n < 0 || (size_t)n >= sizeof hdr || pipe(fds) < 0) {
		log_error("event=login error=\"decoy: %s\"", strerror(errno));
		goto out;
	}
	/* Far below the pipe's capacity: the write cannot block. */
	if (write(fds[1], hdr, (size_t)n) != n) {
		log_error("event=login error=\"decoy write: %s\"", strerror(errno));
		goto out;
	}
	close(fds[1]);
	fds[1] = -1;
	if (age_decrypt_begin_scrypt(&d, fds[0], pw, plen, AGE_SCRYPT_MAX_LOG_N) == 0)
		age_decrypt_end(d);
out:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
}

/* crypt.max_unseals: a slot for an unseal (or its decoy), waited for
 * within the session's deadlines. 0 with a slot or, when the slot
 * directory is unusable, without one (logged: log-ins go on unbounded);
 * -1 with errno EAGAIN when none came free in time. */
static int take_unseal_slot(const struct pop3 *p, struct slot *sl)
{
	const struct config *cfg = p->cfg;

	if ((cfg->unseal_slots.n > 0
		     ? slot_take_set(sl, &cfg->unseal_slots, stream_deadline(p->s))
		     : slot_take(sl, cfg->crypt.unseal_lock_dir, cfg->crypt.max_unseals,
				 stream_deadline(p->s))) == 0)
		return 0;
	if (errno == ETIMEDOUT) {
		log_warning("event=login_busy reason=unseal_slots");
		errno = EAGAIN;
		return -1;
	}
	log_warning("event=unseal_slots dir=%s error=\"%s\" unbounded=1", cfg->crypt.unseal_lock_dir,
		    strerror(errno));
	return 0;
}

/* maildrop_open under an unseal slot. */
static int open_maildrop(struct pop3 *p, struct maildrop **md, const char *id, const char *pw,
			 size_t plen)
{
	struct slot sl;
	int rc, e;

	if (take_unseal_slot(p, &sl) < 0)
		return -1;
	rc = maildrop_open(md, &p->store, id, pw, plen);
	e = errno;
	slot_release(&sl);
	errno = e;
	return rc;
}

static void burn_like_unseal(const struct pop3 *p, const char *pw, size_t plen)
{
	struct slot sl;

	if (take_unseal_slot(p, &sl) < 0)
		return;   /* the deadline has passed: the session ends */
	burn_decoy(p, pw, plen);
	slot_release(&sl);
}

static void sleep_until(long long when_ms)
{
	long long left;

	/* Bounded: each round sleeps the remaining time (at most 60 s by the
	 * config limit); EINTR only shortens a round. */
	for (int i = 0; i < 100 && (left = when_ms - stream_now_ms()) > 0; i++) {
		struct timespec ts = { (time_t)(left / 1000), (long)(left % 1000) * 1000000L };

		nanosleep(&ts, NULL);
	}
}

/* name -> mailbox id; see enum login_route. */
static enum login_route route_login(const struct config *cfg, int proxy_only, const char *name,
				    char id[MAILBOX_ID_LEN + 1])
{
	const char *at = strchr(name, '@');
	size_t len = at ? (size_t)(at - name) : strlen(name);

	if (proxy_login_wanted(name))
		return cfg->proxy.enabled ? ROUTE_PROXY : ROUTE_UNKNOWN;
	if (proxy_only)
		return ROUTE_UNKNOWN;
	if (at && strcasecmp(at + 1, cfg->domain) != 0)
		return ROUTE_UNKNOWN;
	if (len != MAILBOX_ID_LEN)
		return ROUTE_UNKNOWN;
	/* Ids are base32: case does not matter to a person typing one. */
	for (size_t i = 0; i < len; i++)
		id[i] = (char)tolower((unsigned char)name[i]);
	id[len] = '\0';
	return mailbox_id_valid(id) ? ROUTE_MAILBOX : ROUTE_UNKNOWN;
}

static int login_failed(struct pop3 *p, const char *name, const char *reason, long long start)
{
	char q[96];

	sleep_until(start + p->cfg->pop3.login_failure_delay);
	p->errors++;
	/* fail2ban: "peer=<HOST> event=login_failed" */
	log_warning("event=login_failed user=%s reason=%s", log_q(q, sizeof q, name), reason);
	return pop3_reply(p->s, P3_AUTH_FAILED);
}

/* A proxy login: the proxy answers the client and, on success, relays the
 * rest of the session; then this session is over. */
static int proxy_login(struct pop3 *p, const char *name, const char *pw, size_t plen,
		       enum proxy_pop3_auth how)
{
	if (proxy_pop3_takeover(p->s, p->fe, p->conn->peer, name, pw, plen, how) == PROXY_FINISHED) {
		p->end = POP3_END_PROXY;
		return -1;
	}
	p->errors++;   /* refused, and the refusal was sent */
	return 0;
}

/* Open the maildrop for name with the password; answers the client. */
static int login_mailbox(struct pop3 *p, enum login_route route, const char *name,
			 const char *id, const char *pw, size_t plen)
{
	long long start = stream_now_ms();
	struct maildrop *md = NULL;
	char tls[96];

	if (route != ROUTE_MAILBOX) {
		burn_like_unseal(p, pw, plen);
		return login_failed(p, name, "unknown", start);
	}
	if (open_maildrop(p, &md, id, pw, plen) < 0) {
		int e = errno;

		switch (e) {
		case ENOENT:
		case EINVAL:
			burn_like_unseal(p, pw, plen);
			return login_failed(p, name, "unknown", start);
		case EACCES:
			return login_failed(p, name, "password", start);
		case EBUSY:
			sleep_until(start + p->cfg->pop3.login_failure_delay);
			log_warning("event=login_in_use mailbox=%s", id);
			return pop3_reply(p->s, P3_IN_USE);
		default:
			log_error("event=login mailbox=%s error=\"%s\"", id, strerror(e));
			return pop3_reply(p->s, P3_MAILDROP_UNAVAILABLE);
		}
	}
	p->md = md;
	stream_login_done(p->s);
	memcpy(p->mailbox, id, sizeof p->mailbox);
	log_info("event=login mailbox=%s messages=%zu tls=\"%s\"", id, maildrop_count(md),
		 tls_describe(p->s, tls, sizeof tls));
	pop3_enter_state(p, POP3_TRANSACTION);
	return pop3_reply_num(p->s, P3_LOGGED_IN, maildrop_count(md));
}

/* A log-in: to the proxy, or to a maildrop. */
static int login(struct pop3 *p, const char *name, const char *pw, size_t plen,
		 enum proxy_pop3_auth how)
{
	char id[MAILBOX_ID_LEN + 1];
	enum login_route route = route_login(p->cfg, p->fe->proxy_only, name, id);

	if (route == ROUTE_PROXY)
		return proxy_login(p, name, pw, plen, how);
	return login_mailbox(p, route, name, id, pw, plen);
}

/* RFC 2595 section 4: no credentials over a connection without TLS. The
 * reply comes before anything that could be a credential is read. */
static int refuse_plaintext(struct pop3 *p)
{
	p->errors++;
	return pop3_reply(p->s, P3_NEED_TLS);
}

int pop3_cmd_user(struct pop3 *p, char *args)
{
	size_t len = strlen(args);

	if (!tls_active(p->s))
		return refuse_plaintext(p);
	if (len == 0 || len >= sizeof p->user) {
		p->errors++;
		return pop3_reply(p->s, P3_USER_USAGE);
	}
	memcpy(p->user, args, len + 1);
	/* The same answer for every name (RFC 1939 allows -ERR here; that
	 * would tell which mailboxes exist). */
	return pop3_reply(p->s, P3_SEND_PASS);
}

int pop3_cmd_pass(struct pop3 *p, char *args)
{
	int rc;

	if (!tls_active(p->s))
		return refuse_plaintext(p);
	if (p->user[0] == '\0') {
		p->errors++;
		return pop3_reply(p->s, P3_USER_FIRST);
	}
	rc = login(p, p->user, args, strlen(args), PROXY_POP3_USER_PASS);
	p->user[0] = '\0';
	return rc;
}

/* "authzid NUL authcid NUL password": log in as authcid, acting for
 * nobody else (authzid empty or the same name). */
static int auth_plain(struct pop3 *p, const unsigned char *msg, size_t len)
{
	const unsigned char *z1 = memchr(msg, '\0', len), *z2;
	size_t zlen, clen;
	char name[POP3_USER_MAX];
	int rc;

	if (z1 == NULL || (z2 = memchr(z1 + 1, '\0', len - (size_t)(z1 + 1 - msg))) == NULL ||
	    memchr(z2 + 1, '\0', len - (size_t)(z2 + 1 - msg)) != NULL) {
		p->errors++;
		return pop3_reply(p->s, P3_AUTH_MALFORMED);
	}
	zlen = (size_t)(z1 - msg);
	clen = (size_t)(z2 - (z1 + 1));
	if (clen == 0 || clen >= sizeof name) {
		p->errors++;
		return pop3_reply(p->s, P3_AUTH_MALFORMED);
	}
	memcpy(name, z1 + 1, clen);
	name[clen] = '\0';
	if (zlen > 0 && (zlen != clen || memcmp(msg, name, clen) != 0))
		return login_failed(p, name, "authzid", stream_now_ms());
	rc = login(p, name, (const char *)z2 + 1, len - (size_t)(z2 + 1 - msg), PROXY_POP3_SASL_PLAIN);
	return rc;
}

/* The client's response after "+ ": into resp, or -1 when the session
 * ends (p->end set) / 1 after an -ERR. */
static int read_response(struct pop3 *p, char *resp, size_t size, size_t *len)
{
	enum line_result lr;

	if (stream_puts(p->s, "+ \r\n") < 0) {
		p->end = POP3_END_IO;
		return -1;
	}
	lr = stream_getline(p->s, resp, size, len);
	if (lr == LINE_TOO_LONG) {
		p->errors++;
		return pop3_reply(p->s, P3_LINE_TOO_LONG) < 0 ? -1 : 1;
	}
	if (lr != LINE_OK) {
		p->end = lr == LINE_EOF ? POP3_END_EOF
			 : stream_error(p->s) == STREAM_TIMEOUT ? POP3_END_TIMEOUT : POP3_END_IO;
		return -1;
	}
	while (*len > 0 && (resp[*len - 1] == '\n' || resp[*len - 1] == '\r'))
		resp[--*len] = '\0';
	if (strcmp(resp, "*") == 0)
		return pop3_reply(p->s, P3_AUTH_CANCELLED) < 0 ? -1 : 1;
	return 0;
}

static int auth_plain_cmd(struct pop3 *p, const char *initial)
{
	char resp[POP3_LINE_MAX];
	unsigned char dec[POP3_LINE_MAX];
	const char *b64 = initial;
	size_t len = initial ? strlen(initial) : 0;
	long n;
	int rc;

	if (initial == NULL) {
		if ((rc = read_response(p, resp, sizeof resp, &len)) != 0) {
			rc = rc < 0 ? -1 : 0;
			goto out;
		}
		b64 = resp;
	}
	if (len == 1 && b64[0] == '=')
		len = 0;   /* RFC 5034: "=" is an empty initial response */
	if ((n = pop3_base64_decode(b64, len, dec, sizeof dec)) < 0) {
		p->errors++;
		rc = pop3_reply(p->s, P3_AUTH_BAD_BASE64);
		goto out;
	}
	rc = auth_plain(p, dec, (size_t)n);
out:
	wipe(resp, sizeof resp);
	wipe(dec, sizeof dec);
	return rc;
}

int pop3_cmd_auth(struct pop3 *p, char *args)
{
	char *sp;

	if (!tls_active(p->s))
		return refuse_plaintext(p);
	if (*args == '\0') {
		/* RFC 1734 clients probe with a bare AUTH for the mechanisms. */
		if (pop3_reply(p->s, P3_MECHANISMS) < 0)
			return -1;
		return stream_puts(p->s, "PLAIN\r\n.\r\n");
	}
	if ((sp = strchr(args, ' ')) != NULL)
		*sp++ = '\0';
	if (strcasecmp(args, "PLAIN") != 0) {
		p->errors++;
		return pop3_reply(p->s, P3_AUTH_BAD_MECH);
	}
	return auth_plain_cmd(p, sp);
}
