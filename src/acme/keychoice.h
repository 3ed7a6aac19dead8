/* --key-type ecdsa|rsa|both and --rsa-bits 2048|3072: which key pairs a
 * msgw-acme command makes. An ECDSA (or a lone) pair is tls.cert/tls.key;
 * an RSA pair beside an ECDSA one is tls.rsa_cert/tls.rsa_key. */
#ifndef MSGW_ACME_KEYCHOICE_H
#define MSGW_ACME_KEYCHOICE_H

#include <stddef.h>

#include "acme/internal.h"

struct akey;

struct keychoice {
	int ecdsa, rsa;      /* which kinds */
	unsigned rsa_bits;   /* 2048 (default) or 3072 */
};

/* "ecdsa", "rsa" or "both" into kc; -1 for anything else. */
int keychoice_parse(struct keychoice *kc, const char *s);
/* "2048" or "3072"; -1 for anything else. */
int keychoice_bits(struct keychoice *kc, const char *s);
/* The name keychoice_parse reads back. */
const char *keychoice_name(const struct keychoice *kc);
/* The RSA bits for the i-th pair of kc (0 for ECDSA), ECDSA first;
 * how many pairs kc makes. */
unsigned keychoice_bits_of(const struct keychoice *kc, size_t i);
size_t keychoice_count(const struct keychoice *kc);

#endif
