/* Parsing the proxy log-in name remote_user%target_server%mailbox_id and
 * checking the target against proxy.allowed_targets. */
#include "config.h"

#include <stdio.h>

#include <errno.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "proxy/handoff.h"
#include "proxy/proxy.h"
#include "util/log.h"

int proxy_login_wanted(const char *login)
{
	return login != NULL && strchr(login, '%') != NULL;
}

static int host_char_ok(int c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_';
}

/* host, host:port, [v6], [v6]:port. */
static int parse_target(const char *s, size_t n, struct proxy_target *t)
{
	const char *host = s, *port = NULL;
	size_t hlen = n, plen = 0, i;
	unsigned long pnum;
	char *end;

	if (n > 0 && s[0] == '[') {
		const char *rb = memchr(s, ']', n);
		if (rb == NULL)
			return -1;
		host = s + 1;
		hlen = (size_t)(rb - host);
		if ((size_t)(rb + 1 - s) < n) {
			if (rb[1] != ':')
				return -1;
			port = rb + 2;
			plen = n - (size_t)(port - s);
		}
		for (i = 0; i < hlen; i++)
			if (!isxdigit((unsigned char)host[i]) && host[i] != ':' && host[i] != '.')
				return -1;
	} else {
		const char *colon = memchr(s, ':', n);
		if (colon) {
			hlen = (size_t)(colon - s);
			port = colon + 1;
			plen = n - hlen - 1;
		}
		for (i = 0; i < hlen; i++)
			if (!host_char_ok(host[i]))
				return -1;
	}
	if (hlen == 0 || hlen >= sizeof t->host)
		return -1;
	memcpy(t->host, host, hlen);
	t->host[hlen] = '\0';
	t->port[0] = '\0';
	if (port) {
		if (plen == 0 || plen >= sizeof t->port)
			return -1;
		for (i = 0; i < plen; i++)
			if (!isdigit((unsigned char)port[i]))
				return -1;
		memcpy(t->port, port, plen);
		t->port[plen] = '\0';
		pnum = strtoul(t->port, &end, 10);
		if (pnum == 0 || pnum > 65535)
			return -1;
	}
	return 0;
}

int proxy_login_parse(const char *login, struct proxy_target *t, const char **why)
{
	const char *last, *mid, *p;
	size_t ulen, i;

	memset(t, 0, sizeof *t);
	*why = "log-in name must be remote_user%target_server%mailbox_id";
	for (p = login; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -1;
	last = strrchr(login, '%');
	if (last == NULL)
		return -1;
	for (mid = last; mid > login && mid[-1] != '%'; mid--)
		;
	if (mid == login)
		return -1;
	mid--; /* the second-to-last '%' */
	ulen = (size_t)(mid - login);
	if (ulen == 0 || ulen >= sizeof t->user) {
		*why = "remote user name missing or too long";
		return -1;
	}
	memcpy(t->user, login, ulen);
	if (parse_target(mid + 1, (size_t)(last - mid - 1), t) < 0) {
		*why = "bad target server (host or host:port)";
		return -1;
	}
	p = last + 1;
	if (strlen(p) != MAILBOX_ID_LEN) {
		*why = "bad gateway mailbox id";
		return -1;
	}
	for (i = 0; i < MAILBOX_ID_LEN; i++)
		t->mailbox[i] = (char)tolower((unsigned char)p[i]);
	if (!mailbox_id_valid(t->mailbox)) {
		*why = "bad gateway mailbox id";
		return -1;
	}
	return 0;
}

static const char *const smtp_ports[] = {"25", "465", "587", NULL};
static const char *const pop3_ports[] = {"110", "995", NULL};
const struct proxy_proto proxy_smtp = {"smtp", "465", "587", smtp_ports};
const struct proxy_proto proxy_pop3 = {"pop3", "995", "110", pop3_ports};

const char *proxy_target_ca(const struct strlist *list, const char *host)
{
	for (size_t i = 0; i < list->n; i++) {
		const char *eq = strchr(list->v[i], '=');
		char pat[256];
		size_t pl;

		if (eq == NULL || (pl = (size_t)(eq - list->v[i])) >= sizeof pat)
			continue;   /* refused when the configuration was loaded */
		memcpy(pat, list->v[i], pl);
		pat[pl] = '\0';
		if (proxy_host_match(pat, host))
			return eq + 1;
	}
	return NULL;
}

void proxy_log_login(const char *proto, const struct proxy_target *t, const char *result,
		     const char *detail)
{
	char u[PROXY_USER_MAX + 8], d[200];

	log_info("event=proxy_login proto=%s user=%s target=%s:%s mailbox=%s result=%s%s%s", proto,
		 log_q(u, sizeof u, t->user), t->host, t->port, t->mailbox, result,
		 detail ? " detail=" : "", detail ? log_q(d, sizeof d, detail) : "");
}

void proxy_refusal_delay(const struct config *cfg, long long start_ms)
{
	long long when = start_ms + cfg->pop3.login_failure_delay, left;

	/* bounded: each round sleeps what is left (at most 60 s by the config
	 * limit); EINTR only shortens a round */
	for (int i = 0; i < 100 && (left = when - stream_now_ms()) > 0; i++) {
		struct timespec ts = {(time_t)(left / 1000), (long)(left % 1000) * 1000000L};

		nanosleep(&ts, NULL);
	}
}

/* The mailbox: a proxy mailbox, active, that admits the client's network. */
static enum proxy_refusal check_box(const struct config *cfg, const struct proxy_client *cl,
				    const struct proxy_target *t, struct proxy_box *box)
{
	int e;

	if (box_open(box, cfg, t->mailbox) < 0) {
		e = errno;
		if (e == ENOENT) {
			proxy_log_login(cl->proto->name, t, "unknown_mailbox", NULL);
			return PROXY_UNKNOWN_BOX;
		}
		if (e == EPERM) {
			proxy_log_login(cl->proto->name, t, "mailbox_suspended", NULL);
			return PROXY_SUSPENDED_BOX;
		}
		proxy_log_login(cl->proto->name, t, "store_error", strerror(e));
		return PROXY_STORE_ERROR;
	}
	if (!box->mb.proxy) {
		proxy_log_login(cl->proto->name, t, "journal_mailbox", NULL);
		return PROXY_JOURNAL_BOX;
	}
	if (!cidr_allowed(box->mb.networks, box->mb.n_networks, cl->peer)) {
		proxy_log_login(cl->proto->name, t, "network_not_allowed", "mailbox allowed_networks");
		return PROXY_NETWORK;
	}
	return PROXY_OK;
}

enum proxy_refusal proxy_check_login(const struct config *cfg, const struct proxy_client *cl,
				     const char *login, struct proxy_target *t,
				     struct proxy_box *box)
{
	enum proxy_match m;
	const char *why;

	if (!cfg->proxy.enabled)
		return PROXY_DISABLED;
	if (!cl->tls)
		return PROXY_NO_TLS;
	if (proxy_login_parse(login, t, &why) < 0) {
		log_info("event=proxy_login proto=%s result=bad_login detail=\"%s\"", cl->proto->name, why);
		return PROXY_BAD_LOGIN;
	}
	if (t->port[0] == '\0')
		snprintf(t->port, sizeof t->port, "%s",
			 cl->implicit_tls ? cl->proto->implicit_port : cl->proto->starttls_port);
	if (!cidr_allowed(cfg->proxy.networks, cfg->proxy.n_networks, cl->peer)) {
		proxy_log_login(cl->proto->name, t, "network_not_allowed", "proxy.allowed_networks");
		return PROXY_NETWORK;
	}
	m = proxy_target_match(&cfg->proxy.allowed_targets, t->host, t->port, cl->proto->std_ports);
	if (m == MATCH_NONE) {
		proxy_log_login(cl->proto->name, t, "target_not_allowed", NULL);
		return PROXY_TARGET_DENIED;
	}
	t->literal = m == MATCH_LITERAL;
	return check_box(cfg, cl, t, box);
}
