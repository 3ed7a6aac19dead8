/* Which upstream servers the proxy may connect to: proxy.allowed_targets
 * patterns with their port rules, and the addresses a name resolves to.
 *
 * A pattern is HOST, HOST:PORT or HOST:* where HOST is a name, an address
 * ([v6] with a port), "*" (any name) or "*.example.com" (any name below
 * example.com). Without a port only the protocol's standard ports match.
 * Loopback, private, link-local, unique-local, multicast and unspecified
 * addresses are only ever connected to when the pattern that admits them
 * names that address, or the name that resolved to it, literally. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "proxy/proxy.h"
#include "util/hostpattern.h"

int proxy_pattern_valid(const char *s)
{
	struct host_pattern p;

	return host_pattern_split(s, &p) == 0;
}

/* Name matching only (also for proxy.target_ca_files). */
int proxy_host_match(const char *pat, const char *host)
{
	size_t pl, hl = strlen(host);

	if (strcmp(pat, "*") == 0)
		return 1;
	if (strncmp(pat, "*.", 2) == 0) {
		pl = strlen(pat + 1); /* ".example.com" */
		return hl > pl && strcasecmp(host + hl - pl, pat + 1) == 0;
	}
	return strcasecmp(pat, host) == 0;
}

static int port_in(const char *port, const char *const *std)
{
	for (; *std; std++)
		if (strcmp(port, *std) == 0)
			return 1;
	return 0;
}

static int port_match(const struct host_pattern *p, const char *port, const char *const *std)
{
	if (p->port == NULL)
		return port_in(port, std);
	return strcmp(p->port, "*") == 0 || strcmp(p->port, port) == 0;
}

static int wildcard(const char *host)
{
	return host[0] == '*';
}

enum proxy_match proxy_target_match(const struct strlist *patterns, const char *host,
                                    const char *port, const char *const *std_ports)
{
	enum proxy_match best = MATCH_NONE;

	for (size_t i = 0; i < patterns->n; i++) {
		struct host_pattern p;

		if (host_pattern_split(patterns->v[i], &p) < 0 || !port_match(&p, port, std_ports) ||
		    !proxy_host_match(p.host, host))
			continue;
		if (!wildcard(p.host))
			return MATCH_LITERAL;
		best = MATCH_WILDCARD;
	}
	return best;
}

/* The address of sa as 16 bytes (IPv4 as v4-mapped IPv6). */
static void addr16(const struct sockaddr *sa, unsigned char a[16])
{
	memset(a, 0, 16);
	if (sa->sa_family == AF_INET) {
		a[10] = a[11] = 0xff;
		memcpy(a + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
	} else {
		memcpy(a, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
	}
}

static int v4_special(const unsigned char *b)
{
	return b[0] == 0 || b[0] == 10 || b[0] == 127 || (b[0] == 100 && (b[1] & 0xc0) == 64) ||
	       (b[0] == 169 && b[1] == 254) || (b[0] == 172 && (b[1] & 0xf0) == 16) ||
	       (b[0] == 192 && b[1] == 168) || (b[0] == 192 && b[1] == 0 && b[2] == 0) ||
	       b[0] >= 224; /* multicast, reserved, broadcast */
}

int proxy_addr_special(const struct sockaddr *sa)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const unsigned char zero[16];
	unsigned char a[16];

	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return 1;
	addr16(sa, a);
	if (memcmp(a, mapped, 12) == 0 || memcmp(a, zero, 12) == 0) /* v4, or v4-compatible */
		return memcmp(a, zero, 12) == 0 ? 1 : v4_special(a + 12);
	return a[0] == 0xff ||                       /* multicast */
	       (a[0] & 0xfe) == 0xfc ||              /* unique local fc00::/7 */
	       (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || /* link-local fe80::/10 */
	       (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) || /* site-local fec0::/10 */
	       (a[0] == 0 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b); /* NAT64: any v4 */
}

/* Does a pattern (port rules included) name exactly this address? */
int proxy_addr_listed(const struct strlist *patterns, const struct sockaddr *sa, const char *port,
                      const char *const *std_ports)
{
	unsigned char want[16], got[16];

	addr16(sa, want);
	for (size_t i = 0; i < patterns->n; i++) {
		struct host_pattern p;

		if (host_pattern_split(patterns->v[i], &p) < 0 || !port_match(&p, port, std_ports))
			continue;
		memset(got, 0, sizeof got);
		got[10] = got[11] = 0xff;
		if (inet_pton(AF_INET, p.host, got + 12) != 1 && inet_pton(AF_INET6, p.host, got) != 1)
			continue;
		if (memcmp(want, got, 16) == 0)
			return 1;
	}
	return 0;
}
