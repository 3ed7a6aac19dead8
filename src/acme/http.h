/* HTTPS requests for ACME with libcurl: every body bounded, a timeout on
 * every request, the headers ACME needs captured, and transport failures
 * described (DNS, connection, TLS, timeout). No retries here: the ACME layer
 * retries, because a retried POST needs a new nonce. */
#ifndef MSGW_ACME_HTTP_H
#define MSGW_ACME_HTTP_H

#include <stddef.h>

#include "acme/internal.h"
#include "util/buf.h"

#define HTTP_BODY_MAX (1024 * 1024)
#define HTTP_CONNECT_TIMEOUT 15L
#define HTTP_TIMEOUT 60L

struct http;

struct http_resp {
	long status;
	struct buf body;          /* at most HTTP_BODY_MAX */
	char nonce[256];          /* Replay-Nonce */
	char location[2048];      /* Location */
	char content_type[128];
	long retry_after;         /* seconds from now; -1 when absent */
};

/* ca_file: extra trust (PEM) besides the system store; NULL or "" for none. */
int http_open(struct http **out, const char *ca_file, struct acme_err *e);
void http_close(struct http *h);

void http_resp_init(struct http_resp *r);
void http_resp_free(struct http_resp *r);

/* method "GET", "HEAD" or "POST" (body sent as application/jose+json).
 * 0 when an HTTP response arrived (any status), -1 on a transport failure
 * with e saying what failed; *transient set when a retry may help. */
int http_request(struct http *h, const char *method, const char *url, const char *body,
		 size_t len, struct http_resp *r, int *transient, struct acme_err *e);

#endif
