/* IPv4/IPv6 network prefixes ("192.0.2.0/24", "2001:db8::/32", a bare
 * address) and matching an address against them. */
#ifndef MSGW_UTIL_CIDR_H
#define MSGW_UTIL_CIDR_H

#include <stddef.h>
#include <stdint.h>

struct cidr {
	int family;          /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned prefix;     /* bits */
};

/* 0 on success, -1 when s is not a valid prefix (host bits may be set). */
int cidr_parse(const char *s, struct cidr *out);
/* Does the textual address addr (IPv4, IPv6, or IPv4-mapped IPv6) fall in c? */
int cidr_match(const struct cidr *c, const char *addr);
/* Is addr in one of the n networks? (n == 0: no restriction.) */
int cidr_allowed(const struct cidr *nets, size_t n, const char *addr);

#endif
