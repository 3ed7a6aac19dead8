/* When to renew: the CA's renewal window (ACME Renewal Information, RFC
 * 9773) when the directory offers it, else a share of the lifetime. */
#ifndef MSGW_ACME_RENEWAL_H
#define MSGW_ACME_RENEWAL_H

#include <time.h>

#include "acme/client.h"
#include "acme/x509.h"
#include "conf/conf.h"

struct renew_plan {
	int due;
	int ari;             /* the decision came from a renewal window */
	time_t renew_at;
	char why[256];
};

/* Without ARI: due when a third of the lifetime remains (half for
 * certificates shorter than 10 days). */
void renewal_by_lifetime(const struct acert_info *info, time_t now, struct renew_plan *p);
/* The moment to renew inside the window [start, end] for certificate id:
 * random across certificates, the same for one certificate. */
void renewal_in_window(const char *id, time_t start, time_t end, time_t now, struct renew_plan *p);
/* With ARI: the window for info's certificate, fetched from the CA unless
 * the last answer's Retry-After says to wait, remembered in renewal.json;
 * the time to renew is a random point inside it that stays the same across
 * runs (derived from the certificate id). -1 when the CA could not say. */
int renewal_by_ari(struct acme *a, const struct config *cfg, const struct acert_info *info,
		   time_t now, struct renew_plan *p, struct acme_err *e);

#endif
