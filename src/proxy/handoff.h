/* The proxy hand-off: how a front end (msgw-smtp, msgw-pop3, msgw-proxy)
 * turns a session into the recording proxy once the client is on TLS and
 * has sent a log-in of the form remote_user%target_server%mailbox_id.
 *
 * The caller owns the client stream and keeps owning it: it has already
 * greeted the client, run STARTTLS/STLS (or came on implicit TLS), read the
 * log-in and password, and must not have answered the AUTH/PASS yet. The
 * takeover answers it (success or failure), and on success relays the rest
 * of the session to its end. Credentials are only read: the caller wipes
 * its own copies after the call; the proxy wipes every copy it makes.
 *
 * The takeover checks, before anything goes upstream: proxy.enabled, that
 * the client is on TLS (else 530 / -ERR [PRIVACY]: a caller bug, but no
 * credential sent in clear is ever relayed), the log-in syntax, the
 * client's address against proxy.allowed_networks, the target and port
 * against proxy.allowed_targets, and that the mailbox exists, is a proxy
 * mailbox, is active and admits the client's address. Every refusal
 * before the upstream has answered the credentials (those, and an
 * upstream that cannot be reached, fails TLS or is no mail server) is one
 * text (535 5.7.8 / -ERR [AUTH] Authentication failed) after
 * pop3.login_failure_delay; the reason is logged only. A caller that
 * wants % names to be plain names when the proxy is disabled checks
 * proxy.enabled itself. */
#ifndef MSGW_PROXY_HANDOFF_H
#define MSGW_PROXY_HANDOFF_H

#include <stddef.h>

#include "net/frontend.h"
#include "net/stream.h"

enum proxy_outcome {
	/* The session was relayed and is over (QUIT, disconnect, timeout):
	 * the caller shuts the client stream down and exits. */
	PROXY_FINISHED = 0,
	/* The log-in was refused and the refusal (SMTP 4xx/5xx to AUTH, POP3
	 * -ERR to PASS/AUTH) has been sent; the client is still in the
	 * authorization state and may try again (count it as a failure). */
	PROXY_REFUSED = 1,
};

/* Does this log-in name ask for the proxy (contains '%')? */
int proxy_login_wanted(const char *login);

/* SMTP: after AUTH PLAIN or AUTH LOGIN on TLS. The reply to AUTH is the
 * upstream's own (235 on success) or the proxy's refusal. */
int proxy_smtp_takeover(struct stream *client, const struct frontend *fe, const char *peer,
                        const char *login, const char *password, size_t plen);

/* How the POP3 client authenticated: the same method is used upstream. */
enum proxy_pop3_auth { PROXY_POP3_USER_PASS = 0, PROXY_POP3_SASL_PLAIN = 1 };

/* POP3: after USER+PASS or AUTH PLAIN on TLS. */
int proxy_pop3_takeover(struct stream *client, const struct frontend *fe, const char *peer,
                        const char *login, const char *password, size_t plen,
                        enum proxy_pop3_auth how);

#endif
