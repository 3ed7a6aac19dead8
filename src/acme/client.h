/* An ACME (RFC 8555) client session against one directory: JWS requests
 * with nonce handling and bounded retries, the account, and one order from
 * newOrder to the downloaded chain. */
#ifndef MSGW_ACME_CLIENT_H
#define MSGW_ACME_CLIENT_H

#include <jansson.h>
#include <stddef.h>

#include "acme/http.h"
#include "acme/internal.h"
#include "acme/x509.h"

struct acme {
	struct http *http;
	json_t *dir;            /* the directory object */
	char dir_url[1024];
	const struct akey *key; /* account key (borrowed) */
	char kid[2048];         /* account URL, "" until acme_account */
	char nonce[256];
	char thumb[64];         /* JWK thumbprint for key authorizations */
};

struct order_opts {
	const char *const *names;
	size_t n;
	const char *profile;      /* "" or NULL: the CA's default */
	const char *replaces;     /* ARI certificate id, or NULL */
	const char *webroot;      /* NULL: built-in responder */
	const char *bind_addr;    /* "" = all */
	int port;
};

/* Fetch the directory. */
int acme_open(struct acme *a, const char *dir_url, const char *ca_file, const struct akey *key,
	      struct acme_err *e);
void acme_close(struct acme *a);
/* A directory URL ("renewalInfo") or NULL when not offered. */
const char *acme_dir_url(const struct acme *a, const char *name);
/* Create or find the account (terms agreed, contact email if not empty). */
int acme_account(struct acme *a, const char *email, struct acme_err *e);
/* Run one order for cert_key; the PEM chain the CA issued is appended to
 * chain_pem. */
int acme_order(struct acme *a, const struct order_opts *o, const struct akey *cert_key,
	       struct buf *chain_pem, struct acme_err *e);
/* GET url (with retries) and parse a JSON object; the response headers are
 * left in r (Retry-After for ARI). */
int acme_get_json(struct acme *a, const char *url, struct http_resp *r, json_t **out,
		  struct acme_err *e);

#endif
