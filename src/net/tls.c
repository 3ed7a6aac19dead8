#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#define MSGW_NET_STREAM_IMPL   /* may see the fields of struct stream */
#include "net/stream-internal.h"
#include "net/sni.h"
#include "net/tls.h"
#include "util/log.h"
#include "util/path.h"

struct tls_conn {
	gnutls_session_t session;
	gnutls_certificate_credentials_t cred;
	/* Server: the ClientHello GnuTLS is parsing (its own buffer, seen by
	 * the CLIENT_HELLO hook; NULL outside that message). */
	uint8_t *hello;
	size_t hello_len;
};

/* TLS 1.2 and 1.3 only, AEAD ciphers with forward secrecy. AES-GCM first:
 * with AES-NI it is several times faster than ChaCha20 in GnuTLS here, and
 * the proxy pays for two TLS hops per message. */
#define PRIO_12 "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE"
/* A client that can verify RSA signatures only (the port probe's second look). */
#define SIGN_RSA ":-SIGN-ALL:+SIGN-RSA-SHA256:+SIGN-RSA-SHA384:+SIGN-RSA-SHA512:+SIGN-RSA-PSS-RSAE-SHA256:+SIGN-RSA-PSS-RSAE-SHA384:+SIGN-RSA-PSS-RSAE-SHA512"
#define PRIO_13 "SECURE128:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:%SERVER_PRECEDENCE"

static ssize_t pull(gnutls_transport_ptr_t p, void *buf, size_t n)
{
	struct stream *s = p;
	ssize_t r = stream_raw_read(s, buf, n);

	if (r < 0)
		errno = EIO;   /* a timeout is recorded in s->err; gnutls sees a hard error */
	return r;
}

static ssize_t push(gnutls_transport_ptr_t p, const void *buf, size_t n)
{
	struct stream *s = p;
	ssize_t w = stream_raw_write(s, buf, n);

	if (w < 0)
		errno = EIO;
	return w;
}

static void tls_free(struct tls_conn *t)
{
	if (t == NULL)
		return;
	if (t->session)
		gnutls_deinit(t->session);
	if (t->cred)
		gnutls_certificate_free_credentials(t->cred);
	free(t);
}

static int handshake(struct stream *s, struct tls_conn *t, int timeout_s)
{
	int saved = s->timeout_ms, rc;

	gnutls_transport_set_ptr(t->session, s);
	gnutls_transport_set_pull_function(t->session, pull);
	gnutls_transport_set_push_function(t->session, push);
	s->timeout_ms = timeout_s * 1000;
	do {
		rc = gnutls_handshake(t->session);
	} while (rc < 0 && !gnutls_error_is_fatal(rc) && s->err == STREAM_OK);
	s->timeout_ms = saved;
	if (rc < 0) {
		if (s->err == STREAM_OK)
			stream_set_error(s, STREAM_TLS, "TLS handshake failed: %s", gnutls_strerror(rc));
		else
			snprintf(s->errmsg, sizeof s->errmsg, "TLS handshake failed: %s",
				 s->err == STREAM_TIMEOUT ? "timed out" : "connection lost");
		return -1;
	}
	s->tls = t;
	return 0;
}

/* msgw-acme installs a new pair by two renames: a connection that lands
 * between them sees a key that does not match the certificate. Such a
 * mismatch is retried briefly instead of failing the handshake. */
#define TLS_FILE_MAX (1024 * 1024)

static int preload_pair(struct tls_pem *p, const char *cert, const char *key)
{
	if (read_file_bounded(cert, TLS_FILE_MAX, &p->cert, &p->cert_len) < 0)
		return -1;
	return read_file_bounded(key, TLS_FILE_MAX, &p->key, &p->key_len);
}

static int rsa_pair_configured(const struct config *cfg)
{
	return cfg->tls.rsa_cert != NULL && cfg->tls.rsa_cert[0] != '\0' &&
	       !(access(cfg->tls.rsa_cert, F_OK) < 0 && errno == ENOENT);
}

int tls_server_preload(struct config *cfg)
{
	if (preload_pair(&cfg->tls_preload, cfg->tls.cert, cfg->tls.key) < 0)
		return -1;
	if (!rsa_pair_configured(cfg))
		return 0;
	return preload_pair(&cfg->tls_rsa_preload, cfg->tls.rsa_cert, cfg->tls.rsa_key);
}

int tls_server_ready(const struct config *cfg)
{
	if (cfg->tls_preload.cert && cfg->tls_preload.key)
		return 1;
	return cfg->tls.cert && cfg->tls.key && access(cfg->tls.cert, R_OK) == 0 &&
	       access(cfg->tls.key, R_OK) == 0;
}

static int load_preloaded(gnutls_certificate_credentials_t cred, const struct tls_pem *p)
{
	gnutls_datum_t c = { (unsigned char *)p->cert, (unsigned)p->cert_len };
	gnutls_datum_t k = { (unsigned char *)p->key, (unsigned)p->key_len };

	return gnutls_certificate_set_x509_key_mem2(cred, &c, &k, GNUTLS_X509_FMT_PEM, NULL, 0);
}

static int load_pair(gnutls_certificate_credentials_t cred, const char *cert, const char *key)
{
	int rc = GNUTLS_E_CERTIFICATE_KEY_MISMATCH;

	for (int i = 0; i < 5 && rc == GNUTLS_E_CERTIFICATE_KEY_MISMATCH; i++) {
		if (i > 0) {
			struct timespec ts = { 0, 20 * 1000000L };
			nanosleep(&ts, NULL);
		}
		rc = gnutls_certificate_set_x509_key_file2(cred, cert, key, GNUTLS_X509_FMT_PEM, NULL, 0);
	}
	return rc;
}

/* The second (RSA) pair is optional: loaded when its certificate exists.
 * GnuTLS then picks, per client, a pair its signature algorithms allow. */
static int load_second_pair(struct stream *s, gnutls_certificate_credentials_t cred,
			    const struct config *cfg)
{
	int rc;

	if (cfg->tls_rsa_preload.key)
		rc = load_preloaded(cred, &cfg->tls_rsa_preload);
	else if (!rsa_pair_configured(cfg))
		return 0;
	else
		rc = load_pair(cred, cfg->tls.rsa_cert, cfg->tls.rsa_key);
	if (rc < 0) {
		stream_set_error(s, STREAM_TLS, "cannot load %s / %s: %s", cfg->tls.rsa_cert,
				 cfg->tls.rsa_key, gnutls_strerror(rc));
		return -1;
	}
	return 0;
}

/* An invalid server name from a client is ignored, not fatal: mpop and
 * msmtp with "host ::1" send "::1", which RFC 6066 forbids and GnuTLS 3.7
 * refuses while it parses the ClientHello (server_name is parsed in the
 * GNUTLS_EXT_MANDATORY pass and cannot be overridden). So the bad name is
 * taken out of GnuTLS's copy of the message between the moment the message
 * enters the handshake transcript and that pass. _gnutls_recv_handshake
 * runs the PRE hook, then appends the message to the transcript, then
 * read_client_hello parses the extensions in passes, GNUTLS_EXT_VERSION_NEG
 * before GNUTLS_EXT_MANDATORY. The hook notes where the message is; the
 * ec_point_formats extension (11; GnuTLS lets an application override it,
 * and OpenSSL and GnuTLS clients send it for TLS 1.2 and 1.3 alike) is
 * taken over and parsed in the VERSION_NEG pass, where the names are
 * checked and a bad one's name_type is changed so the parser skips it. The
 * transcript keeps the client's bytes, so Finished matches. A client that
 * sends no ec_point_formats gets GnuTLS's refusal, as before. */
#define EXT_POINT_FORMATS 11

static int hello_hook(gnutls_session_t ss, unsigned htype, unsigned when, unsigned incoming,
		      const gnutls_datum_t *msg)
{
	struct tls_conn *t = gnutls_session_get_ptr(ss);

	if (htype == GNUTLS_HANDSHAKE_CLIENT_HELLO && incoming && when == GNUTLS_HOOK_PRE) {
		t->hello = msg->data;
		t->hello_len = msg->size;
	} else {
		t->hello = NULL;
	}
	return 0;
}

static int inside(const unsigned char *p, size_t n, const uint8_t *buf, size_t len)
{
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)buf;

	return a >= b && a - b <= len && n <= len - (a - b);
}

static void ignore_bad_names(struct tls_conn *t)
{
	struct sni_name first;
	char name[80], q[128];
	size_t n = sni_ignore_invalid(t->hello, t->hello_len, &first);

	if (n == 0)
		return;
	sni_printable(name, sizeof name, t->hello + first.name_at, first.len);
	log_debug("event=tls_sni_ignored names=%zu name=%s", n, log_q(q, sizeof q, name));
}

/* GnuTLS's own ec_point_formats, which this replaces: a client must send
 * at least one byte; a TLS 1.2 ServerHello with ECDHE says "uncompressed". */
static int point_formats_recv(gnutls_session_t ss, const unsigned char *data, size_t len)
{
	struct tls_conn *t = gnutls_session_get_ptr(ss);

	if (len < 1)
		return GNUTLS_E_RECEIVED_ILLEGAL_EXTENSION;
	if (t->hello && inside(data, len, t->hello, t->hello_len))
		ignore_bad_names(t);
	t->hello = NULL;
	return 0;
}

static int point_formats_send(gnutls_session_t ss, gnutls_buffer_t out)
{
	static const unsigned char uncompressed[2] = { 1, 0 };
	gnutls_kx_algorithm_t kx = gnutls_kx_get(ss);
	int rc;

	if (kx != GNUTLS_KX_ECDHE_ECDSA && kx != GNUTLS_KX_ECDHE_RSA && kx != GNUTLS_KX_ECDHE_PSK)
		return 0;
	if ((rc = gnutls_buffer_append_data(out, uncompressed, sizeof uncompressed)) < 0)
		return rc;
	return sizeof uncompressed;
}

/* Should a later GnuTLS refuse the override, TLS goes on without it. */
static void tolerate_bad_names(struct tls_conn *t)
{
	unsigned flags = GNUTLS_EXT_FLAG_TLS | GNUTLS_EXT_FLAG_CLIENT_HELLO |
			 GNUTLS_EXT_FLAG_TLS12_SERVER_HELLO | GNUTLS_EXT_FLAG_OVERRIDE_INTERNAL;
	int rc = gnutls_session_ext_register(t->session, "ec_point_formats", EXT_POINT_FORMATS,
					     GNUTLS_EXT_VERSION_NEG, point_formats_recv,
					     point_formats_send, NULL, NULL, NULL, flags);

	if (rc < 0) {
		log_debug("event=tls_sni_tolerance error=\"%s\"", gnutls_strerror(rc));
		return;
	}
	gnutls_session_set_ptr(t->session, t);
	gnutls_handshake_set_hook_function(t->session, GNUTLS_HANDSHAKE_CLIENT_HELLO, GNUTLS_HOOK_BOTH,
					   hello_hook);
}

int tls_server_start(struct stream *s, const struct config *cfg)
{
	struct tls_conn *t;
	int rc;

	if (s->tls) {
		stream_set_error(s, STREAM_TLS, "TLS already active");
		return -1;
	}
	if (stream_flush(s) < 0)
		return -1;
	stream_discard_pending(s);   /* nothing sent before the handshake counts */
	if ((t = calloc(1, sizeof *t)) == NULL) {
		stream_set_error(s, STREAM_TLS, "out of memory");
		return -1;
	}
	if ((rc = gnutls_certificate_allocate_credentials(&t->cred)) < 0)
		goto fail;
	rc = cfg->tls_preload.key ? load_preloaded(t->cred, &cfg->tls_preload)
				  : load_pair(t->cred, cfg->tls.cert, cfg->tls.key);
	if (rc < 0) {
		stream_set_error(s, STREAM_TLS, "cannot load %s / %s: %s", cfg->tls.cert,
				 cfg->tls.key, gnutls_strerror(rc));
		tls_free(t);
		return -1;
	}
	if (load_second_pair(s, t->cred, cfg) < 0) {
		tls_free(t);
		return -1;
	}
	if ((rc = gnutls_init(&t->session, GNUTLS_SERVER | GNUTLS_NO_SIGNAL)) < 0 ||
	    (rc = gnutls_priority_set_direct(t->session, cfg->tls.min_version >= 13 ? PRIO_13 : PRIO_12, NULL)) < 0 ||
	    (rc = gnutls_credentials_set(t->session, GNUTLS_CRD_CERTIFICATE, t->cred)) < 0)
		goto fail;
	gnutls_certificate_server_set_request(t->session, GNUTLS_CERT_IGNORE);
	tolerate_bad_names(t);
	if (handshake(s, t, cfg->tls.handshake_timeout) < 0) {
		tls_free(t);
		return -1;
	}
	return 0;
fail:
	stream_set_error(s, STREAM_TLS, "TLS set-up failed: %s", gnutls_strerror(rc));
	tls_free(t);
	return -1;
}

static int is_ip_literal(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

/* After a failed verification, say why ("The certificate has expired."). */
static void verify_detail(struct stream *s, struct tls_conn *t)
{
	unsigned status = gnutls_session_get_verify_cert_status(t->session);
	gnutls_datum_t d = { NULL, 0 };
	size_t len;

	if (status == 0 || gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &d, 0) < 0)
		return;
	len = strlen((char *)d.data);
	while (len > 0 && d.data[len - 1] == ' ')
		len--;
	snprintf(s->errmsg, sizeof s->errmsg, "TLS handshake failed: certificate verification failed: %.*s",
		 (int)len, (char *)d.data);
	gnutls_free(d.data);
}

int tls_client_start(struct stream *s, const struct tls_client_opts *o)
{
	struct tls_conn *t;
	int rc;

	if (stream_flush(s) < 0)
		return -1;
	stream_discard_pending(s);
	if ((t = calloc(1, sizeof *t)) == NULL) {
		stream_set_error(s, STREAM_TLS, "out of memory");
		return -1;
	}
	if ((rc = gnutls_certificate_allocate_credentials(&t->cred)) < 0)
		goto fail;
	if (o->system_trust && (rc = gnutls_certificate_set_x509_system_trust(t->cred)) < 0)
		goto fail;
	if (o->ca_file && *o->ca_file &&
	    (rc = gnutls_certificate_set_x509_trust_file(t->cred, o->ca_file, GNUTLS_X509_FMT_PEM)) <= 0) {
		stream_set_error(s, STREAM_TLS, "%s: no usable CA certificate: %s", o->ca_file,
				 rc < 0 ? gnutls_strerror(rc) : "file holds none");
		tls_free(t);
		return -1;
	}
	if ((rc = gnutls_init(&t->session, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL)) < 0 ||
	    (rc = gnutls_priority_set_direct(t->session, o->rsa_only ? PRIO_12 SIGN_RSA : PRIO_12, NULL)) < 0 ||
	    (rc = gnutls_credentials_set(t->session, GNUTLS_CRD_CERTIFICATE, t->cred)) < 0)
		goto fail;
	if (!is_ip_literal(o->host) &&
	    (rc = gnutls_server_name_set(t->session, GNUTLS_NAME_DNS, o->host, strlen(o->host))) < 0)
		goto fail;
	/* Chain and host name (or IP address) are checked during the handshake. */
	gnutls_session_set_verify_cert(t->session, o->host, 0);
	if (handshake(s, t, o->handshake_timeout) < 0) {
		verify_detail(s, t);
		tls_free(t);
		return -1;
	}
	return 0;
fail:
	stream_set_error(s, STREAM_TLS, "TLS set-up failed: %s", gnutls_strerror(rc));
	tls_free(t);
	return -1;
}

int tls_active(const struct stream *s)
{
	return s->tls != NULL;
}

const char *tls_describe(const struct stream *s, char *out, size_t size)
{
	gnutls_session_t ss;
	const char *suite;

	if (!s->tls) {
		snprintf(out, size, "none");
		return out;
	}
	ss = s->tls->session;
	suite = gnutls_ciphersuite_get(ss);
	snprintf(out, size, "%s %s", gnutls_protocol_get_name(gnutls_protocol_get_version(ss)),
		 suite ? suite : "unknown");
	return out;
}

ssize_t tls_read(struct stream *s, void *buf, size_t n)
{
	for (;;) {
		ssize_t r = gnutls_record_recv(s->tls->session, buf, n);

		if (r >= 0)
			return r;
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r == GNUTLS_E_PREMATURE_TERMINATION && s->err == STREAM_OK)
			return 0;   /* peer closed without close_notify: treat as EOF */
		stream_set_error(s, STREAM_TLS, "TLS read: %s", gnutls_strerror((int)r));
		return -1;
	}
}

ssize_t tls_write(struct stream *s, const void *buf, size_t n)
{
	for (;;) {
		ssize_t w = gnutls_record_send(s->tls->session, buf, n);

		if (w >= 0)
			return w;
		if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED)
			continue;
		stream_set_error(s, STREAM_TLS, "TLS write: %s", gnutls_strerror((int)w));
		return -1;
	}
}

size_t tls_pending(const struct stream *s)
{
	return s->tls ? gnutls_record_check_pending(s->tls->session) : 0;
}

void tls_end(struct stream *s, int send_bye)
{
	if (send_bye) {
		int saved = s->timeout_ms;
		s->timeout_ms = 2000;   /* do not hang on a peer that stopped reading */
		(void)gnutls_bye(s->tls->session, GNUTLS_SHUT_WR);
		s->timeout_ms = saved;
	}
	tls_free(s->tls);
	s->tls = NULL;
}

int tls_peer_expiry(const struct stream *s, time_t *until)
{
	const gnutls_datum_t *certs;
	gnutls_x509_crt_t crt;
	unsigned n = 0;
	int rc;

	if (!s->tls || (certs = gnutls_certificate_get_peers(s->tls->session, &n)) == NULL || n == 0)
		return -1;
	if (gnutls_x509_crt_init(&crt) < 0)
		return -1;
	rc = gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER);
	if (rc >= 0)
		*until = gnutls_x509_crt_get_expiration_time(crt);
	gnutls_x509_crt_deinit(crt);
	return rc < 0 || *until == (time_t)-1 ? -1 : 0;
}
