/* Internals of the recording proxy, shared by its SMTP and POP3 halves. */
#ifndef MSGW_PROXY_PROXY_H
#define MSGW_PROXY_PROXY_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf/conf.h"
#include "net/frontend.h"
#include "crypt/b64.h"
#include "sasl/sasl.h"
#include "smtp/data.h"
#include "net/stream.h"
#include "store/store.h"

/* --- login.c: remote_user%target_server%mailbox_id --- */
#define PROXY_USER_MAX 256
#define PROXY_HOST_MAX 256

struct proxy_target {
	char user[PROXY_USER_MAX]; /* may itself contain '@' and '%' */
	char host[PROXY_HOST_MAX]; /* name or address, without brackets */
	char port[6];              /* decimal, "" when the log-in names none */
	char mailbox[MAILBOX_ID_LEN + 1];
	int literal;               /* allowed_targets names host itself, not by a wildcard */
};

/* Split on the last two '%'. -1 with a short reason for the client. */
int proxy_login_parse(const char *login, struct proxy_target *t, const char **why);
/* The CA file proxy.target_ca_files names for host, or NULL. */
const char *proxy_target_ca(const struct strlist *list, const char *host);

/* --- target.c: proxy.allowed_targets (see there for the rules) --- */
enum proxy_match { MATCH_NONE = 0, MATCH_WILDCARD, MATCH_LITERAL };
/* std_ports: the protocol's standard ports, NULL-terminated. */
enum proxy_match proxy_target_match(const struct strlist *patterns, const char *host,
                                    const char *port, const char *const *std_ports);
int proxy_pattern_valid(const char *pattern);
/* Name against a name pattern: exact (case-insensitive), "*", "*.domain". */
int proxy_host_match(const char *pat, const char *host);
struct sockaddr;
/* Loopback, private, link-local, unique-local, multicast, unspecified. */
int proxy_addr_special(const struct sockaddr *sa);
/* Does a pattern whose port rule admits port name this very address? */
int proxy_addr_listed(const struct strlist *patterns, const struct sockaddr *sa, const char *port,
                      const char *const *std_ports);

/* Why a log-in is refused before the upstream is involved. */
enum proxy_refusal {
	PROXY_OK = 0,
	PROXY_DISABLED,       /* proxy.enabled is false */
	PROXY_NO_TLS,         /* the client is not on TLS: a caller bug, never relayed */
	PROXY_BAD_LOGIN,      /* not remote_user%target_server%mailbox_id */
	PROXY_TARGET_DENIED,  /* not in proxy.allowed_targets */
	PROXY_NETWORK,        /* client outside proxy.allowed_networks or the mailbox's */
	PROXY_JOURNAL_BOX,    /* a journal mailbox, not a proxy mailbox */
	PROXY_UNKNOWN_BOX,
	PROXY_SUSPENDED_BOX,
	PROXY_STORE_ERROR,
	PROXY_REFUSALS
};
struct proxy_box;
/* The checks both protocols make, in order; refusals are logged here. On
 * PROXY_OK, t is filled (port defport when the log-in names none) and box
 * is open for the tee. */
/* What the checks need to know of a protocol. */
struct proxy_proto {
	const char *name;                    /* "smtp" or "pop3" */
	const char *implicit_port, *starttls_port; /* when the log-in names none */
	const char *const *std_ports;        /* NULL-terminated */
};
extern const struct proxy_proto proxy_smtp, proxy_pop3;

struct proxy_client {
	const struct proxy_proto *proto;
	const char *peer;                    /* numeric address */
	int tls;                             /* on TLS now */
	int implicit_tls;                    /* came on an implicit-TLS port */
};
enum proxy_refusal proxy_check_login(const struct config *cfg, const struct proxy_client *cl,
				     const char *login, struct proxy_target *t,
				     struct proxy_box *box);
/* Every refusal before the upstream has answered the credentials waits
 * until start + pop3.login_failure_delay, like a failed POP3 log-in. */
void proxy_refusal_delay(const struct config *cfg, long long start_ms);
/* "event=proxy_login proto=... user=... target=... mailbox=... result=..." */
void proxy_log_login(const char *proto, const struct proxy_target *t, const char *result,
		     const char *detail);

/* --- upstream.c: connection to the target server --- */
struct upstream {
	int fd;
	struct stream *s;
};

/* Resolve and connect within connect_timeout; the stream then uses
 * reply_timeout for every read and write. -1 with err filled. */
int upstream_connect(struct upstream *u, const struct config *cfg, const struct proxy_target *t,
                     const char *const *std_ports, char *err, size_t errlen);
/* TLS client handshake, chain and host name verified. */
int upstream_tls(struct upstream *u, const struct config *cfg, const char *host, char *err,
                 size_t errlen);
void upstream_close(struct upstream *u);
/* line and CR LF to the upstream, flushed: 0 or -1. */
int upstream_send(struct upstream *u, const char *line);
/* TCP_NODELAY on a socket (relayed data is buffered already). */
void tcp_nodelay(int fd);
/* Implicit TLS when the client came on implicit TLS or the port says so. */
int upstream_implicit(const char *port, int client_implicit);

/* --- tee.c: the recorded copy in the mailbox --- */
struct proxy_box {
	struct store st;
	struct mailbox mb;
};

/* Load the mailbox: 0, or -1 with errno (ENOENT unknown, EPERM suspended,
 * other: store trouble). */
int box_open(struct proxy_box *b, const struct config *cfg, const char *id);

struct tee {
	struct delivery *d;
	const char *dir; /* the mailbox directory, for the space check */
	const struct proxy_box *box; /* the mailbox, for its seen index */
	uint64_t bytes, max;
	int err; /* errno of the first failure, 0 while all is well */
};

/* Start a copy with the trace header already written. */
int tee_begin(struct tee *t, const struct proxy_box *b, const char *header, size_t hlen,
              uint64_t max);
int tee_write(struct tee *t, const void *p, size_t n);
/* Finish and fsync the copy (only the rename is left); -1 aborts it. */
int tee_ready(struct tee *t);
int tee_commit(struct tee *t);
void tee_abort(struct tee *t);
int tee_active(const struct tee *t);

/* A copy's commit (finish the encryption, fsync, rename, fsync new/) in
 * a thread of its own, so it overlaps with relaying the next message
 * instead of holding up the session. One at a time: start waits for the
 * previous one. With a seen key, the key is added to the mailbox's seen
 * index once the copy is committed. */
struct committer {
	pthread_t th;
	int running, threaded;
	int rc;         /* of tee_commit, once waited for */
	int seen_rc;    /* of seen_add, 0 when there was none */
	struct tee tee; /* owned by the thread while running */
	char key[33];   /* SEEN_KEY_LEN + 1; "" for none */
	size_t nrcpt;   /* for the caller's log line */
};
/* Takes over *t (t->d is NULL afterwards). */
void committer_start(struct committer *c, struct tee *t, const char *seen_key);
/* 1 when a commit was waited for (then see rc, seen_rc, tee), else 0. */
int committer_wait(struct committer *c);

/* --- seen.c: upstream UIDLs already recorded, per mailbox --- */
#define SEEN_KEY_LEN 32
#define SEEN_MAX_RECORDS 50000
/* The digest naming account+uidl (not secret: the parser computes it). */
void seen_key(const char *account, const char *uidl, char out[SEEN_KEY_LEN + 1]);
/* 1 seen, 0 not seen, -1 error (errno). Through the store helper under
 * privilege separation (the parser cannot write the mailbox folder). */
int seen_has(const struct proxy_box *b, const char *key);
int seen_add(const struct proxy_box *b, const char *key);
/* The same on the file <mbdir>/proxy-seen, whose records are the digest
 * keyed with the mailbox's secret (made on first use): for the store
 * helper, or a front end without privilege separation. */
int seen_file_has(const char *mbdir, const char *key);
int seen_file_add(const char *mbdir, const char *key);

/* --- data.c: dot-terminated bodies, both directions --- */
typedef int (*sink_fn)(void *ctx, const void *p, size_t n);
int sink_stream(void *ctx, const void *p, size_t n); /* ctx: struct stream */
int sink_tee(void *ctx, const void *p, size_t n);    /* ctx: struct tee */

struct body_result {
	int in_err;       /* the source failed before the terminator */
	int fwd_err;      /* a forward write failed (later bytes were dropped) */
	int tee_err;      /* the tee failed (later bytes not teed) */
	int too_long;     /* strict mode: a line over SMTP_DATA_LINE_MAX */
	uint64_t raw;     /* bytes read, terminator included */
	uint64_t content; /* the content, un-stuffed */
};
/* Read a body from in up to its terminator (mode: DATA_STRICT for a
 * client, DATA_UPSTREAM for a server), the content to tee (may be NULL),
 * the content dot-stuffed again to fwd (may be NULL), without the final
 * "." CRLF: the caller sends that once it decided to. Pipelined input
 * after the terminator stays in the stream. */
void body_relay(struct stream *in, enum data_mode mode, sink_fn fwd, void *fctx, sink_fn tee,
                void *tctx, struct body_result *r);

/* --- takeover.c: what the SMTP and POP3 takeovers share --- */
/* A proxy session's common part: the SMTP and POP3 sessions (struct sp
 * in smtp.c, struct pp in pop3.c) hold it as their member ps. */
struct proxy_session {
	const struct proxy_proto *proto;
	struct stream *c; /* the client, owned by the front end */
	const struct frontend *fe;
	const struct config *cfg;
	long long start;       /* when the log-in came: the refusal delay counts from here */
	struct upstream up;    /* fd -1 until connected */
	struct proxy_target t; /* from the log-in, once checked */
	struct proxy_box box;  /* the mailbox the copies go to */
	struct tee tee;        /* the copy being written */
	struct committer cm;   /* the copy being committed */
};

/* A log-in has come on client: no upstream yet, TCP_NODELAY on the client. */
void proxy_session_init(struct proxy_session *ps, const struct proxy_proto *proto,
                        struct stream *client, const struct frontend *fe);
/* The checks before the upstream is involved (proxy_check_login). */
enum proxy_refusal proxy_session_check(struct proxy_session *ps, const char *peer,
                                       const char *login);
/* "event=proxy_login ..." for this session's protocol and target. */
void proxy_session_log(const struct proxy_session *ps, const char *result, const char *detail);
/* The upstream failed at step before it answered the credentials: logged
 * with the stream's own error when it has one (a timeout, a reset). */
void proxy_session_upstream_failed(const struct proxy_session *ps, const char *step);
/* Before the uniform refusal goes out: the same delay as a failed log-in. */
void proxy_session_refusal_delay(const struct proxy_session *ps);
/* The upstream accepted the log-in: the client's log-in limit is over,
 * each read and write now waits at most timeout_ms. */
void proxy_session_relay_start(struct proxy_session *ps, int timeout_ms);
/* "AUTH PLAIN " and base64 of NUL user NUL password, the same command
 * line for SMTP (RFC 4954) and POP3 (RFC 5034): in a buffer of its own,
 * *size bytes, which the caller wipes and frees; NULL when out of memory. */
char *proxy_auth_plain(const struct proxy_session *ps, const char *pass, size_t plen, size_t *size);
/* The end (after the caller's last commit_wait): QUIT upstream when
 * send_quit, close it, drop an unfinished copy, flush the client. */
void proxy_session_end(struct proxy_session *ps, int send_quit);

/* --- reply helpers --- */
/* Does the (space-separated) line start with verb, case-insensitively? */
int verb_is(const char *line, const char *verb);

#endif
