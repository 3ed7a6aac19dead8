#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "acme/renewal.h"
#include "acme/state.h"
#include "util/log.h"

/* When the CA gives no Retry-After, ask again after this long; answers
 * outside these bounds are clamped (RFC 9773 section 4.3). */
#define ARI_DEFAULT_RECHECK (6 * 3600)
#define ARI_MIN_RECHECK 60
#define ARI_MAX_RECHECK (24 * 3600)

void renewal_by_lifetime(const struct acert_info *info, time_t now, struct renew_plan *p)
{
	time_t life = info->not_after - info->not_before;
	time_t left = life < 10 * 86400 ? life / 2 : life / 3;
	char when[32];

	memset(p, 0, sizeof p[0]);
	p->renew_at = info->not_after - left;
	p->due = now >= p->renew_at;
	snprintf(p->why, sizeof p->why, "%s of the lifetime left at %s", life < 10 * 86400 ? "half" : "a third",
		 fmt_time(p->renew_at, when, sizeof when));
}

/* A fraction in [0, 1) that is random across certificates but the same for
 * one certificate, so every run picks the same moment in its window. */
static double stable_fraction(const char *cert_id)
{
	unsigned char h[32];
	uint64_t v = 0;

	if (acme_sha256(cert_id, strlen(cert_id), h) < 0)
		return 0.5;
	for (int i = 0; i < 8; i++)
		v = v << 8 | h[i];
	return (double)(v >> 11) / (double)(1ULL << 53);
}

void renewal_in_window(const char *id, time_t start, time_t end, time_t now, struct renew_plan *p)
{
	char a[32], b[32], c[32];

	memset(p, 0, sizeof p[0]);
	p->ari = 1;
	p->renew_at = start + (time_t)(stable_fraction(id) * (double)(end - start));
	p->due = now >= p->renew_at;
	snprintf(p->why, sizeof p->why, "renewal window %s to %s, renewing at %s", fmt_time(start, a, sizeof a),
		 fmt_time(end, b, sizeof b), fmt_time(p->renew_at, c, sizeof c));
}

/* The cached window if it is for this certificate and still fresh. */
static int from_cache(const struct config *cfg, const char *id, time_t now, struct renew_plan *p)
{
	json_t *c = NULL;
	struct acme_err e;
	time_t start, end;
	int used = 0;

	if (state_load(cfg, "renewal.json", &c, &e) < 0 || c == NULL)
		return 0;
	const char *cid = json_string_value(json_object_get(c, "cert"));
	const char *s = json_string_value(json_object_get(c, "start"));
	const char *en = json_string_value(json_object_get(c, "end"));
	json_int_t next = json_integer_value(json_object_get(c, "next_check"));
	if (cid && strcmp(cid, id) == 0 && s && en && parse_time(s, &start) == 0 &&
	    parse_time(en, &end) == 0 && now < (time_t)next) {
		renewal_in_window(id, start, end, now, p);
		used = 1;
	}
	json_decref(c);
	return used;
}

static void save_cache(const struct config *cfg, const char *id, time_t start, time_t end,
		       const struct renew_plan *p, time_t next, json_t *explanation)
{
	char a[32], b[32], c[32];
	struct acme_err e;
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I}", "cert", id, "start", fmt_time(start, a, sizeof a),
			      "end", fmt_time(end, b, sizeof b), "renew_at",
			      fmt_time(p->renew_at, c, sizeof c), "next_check", (json_int_t)next);

	if (o && json_is_string(explanation))
		json_object_set(o, "explanation", explanation);
	if (o == NULL || state_save(cfg, "renewal.json", o, &e) < 0)
		log_warning("event=ari_cache_failed error=\"%s\"", o ? e.msg : "out of memory");
	json_decref(o);
}

int renewal_by_ari(struct acme *a, const struct config *cfg, const struct acert_info *info,
		   time_t now, struct renew_plan *p, struct acme_err *e)
{
	const char *base = acme_dir_url(a, "renewalInfo");
	char url[2048];
	struct http_resp r;
	json_t *j = NULL, *w;
	time_t start, end;
	long wait;
	int rc = -1;

	if (base == NULL)
		return aerr(e, "the directory offers no renewalInfo");
	if (info->ari_id[0] == '\0')
		return aerr(e, "the certificate has no authority key identifier");
	if (from_cache(cfg, info->ari_id, now, p))
		return 0;
	if (snprintf(url, sizeof url, "%s%s%s", base, base[strlen(base) - 1] == '/' ? "" : "/", info->ari_id) >=
	    (int)sizeof url)
		return aerr(e, "renewalInfo URL too long");
	http_resp_init(&r);
	if (acme_get_json(a, url, &r, &j, e) < 0)
		goto out;
	w = json_object_get(j, "suggestedWindow");
	if (!json_is_string(json_object_get(w, "start")) || !json_is_string(json_object_get(w, "end")) ||
	    parse_time(json_string_value(json_object_get(w, "start")), &start) < 0 ||
	    parse_time(json_string_value(json_object_get(w, "end")), &end) < 0 || end < start) {
		aerr(e, "%s: no valid suggestedWindow", url);
		goto out;
	}
	renewal_in_window(info->ari_id, start, end, now, p);
	wait = r.retry_after >= 0 ? r.retry_after : ARI_DEFAULT_RECHECK;
	if (wait < ARI_MIN_RECHECK)
		wait = ARI_MIN_RECHECK;
	if (wait > ARI_MAX_RECHECK)
		wait = ARI_MAX_RECHECK;
	save_cache(cfg, info->ari_id, start, end, p, now + wait, json_object_get(j, "explanationURL"));
	rc = 0;
out:
	json_decref(j);
	http_resp_free(&r);
	return rc;
}
