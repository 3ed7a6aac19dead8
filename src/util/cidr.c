#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/cidr.h"

int cidr_parse(const char *s, struct cidr *out)
{
	char host[64];
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);
	unsigned maxbits;

	if (hl == 0 || hl >= sizeof host)
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		maxbits = 32;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		maxbits = 128;
	} else {
		return -1;
	}
	out->prefix = maxbits;
	if (slash) {
		char *end;
		unsigned long v;

		if (slash[1] < '0' || slash[1] > '9')
			return -1;
		v = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || v > maxbits)
			return -1;
		out->prefix = (unsigned)v;
	}
	return 0;
}

static int prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[full] ^ b[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

int cidr_match(const struct cidr *c, const char *addr)
{
	uint8_t a[16];
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (c->family == AF_INET) {
		if (inet_pton(AF_INET, addr, a) == 1)
			return prefix_equal(a, c->addr, c->prefix);
		if (inet_pton(AF_INET6, addr, a) == 1 && memcmp(a, v4mapped, 12) == 0)
			return prefix_equal(a + 12, c->addr, c->prefix);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, a) == 1)
		return prefix_equal(a, c->addr, c->prefix);
	return 0;
}

int cidr_allowed(const struct cidr *nets, size_t n, const char *addr)
{
	if (n == 0)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (cidr_match(&nets[i], addr))
			return 1;
	return 0;
}
