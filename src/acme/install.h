/* Installing a certificate and its key: both written to temporary files
 * and fsynced first, the previous pair kept as .old, then both renamed into
 * place, so a failure at any step leaves the old pair untouched. */
#ifndef MSGW_ACME_INSTALL_H
#define MSGW_ACME_INSTALL_H

#include <stddef.h>

#include "acme/internal.h"

int install_pair(const char *cert_path, const char *cert_pem, size_t cert_len,
		 const char *key_path, const char *key_pem, size_t key_len, struct acme_err *e);
struct config;
struct akey;
struct achain;
/* Key and chain (PEM) to tls.key / tls.cert with install_pair. */
int install_tls(const struct config *cfg, const struct akey *k, const struct achain *c,
		struct acme_err *e);
/* n (1 or 2) pairs: one goes to tls.cert/tls.key and retires an earlier
 * RSA pair at tls.rsa_cert/tls.rsa_key (kept as .old); of two, one RSA
 * and one ECDSA, the RSA pair goes to tls.rsa_cert/tls.rsa_key. */
int install_tls_set(const struct config *cfg, struct akey *const *k, struct achain *const *c, size_t n,
		    struct acme_err *e);

/* Write one file atomically (tmp, fsync, rename, fsync dir), creating a
 * missing parent directory with dir_mode. */
int install_file(const char *path, const void *data, size_t len, int mode, int dir_mode,
		 struct acme_err *e);

#endif
