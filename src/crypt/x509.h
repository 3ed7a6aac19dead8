/* The one certificate question asked outside the TLS code: when does the
 * certificate in a PEM file expire (msgw-mbox status). */
#ifndef MSGW_CRYPT_X509_H
#define MSGW_CRYPT_X509_H

#include <time.h>

/* notAfter of the first certificate of a PEM file. 0, or -1 with errno
 * (EBADMSG when the file holds no readable certificate). */
int crypt_cert_expiry(const char *path, time_t *not_after);

#endif
