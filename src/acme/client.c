#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "acme/client.h"
#include "acme/responder.h"
#include "acme/state.h"
#include "util/log.h"

#define ERR_PREFIX "urn:ietf:params:acme:error:"
/* Bounded retries: transport failures and 5xx back off 1, then 2 s; a
 * badNonce is retried at once with the nonce that came with it. */
#define MAX_ATTEMPTS 3
#define MAX_BADNONCE 10
/* Longest Retry-After we wait for inside one run; longer ones are reported. */
#define MAX_WAIT_S 30
/* Polling an authorization or order: at most this long in all. */
#define POLL_DEADLINE_S 180

static void sleep_s(long s)
{
	if (s > 0)
		sleep((unsigned)s);
}

static long backoff(int attempt, long retry_after)
{
	long s = 1L << attempt;

	if (retry_after >= 0)
		s = retry_after;
	return s > MAX_WAIT_S ? MAX_WAIT_S : s;
}

/* What an error document says, in words an operator can act on. */
static int problem(const struct http_resp *r, const char *what, struct acme_err *e)
{
	struct acme_err je;
	json_t *j = json_parse_bounded(r->body.data ? r->body.data : "", r->body.len, &je);
	const char *type = j ? json_string_value(json_object_get(j, "type")) : NULL;
	const char *detail = j ? json_string_value(json_object_get(j, "detail")) : NULL;
	const char *kind = "CA error";
	char after[64] = "";

	if (type && strncmp(type, ERR_PREFIX, strlen(ERR_PREFIX)) == 0)
		type += strlen(ERR_PREFIX);
	if (type) {
		if (strcmp(type, "rateLimited") == 0)
			kind = "rate limit reached";
		else if (strcmp(type, "dns") == 0)
			kind = "DNS problem";
		else if (strcmp(type, "connection") == 0)
			kind = "the CA could not connect to the challenge port";
		else if (strcmp(type, "caa") == 0)
			kind = "a CAA record forbids this CA";
		else if (strcmp(type, "unauthorized") == 0 || strcmp(type, "incorrectResponse") == 0)
			kind = "validation failed";
	}
	if (r->retry_after >= 0)
		snprintf(after, sizeof after, "; retry after %ld s", r->retry_after);
	if (j == NULL || type == NULL) {
		aerr(e, "%s: %s: HTTP %ld: %.300s%s", what, kind, r->status,
		     r->body.data ? r->body.data : "", after);
	} else {
		aerr(e, "%s: %s: %s (%s, HTTP %ld)%s", what, kind, detail ? detail : "", type, r->status,
		     after);
	}
	json_decref(j);
	return -1;
}

/* Is this response the error document "type"? */
static int is_problem(const struct http_resp *r, const char *type)
{
	json_t *j;
	const char *t;
	int yes;

	if (r->status < 400 || strstr(r->content_type, "problem+json") == NULL)
		return 0;
	j = json_parse_bounded(r->body.data ? r->body.data : "", r->body.len, NULL);
	t = j ? json_string_value(json_object_get(j, "type")) : NULL;
	yes = t && strncmp(t, ERR_PREFIX, strlen(ERR_PREFIX)) == 0 &&
	      strcmp(t + strlen(ERR_PREFIX), type) == 0;
	json_decref(j);
	return yes;
}

/* GET or HEAD with bounded retries; a 5xx answer is retried too. */
static int request_retry(struct acme *a, const char *method, const char *url, struct http_resp *r,
			 struct acme_err *e)
{
	for (int attempt = 0;; attempt++) {
		int transient = 0;
		int rc = http_request(a->http, method, url, NULL, 0, r, &transient, e);
		if (rc == 0 && r->nonce[0])
			snprintf(a->nonce, sizeof a->nonce, "%s", r->nonce);
		if (rc == 0 && r->status < 500)
			return 0;
		if (attempt + 1 >= MAX_ATTEMPTS || (rc < 0 && !transient)) {
			if (rc == 0)
				return problem(r, url, e);
			return -1;
		}
		log_debug("event=retry url=%s attempt=%d", url, attempt + 1);
		sleep_s(backoff(attempt, rc == 0 ? r->retry_after : -1));
	}
}

int acme_get_json(struct acme *a, const char *url, struct http_resp *r, json_t **out,
		  struct acme_err *e)
{
	if (request_retry(a, "GET", url, r, e) < 0)
		return -1;
	if (r->status != 200)
		return problem(r, url, e);
	*out = json_parse_bounded(r->body.data ? r->body.data : "", r->body.len, e);
	return *out ? 0 : aerr_prefix(e, "%s", url);
}

const char *acme_dir_url(const struct acme *a, const char *name)
{
	return json_string_value(json_object_get(a->dir, name));
}

int acme_open(struct acme *a, const char *dir_url, const char *ca_file, const struct akey *key,
	      struct acme_err *e)
{
	struct http_resp r;
	int rc = -1;

	memset(a, 0, sizeof *a);
	a->key = key;
	snprintf(a->dir_url, sizeof a->dir_url, "%s", dir_url);
	if (http_open(&a->http, ca_file, e) < 0)
		return -1;
	http_resp_init(&r);
	if (acme_get_json(a, dir_url, &r, &a->dir, e) < 0) {
		aerr_prefix(e, "ACME directory");
		goto out;
	}
	if (!acme_dir_url(a, "newNonce") || !acme_dir_url(a, "newAccount") || !acme_dir_url(a, "newOrder")) {
		aerr(e, "%s: not an ACME directory (newNonce, newAccount or newOrder missing)", dir_url);
		goto out;
	}
	if (akey_thumbprint(key, a->thumb, sizeof a->thumb, e) < 0)
		goto out;
	rc = 0;
out:
	http_resp_free(&r);
	if (rc < 0)
		acme_close(a);
	return rc;
}

void acme_close(struct acme *a)
{
	json_decref(a->dir);
	a->dir = NULL;
	http_close(a->http);
	a->http = NULL;
}

static int new_nonce(struct acme *a, struct acme_err *e)
{
	struct http_resp r;
	int rc = -1;

	http_resp_init(&r);
	if (request_retry(a, "HEAD", acme_dir_url(a, "newNonce"), &r, e) < 0)
		goto out;
	if (r.nonce[0] == '\0') {
		aerr(e, "%s: no Replay-Nonce in the answer (HTTP %ld)", acme_dir_url(a, "newNonce"), r.status);
		goto out;
	}
	rc = 0;
out:
	http_resp_free(&r);
	return rc;
}

/* The flattened JWS (RFC 7515) of payload for url; payload NULL means
 * POST-as-GET (empty payload). The account's kid once known, else its jwk. */
static int jws(struct acme *a, const char *url, const char *payload, struct buf *out, struct acme_err *e)
{
	struct buf prot, jwk, input;
	json_t *ph = NULL;
	char *phs = NULL;
	int rc = -1;

	buf_init(&prot, HTTP_BODY_MAX);
	buf_init(&jwk, 4096);
	buf_init(&input, HTTP_BODY_MAX);
	if (a->kid[0]) {
		ph = json_pack("{s:s, s:s, s:s, s:s}", "alg", "ES256", "kid", a->kid, "nonce", a->nonce, "url", url);
	} else {
		if (akey_jwk(a->key, &jwk, e) < 0)
			goto out;
		json_t *k = json_loads(jwk.data, 0, NULL);
		ph = k ? json_pack("{s:s, s:o, s:s, s:s}", "alg", "ES256", "jwk", k, "nonce", a->nonce, "url", url)
		       : NULL;
	}
	if (ph == NULL || (phs = json_dumps(ph, JSON_COMPACT)) == NULL) {
		aerr(e, "out of memory");
		goto out;
	}
	if (b64url_append(&prot, phs, strlen(phs)) < 0 || buf_append(&input, prot.data, prot.len) < 0 ||
	    buf_appends(&input, ".") < 0 || (payload && b64url_append(&input, payload, strlen(payload)) < 0)) {
		aerr(e, "request too large");
		goto out;
	}
	if (buf_appendf(out, "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"", prot.data,
			input.data + prot.len + 1) < 0 ||
	    akey_sign_es256(a->key, input.data, input.len, out, e) < 0 || buf_appends(out, "\"}") < 0) {
		if (e && e->msg[0] == '\0')
			aerr(e, "request too large");
		goto out;
	}
	rc = 0;
out:
	free(phs);
	json_decref(ph);
	buf_free(&prot);
	buf_free(&jwk);
	buf_free(&input);
	return rc;
}

/* A signed POST with bounded retries; 0 when the CA answered (any status
 * below 500 other than badNonce): the caller checks r->status. */
static int post(struct acme *a, const char *url, const char *payload, struct http_resp *r,
		struct acme_err *e)
{
	struct buf body;
	int attempts = 0, badnonce = 0, rc = -1;

	buf_init(&body, HTTP_BODY_MAX);
	for (;;) {
		int transient = 0, hr;
		e->msg[0] = '\0';
		if (a->nonce[0] == '\0' && new_nonce(a, e) < 0)
			goto out;
		buf_reset(&body);
		if (jws(a, url, payload, &body, e) < 0)
			goto out;
		a->nonce[0] = '\0'; /* each nonce is good for one request */
		hr = http_request(a->http, "POST", url, body.data, body.len, r, &transient, e);
		if (hr == 0 && r->nonce[0])
			snprintf(a->nonce, sizeof a->nonce, "%s", r->nonce);
		if (hr == 0 && is_problem(r, "badNonce")) {
			log_debug("event=bad_nonce url=%s", url);
			if (++badnonce < MAX_BADNONCE)
				continue;
			problem(r, url, e);
			goto out;
		}
		if (hr == 0 && r->status < 500 &&
		    !(r->status == 429 && r->retry_after >= 0 && r->retry_after <= MAX_WAIT_S))
			break;
		if (++attempts >= MAX_ATTEMPTS || (hr < 0 && !transient)) {
			if (hr == 0)
				problem(r, url, e);
			goto out;
		}
		log_debug("event=retry url=%s attempt=%d", url, attempts);
		sleep_s(backoff(attempts - 1, hr == 0 ? r->retry_after : -1));
	}
	rc = 0;
out:
	buf_free(&body);
	return rc;
}

/* POST, then the answer as a JSON object; error documents become e. */
static int post_json(struct acme *a, const char *url, const char *payload, struct http_resp *r,
		     json_t **out, const char *what, struct acme_err *e)
{
	*out = NULL;
	if (post(a, url, payload, r, e) < 0)
		return aerr_prefix(e, "%s", what);
	if (r->status >= 300)
		return problem(r, what, e);
	*out = json_parse_bounded(r->body.data ? r->body.data : "", r->body.len, e);
	return *out ? 0 : aerr_prefix(e, "%s: %s", what, url);
}

int acme_account(struct acme *a, const char *email, struct acme_err *e)
{
	struct http_resp r;
	json_t *req, *acct = NULL;
	char *payload = NULL;
	int rc = -1;

	http_resp_init(&r);
	req = json_pack("{s:b}", "termsOfServiceAgreed", 1);
	if (req && email && *email) {
		char mailto[512];
		snprintf(mailto, sizeof mailto, "mailto:%s", email);
		json_object_set_new(req, "contact", json_pack("[s]", mailto));
	}
	if (req == NULL || (payload = json_dumps(req, JSON_COMPACT)) == NULL) {
		aerr(e, "out of memory");
		goto out;
	}
	if (post_json(a, acme_dir_url(a, "newAccount"), payload, &r, &acct, "account", e) < 0)
		goto out;
	if (r.location[0] == '\0') {
		aerr(e, "account: the CA sent no account URL");
		goto out;
	}
	snprintf(a->kid, sizeof a->kid, "%s", r.location);
	log_info("event=account status=%s terms=%s", json_string_value(json_object_get(acct, "status")) ?: "?",
		 json_string_value(json_object_get(json_object_get(a->dir, "meta"), "termsOfService")) ?: "-");
	rc = 0;
out:
	free(payload);
	json_decref(req);
	json_decref(acct);
	http_resp_free(&r);
	return rc;
}

/* The newOrder payload: identifiers, and profile / replaces when given. */
static char *order_payload(const struct acme *a, const struct order_opts *o, struct acme_err *e)
{
	json_t *req = json_object(), *ids = json_array();
	char *s = NULL;

	json_object_set_new(req, "identifiers", ids);
	for (size_t i = 0; i < o->n; i++)
		json_array_append_new(ids, json_pack("{s:s, s:s}", "type", "dns", "value", o->names[i]));
	if (o->profile && *o->profile) {
		json_t *profiles = json_object_get(json_object_get(a->dir, "meta"), "profiles");
		if (!json_is_object(profiles)) {
			log_warning("event=profile_ignored profile=%s reason=\"the directory offers no profiles\"",
				    o->profile);
		} else if (json_object_get(profiles, o->profile) == NULL) {
			char *offered = json_dumps(profiles, JSON_COMPACT);
			aerr(e, "acme.profile '%s' is not offered by %s (offered: %s)", o->profile, a->dir_url,
			     offered ? offered : "?");
			free(offered);
			goto out;
		} else {
			json_object_set_new(req, "profile", json_string(o->profile));
		}
	}
	if (o->replaces && *o->replaces)
		json_object_set_new(req, "replaces", json_string(o->replaces));
	s = json_dumps(req, JSON_COMPACT);
	if (s == NULL)
		aerr(e, "out of memory");
out:
	json_decref(req);
	return s;
}

/* The http-01 challenge of a pending authorization into r->tok. */
static int take_challenge(struct acme *a, json_t *authz, struct responder *r, char *chal_url,
			  size_t size, struct acme_err *e)
{
	const char *name = json_string_value(json_object_get(json_object_get(authz, "identifier"), "value"));
	json_t *chals = json_object_get(authz, "challenges"), *c;
	size_t i;

	json_array_foreach(chals, i, c) {
		const char *type = json_string_value(json_object_get(c, "type"));
		const char *token = json_string_value(json_object_get(c, "token"));
		const char *url = json_string_value(json_object_get(c, "url"));
		if (type == NULL || strcmp(type, "http-01") != 0 || token == NULL || url == NULL)
			continue;
		if (r->n == HTTP01_MAX)
			return aerr(e, "too many names in one order");
		if (strlen(token) >= sizeof r->tok[0].token ||
		    snprintf(r->tok[r->n].keyauth, sizeof r->tok[0].keyauth, "%s.%s", token, a->thumb) >=
			    (int)sizeof r->tok[0].keyauth)
			return aerr(e, "challenge token too long");
		snprintf(r->tok[r->n].token, sizeof r->tok[0].token, "%s", token);
		r->n++;
		snprintf(chal_url, size, "%s", url);
		return 0;
	}
	return aerr(e, "%s: the CA offers no http-01 challenge", name ? name : "?");
}

/* Poll url (POST-as-GET) while its status is one of busy ("pending"...). */
static int poll_status(struct acme *a, const char *url, const char *busy1, const char *busy2,
		       json_t **out, const char *what, struct acme_err *e)
{
	time_t deadline = time(NULL) + POLL_DEADLINE_S;

	for (int i = 0;; i++) {
		struct http_resp r;
		const char *st;
		long wait;

		http_resp_init(&r);
		if (post_json(a, url, NULL, &r, out, what, e) < 0) {
			http_resp_free(&r);
			return -1;
		}
		st = json_string_value(json_object_get(*out, "status"));
		wait = r.retry_after >= 0 ? r.retry_after : (i < 5 ? 1 : 2);
		http_resp_free(&r);
		if (st == NULL)
			return aerr(e, "%s: no status in the answer", what);
		if (strcmp(st, busy1) != 0 && (busy2 == NULL || strcmp(st, busy2) != 0))
			return 0;
		if (time(NULL) + wait > deadline) {
			json_decref(*out);
			*out = NULL;
			return aerr(e, "%s: still %s after %d s", what, st, POLL_DEADLINE_S);
		}
		json_decref(*out);
		*out = NULL;
		sleep_s(wait > MAX_WAIT_S ? MAX_WAIT_S : wait);
	}
}

/* Why a challenge failed, from the authorization's challenge error. */
static int authz_failed(json_t *authz, struct acme_err *e)
{
	const char *name = json_string_value(json_object_get(json_object_get(authz, "identifier"), "value"));
	json_t *chals = json_object_get(authz, "challenges"), *c;
	size_t i;

	json_array_foreach(chals, i, c) {
		json_t *err = json_object_get(c, "error");
		if (json_is_object(err)) {
			struct http_resp r;
			char *text = json_dumps(err, JSON_COMPACT);
			http_resp_init(&r);
			r.status = json_integer_value(json_object_get(err, "status"));
			if (text)
				buf_appends(&r.body, text);
			free(text);
			problem(&r, name ? name : "challenge", e);
			http_resp_free(&r);
			return -1;
		}
	}
	return aerr(e, "%s: authorization %s", name ? name : "?",
		    json_string_value(json_object_get(authz, "status")) ?: "failed");
}

/* Answer the pending authorizations of the order. */
static int authorize(struct acme *a, const struct order_opts *o, json_t *order, struct acme_err *e)
{
	json_t *authzs = json_object_get(order, "authorizations"), *v;
	char chal[HTTP01_MAX][1024], authz_url[HTTP01_MAX][1024];
	struct responder resp;
	size_t i, n = 0;
	int rc = -1;

	memset(&resp, 0, sizeof resp);
	resp.webroot = o->webroot;
	json_array_foreach(authzs, i, v) {
		struct http_resp r;
		json_t *az = NULL;
		const char *url = json_string_value(v), *st;
		if (url == NULL || n == HTTP01_MAX)
			return aerr(e, "order: bad authorizations list");
		http_resp_init(&r);
		rc = post_json(a, url, NULL, &r, &az, "authorization", e);
		http_resp_free(&r);
		if (rc < 0)
			return -1;
		st = json_string_value(json_object_get(az, "status"));
		if (st && strcmp(st, "pending") == 0) {
			rc = take_challenge(a, az, &resp, chal[n], sizeof chal[n], e);
			snprintf(authz_url[n], sizeof authz_url[n], "%s", url);
			n++;
		} else if (st == NULL || strcmp(st, "valid") != 0) {
			rc = authz_failed(az, e);
		}
		json_decref(az);
		if (rc < 0)
			return -1;
	}
	if (n == 0)
		return 0; /* all reused from earlier validations */
	if (responder_start(&resp, o->bind_addr, o->port, e) < 0)
		return -1;
	rc = -1;
	for (i = 0; i < n; i++) {
		struct http_resp r;
		json_t *c = NULL;
		http_resp_init(&r);
		int prc = post_json(a, chal[i], "{}", &r, &c, "challenge", e);
		http_resp_free(&r);
		json_decref(c);
		if (prc < 0)
			goto out;
	}
	for (i = 0; i < n; i++) {
		json_t *az = NULL;
		const char *st;
		if (poll_status(a, authz_url[i], "pending", "processing", &az, "authorization", e) < 0)
			goto out;
		st = json_string_value(json_object_get(az, "status"));
		if (strcmp(st, "valid") != 0) {
			authz_failed(az, e);
			json_decref(az);
			goto out;
		}
		json_decref(az);
	}
	rc = 0;
out:
	responder_stop(&resp);
	return rc;
}

static int finalize(struct acme *a, const char *order_url, json_t *order, const struct order_opts *o,
		    const struct akey *cert_key, const char **cert_url, json_t **final, struct acme_err *e)
{
	struct buf csr, payload;
	struct http_resp r;
	json_t *j = NULL;
	const char *fin = json_string_value(json_object_get(order, "finalize"));
	int rc = -1;

	buf_init(&csr, HTTP_BODY_MAX);
	buf_init(&payload, HTTP_BODY_MAX);
	http_resp_init(&r);
	if (fin == NULL) {
		aerr(e, "order: no finalize URL");
		goto out;
	}
	if (acsr_make(cert_key, o->names, o->n, &csr, e) < 0 ||
	    buf_appendf(&payload, "{\"csr\":\"%s\"}", csr.data) < 0)
		goto out;
	if (post_json(a, fin, payload.data, &r, &j, "finalize", e) < 0)
		goto out;
	json_decref(j);
	j = NULL;
	if (poll_status(a, order_url, "processing", "ready", final, "order", e) < 0)
		goto out;
	if (strcmp(json_string_value(json_object_get(*final, "status")), "valid") != 0) {
		aerr(e, "order is %s after finalize%s%s", json_string_value(json_object_get(*final, "status")),
		     json_is_object(json_object_get(*final, "error")) ? ": " : "",
		     json_string_value(json_object_get(json_object_get(*final, "error"), "detail")) ?: "");
		goto out;
	}
	*cert_url = json_string_value(json_object_get(*final, "certificate"));
	if (*cert_url == NULL) {
		aerr(e, "order: valid but no certificate URL");
		goto out;
	}
	rc = 0;
out:
	http_resp_free(&r);
	buf_free(&csr);
	buf_free(&payload);
	return rc;
}

int acme_order(struct acme *a, const struct order_opts *o, const struct akey *cert_key,
	       struct buf *chain_pem, struct acme_err *e)
{
	struct http_resp r;
	json_t *order = NULL, *final = NULL;
	char order_url[2048];
	const char *cert_url = NULL, *st;
	char *payload = order_payload(a, o, e);
	int rc = -1;

	http_resp_init(&r);
	if (payload == NULL)
		goto out;
	if (post_json(a, acme_dir_url(a, "newOrder"), payload, &r, &order, "new order", e) < 0)
		goto out;
	if (r.location[0] == '\0') {
		aerr(e, "new order: the CA sent no order URL");
		goto out;
	}
	snprintf(order_url, sizeof order_url, "%s", r.location);
	st = json_string_value(json_object_get(order, "status"));
	if (st && strcmp(st, "pending") == 0 && authorize(a, o, order, e) < 0)
		goto out;
	if (st && strcmp(st, "invalid") == 0) {
		aerr(e, "new order: the CA marked the order invalid");
		goto out;
	}
	if (finalize(a, order_url, order, o, cert_key, &cert_url, &final, e) < 0)
		goto out;
	if (post(a, cert_url, NULL, &r, e) < 0) {
		aerr_prefix(e, "certificate download");
		goto out;
	}
	if (r.status != 200) {
		problem(&r, "certificate download", e);
		goto out;
	}
	if (buf_append(chain_pem, r.body.data, r.body.len) < 0) {
		aerr(e, "certificate download: out of memory");
		goto out;
	}
	rc = 0;
out:
	free(payload);
	json_decref(order);
	json_decref(final);
	http_resp_free(&r);
	return rc;
}
