/* Certificate expiry for health checks: GnuTLS stays inside src/crypt. */
#include "config.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdlib.h>

#include "crypt/x509.h"

/* A certificate chain file is small; refuse anything larger. */
#define PEM_MAX (1024 * 1024)

int crypt_cert_expiry(const char *path, time_t *not_after)
{
	gnutls_datum_t data = { NULL, 0 };
	gnutls_x509_crt_t crt = NULL;
	time_t t;
	int rc = -1, err = EBADMSG;

	errno = 0;
	if (gnutls_load_file(path, &data) < 0) {
		err = errno ? errno : ENOENT;
		goto out;
	}
	if (data.size > PEM_MAX) {
		err = EFBIG;
		goto out;
	}
	if (gnutls_x509_crt_init(&crt) < 0) {
		err = ENOMEM;
		crt = NULL;
		goto out;
	}
	if (gnutls_x509_crt_import(crt, &data, GNUTLS_X509_FMT_PEM) < 0)
		goto out;
	t = gnutls_x509_crt_get_expiration_time(crt);
	if (t == (time_t)-1)
		goto out;
	*not_after = t;
	rc = 0;
out:
	if (crt)
		gnutls_x509_crt_deinit(crt);
	gnutls_free(data.data);
	if (rc < 0)
		errno = err;
	return rc;
}
