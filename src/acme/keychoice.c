/* --key-type and --rsa-bits for the msgw-acme commands. */
#include "config.h"

#include <string.h>

#include "acme/keychoice.h"

int keychoice_parse(struct keychoice *kc, const char *s)
{
	if (kc->rsa_bits == 0)
		kc->rsa_bits = 2048;
	kc->ecdsa = strcmp(s, "ecdsa") == 0 || strcmp(s, "both") == 0;
	kc->rsa = strcmp(s, "rsa") == 0 || strcmp(s, "both") == 0;
	return kc->ecdsa || kc->rsa ? 0 : -1;
}

int keychoice_bits(struct keychoice *kc, const char *s)
{
	if (strcmp(s, "2048") != 0 && strcmp(s, "3072") != 0)
		return -1;
	kc->rsa_bits = strcmp(s, "2048") == 0 ? 2048 : 3072;
	return 0;
}

const char *keychoice_name(const struct keychoice *kc)
{
	return kc->ecdsa && kc->rsa ? "both" : kc->rsa ? "rsa" : "ecdsa";
}

size_t keychoice_count(const struct keychoice *kc)
{
	return (size_t)(kc->ecdsa != 0) + (size_t)(kc->rsa != 0);
}

unsigned keychoice_bits_of(const struct keychoice *kc, size_t i)
{
	return kc->ecdsa && i == 0 ? 0 : kc->rsa_bits;
}
