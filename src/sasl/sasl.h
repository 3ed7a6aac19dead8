/* SASL for the front ends and the proxy: PLAIN (plain.c) and reading an
 * SMTP AUTH exchange (smtpauth.h). base64 is crypt/b64.h. */
#ifndef MSGW_SASL_SASL_H
#define MSGW_SASL_SASL_H

#include <stddef.h>

/* Split a decoded PLAIN message authzid NUL authcid NUL passwd. The
 * pointers point into msg; -1 when malformed or authzid names someone else. */
int sasl_plain_split(const unsigned char *msg, size_t len, const char **user, const char **pass,
                     size_t *plen);

#endif
