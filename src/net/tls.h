/* TLS on a stream, with GnuTLS: server sessions (implicit TLS and STARTTLS)
 * and verified client sessions (proxy upstreams, ACME). Only this file and
 * src/crypt include GnuTLS headers. */
#ifndef MSGW_NET_TLS_H
#define MSGW_NET_TLS_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "net/stream.h"

struct config;

/* Start a server session: reads tls.cert and tls.key (and the RSA
 * pair tls.rsa_cert/tls.rsa_key when that file exists) now (so a renewed
 * certificate is used by the next connection without a restart), drops any
 * plaintext still buffered, handshakes within tls.handshake_timeout.
 * A client's server name chooses nothing; one that is no DNS host name (an
 * IP literal, a NUL...) is ignored rather than fatal (net/sni.h).
 * 0 on success; -1 with s->errmsg. */
int tls_server_start(struct stream *s, const struct config *cfg);
/* Privilege separation: read tls.cert and tls.key now, as root, into
 * cfg->tls_preload, which tls_server_start then uses instead of the files.
 * -1 with errno. */
int tls_server_preload(struct config *cfg);
/* Whether tls_server_start can load a certificate: preloaded or readable. */
int tls_server_ready(const struct config *cfg);

struct tls_client_opts {
	const char *host;       /* verified against the certificate; SNI unless an IP */
	const char *ca_file;    /* extra trust (PEM), may be NULL or "" */
	int system_trust;       /* also trust the system store */
	int handshake_timeout;  /* seconds */
	int rsa_only;           /* accept RSA signatures only (probing a second pair) */
};
int tls_client_start(struct stream *s, const struct tls_client_opts *o);
/* The expiry time of the leaf certificate the peer presented. 0 or -1. */
int tls_peer_expiry(const struct stream *s, time_t *until);

/* "TLSv1.3 TLS_AES_256_GCM_SHA384", or "none". */
const char *tls_describe(const struct stream *s, char *out, size_t size);
int tls_active(const struct stream *s);

/* For net/stream.c. */
ssize_t tls_read(struct stream *s, void *buf, size_t n);
ssize_t tls_write(struct stream *s, const void *buf, size_t n);
size_t tls_pending(const struct stream *s);
void tls_end(struct stream *s, int send_bye);

#endif
