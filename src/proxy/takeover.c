/* What the SMTP and POP3 takeovers (smtp.c, pop3.c) share: the session's
 * set-up, the checks and the refusal delay before the upstream answers,
 * the start of the relay and the end. Each takeover reads as the same
 * steps; the replies and the relay are its protocol's own. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "net/tls.h"
#include "proxy/proxy.h"
#include "util/wipe.h"

void proxy_session_init(struct proxy_session *ps, const struct proxy_proto *proto,
                        struct stream *client, const struct frontend *fe)
{
	ps->proto = proto;
	ps->c = client;
	ps->fe = fe;
	ps->cfg = &fe->app.cfg;
	ps->start = stream_now_ms();
	ps->up.fd = -1;
	tcp_nodelay(stream_wfd(client));
}

enum proxy_refusal proxy_session_check(struct proxy_session *ps, const char *peer,
                                       const char *login)
{
	const struct proxy_client cl = {ps->proto, peer, tls_active(ps->c), ps->fe->implicit_tls};

	return proxy_check_login(ps->cfg, &cl, login, &ps->t, &ps->box);
}

void proxy_session_log(const struct proxy_session *ps, const char *result, const char *detail)
{
	proxy_log_login(ps->proto->name, &ps->t, result, detail);
}

void proxy_session_upstream_failed(const struct proxy_session *ps, const char *step)
{
	const struct upstream *u = &ps->up;

	proxy_session_log(ps, "upstream_failed",
	                  u->fd >= 0 && stream_error(u->s) != STREAM_OK &&
	                          stream_error(u->s) != STREAM_TLS
	                      ? stream_strerror(u->s)
	                      : step);
}

char *proxy_auth_plain(const struct proxy_session *ps, const char *pass, size_t plen, size_t *size)
{
	size_t ulen = strlen(ps->t.user), mlen = ulen + plen + 2;
	char *msg = malloc(mlen), *line;

	*size = sizeof "AUTH PLAIN " + (mlen + 2) / 3 * 4;
	if (msg == NULL || (line = malloc(*size)) == NULL) {
		free(msg);
		return NULL;
	}
	msg[0] = '\0';
	memcpy(msg + 1, ps->t.user, ulen);
	msg[ulen + 1] = '\0';
	memcpy(msg + ulen + 2, pass, plen);
	memcpy(line, "AUTH PLAIN ", 11);
	if (b64_encode(msg, mlen, line + 11, *size - 11) < 0) { /* cannot: the size is exact */
		free(line);
		line = NULL;
	}
	wipe(msg, mlen);
	free(msg);
	return line;
}

void proxy_session_refusal_delay(const struct proxy_session *ps)
{
	proxy_refusal_delay(ps->cfg, ps->start);
}

void proxy_session_relay_start(struct proxy_session *ps, int timeout_ms)
{
	stream_login_done(ps->c);
	stream_set_timeout(ps->c, timeout_ms);
}

void proxy_session_end(struct proxy_session *ps, int send_quit)
{
	if (send_quit && ps->up.fd >= 0)
		(void)upstream_send(&ps->up, "QUIT");
	upstream_close(&ps->up);
	tee_abort(&ps->tee);
	(void)stream_flush(ps->c);
}
