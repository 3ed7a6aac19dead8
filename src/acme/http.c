#include "config.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "acme/http.h"

/* libcurl-gnutls reads the system bundle unless CURLOPT_CAINFO names
 * another file; the system directory keeps the public CAs trusted then. */
#define SYSTEM_CA_DIR "/etc/ssl/certs"

struct http {
	CURL *curl;
	char ca_file[1024];
	char errbuf[CURL_ERROR_SIZE];
	int overflow;
};

int http_open(struct http **out, const char *ca_file, struct acme_err *e)
{
	struct http *h;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return aerr(e, "libcurl initialisation failed");
	h = calloc(1, sizeof *h);
	if (h == NULL)
		return aerr(e, "out of memory");
	h->curl = curl_easy_init();
	if (h->curl == NULL) {
		free(h);
		return aerr(e, "libcurl initialisation failed");
	}
	if (ca_file && *ca_file &&
	    snprintf(h->ca_file, sizeof h->ca_file, "%s", ca_file) >= (int)sizeof h->ca_file) {
		http_close(h);
		return aerr(e, "acme.ca_file: path too long");
	}
	*out = h;
	return 0;
}

void http_close(struct http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	free(h);
}

void http_resp_init(struct http_resp *r)
{
	memset(r, 0, sizeof *r);
	buf_init(&r->body, HTTP_BODY_MAX);
	r->retry_after = -1;
}

void http_resp_free(struct http_resp *r)
{
	buf_free(&r->body);
}

static void resp_clear(struct http_resp *r)
{
	r->status = 0;
	buf_reset(&r->body);
	r->nonce[0] = r->location[0] = r->content_type[0] = '\0';
	r->retry_after = -1;
}

struct ctx {
	struct http *h;
	struct http_resp *r;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct ctx *c = arg;

	if (buf_append(&c->r->body, p, size * n) < 0) {
		c->h->overflow = 1;
		return 0; /* makes libcurl stop with CURLE_WRITE_ERROR */
	}
	return size * n;
}

/* Retry-After: delta-seconds or an HTTP-date (RFC 9110 10.2.3). */
static long parse_retry_after(const char *v)
{
	struct tm tm;
	char *end;
	long s = strtol(v, &end, 10);

	if (end != v && *end == '\0')
		return s < 0 ? 0 : s;
	memset(&tm, 0, sizeof tm);
	if (strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm) != NULL) {
		time_t t = timegm(&tm), now = time(NULL);
		return t > now ? (long)(t - now) : 0;
	}
	return -1;
}

static void copy_value(char *dst, size_t size, const char *v, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, v, len);
	dst[len] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct ctx *c = arg;
	size_t len = size * n, klen;
	const char *colon = memchr(p, ':', len), *v;
	char val[2048];

	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		resp_clear(c->r); /* a new response (after 100 Continue) */
		return len;
	}
	if (colon == NULL)
		return len;
	klen = (size_t)(colon - p);
	v = colon + 1;
	while (v < p + len && (*v == ' ' || *v == '\t'))
		v++;
	size_t vlen = (size_t)(p + len - v);
	while (vlen > 0 && isspace((unsigned char)v[vlen - 1]))
		vlen--;
	copy_value(val, sizeof val, v, vlen);
	if (klen == 12 && strncasecmp(p, "replay-nonce", klen) == 0)
		copy_value(c->r->nonce, sizeof c->r->nonce, val, strlen(val));
	else if (klen == 8 && strncasecmp(p, "location", klen) == 0)
		copy_value(c->r->location, sizeof c->r->location, val, strlen(val));
	else if (klen == 12 && strncasecmp(p, "content-type", klen) == 0)
		copy_value(c->r->content_type, sizeof c->r->content_type, val, strlen(val));
	else if (klen == 11 && strncasecmp(p, "retry-after", klen) == 0)
		c->r->retry_after = parse_retry_after(val);
	return len;
}

static int describe(struct http *h, CURLcode cc, const char *url, int *transient, struct acme_err *e)
{
	const char *detail = h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc);

	*transient = 0;
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		*transient = 1;
		return aerr(e, "DNS: cannot resolve the host of %s: %s", url, detail);
	case CURLE_COULDNT_CONNECT:
		*transient = 1;
		return aerr(e, "cannot connect to %s (server unreachable): %s", url, detail);
	case CURLE_OPERATION_TIMEDOUT:
		*transient = 1;
		return aerr(e, "%s: timed out: %s", url, detail);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CACERT_BADFILE:
		return aerr(e, "TLS with %s failed (is acme.ca_file right?): %s", url, detail);
	case CURLE_FILESIZE_EXCEEDED: /* announced by Content-Length */
		return aerr(e, "%s: response body larger than %d bytes", url, HTTP_BODY_MAX);
	case CURLE_WRITE_ERROR:
		if (h->overflow)
			return aerr(e, "%s: response body larger than %d bytes", url, HTTP_BODY_MAX);
		return aerr(e, "%s: %s", url, detail);
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		*transient = 1;
		return aerr(e, "%s: connection failed: %s", url, detail);
	default:
		return aerr(e, "%s: %s", url, detail);
	}
}

int http_request(struct http *h, const char *method, const char *url, const char *body,
		 size_t len, struct http_resp *r, int *transient, struct acme_err *e)
{
	struct curl_slist *hdrs = NULL;
	struct ctx c = { h, r };
	CURL *k = h->curl;
	CURLcode cc;
	int rc = -1;

	*transient = 0;
	resp_clear(r);
	h->overflow = 0;
	h->errbuf[0] = '\0';
	curl_easy_reset(k);
	if (strcmp(method, "POST") == 0) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/jose+json");
		if (hdrs == NULL)
			return aerr(e, "out of memory");
		curl_easy_setopt(k, CURLOPT_POST, 1L);
		curl_easy_setopt(k, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(k, CURLOPT_NOBODY, 1L);
	}
	curl_easy_setopt(k, CURLOPT_URL, url);
	curl_easy_setopt(k, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(k, CURLOPT_USERAGENT, "msgw-acme/" PACKAGE_VERSION);
	/* ACME is HTTPS only (RFC 8555 section 6.1). */
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(k, CURLOPT_PROTOCOLS_STR, "https");
#else
	curl_easy_setopt(k, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT, HTTP_CONNECT_TIMEOUT);
	curl_easy_setopt(k, CURLOPT_TIMEOUT, HTTP_TIMEOUT);
	curl_easy_setopt(k, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_BODY_MAX);
	curl_easy_setopt(k, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(k, CURLOPT_WRITEDATA, &c);
	curl_easy_setopt(k, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(k, CURLOPT_HEADERDATA, &c);
	curl_easy_setopt(k, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(k, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->ca_file[0]) {
		curl_easy_setopt(k, CURLOPT_CAINFO, h->ca_file);
		if (access(SYSTEM_CA_DIR, R_OK | X_OK) == 0)
			curl_easy_setopt(k, CURLOPT_CAPATH, SYSTEM_CA_DIR);
	}
	cc = curl_easy_perform(k);
	if (cc != CURLE_OK) {
		describe(h, cc, url, transient, e);
		goto out;
	}
	curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &r->status);
	rc = 0;
out:
	curl_slist_free_all(hdrs);
	return rc;
}
