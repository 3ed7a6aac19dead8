/* Host patterns as proxy.allowed_targets writes them: HOST, HOST:PORT or
 * HOST:* where HOST is a name, "*", "*.domain", an IPv4 address, or an
 * IPv6 address (in brackets when a port follows). */
#ifndef MSGW_UTIL_HOSTPATTERN_H
#define MSGW_UTIL_HOSTPATTERN_H

#define HOST_PATTERN_MAX 256

struct host_pattern {
	char host[HOST_PATTERN_MAX];
	const char *port; /* NULL: none given; "*": any; else 1..65535 in digits */
	char portbuf[8];
};

/* 0, or -1 when s is not such a pattern. */
int host_pattern_split(const char *s, struct host_pattern *p);

#endif
