/* Host patterns (see hostpattern.h). */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/hostpattern.h"

static int name_ok(const char *h)
{
	if (strcmp(h, "*") == 0)
		return 1;
	if (strncmp(h, "*.", 2) == 0)
		h += 2;
	if (*h == '\0')
		return 0;
	for (; *h; h++)
		if (!isalnum((unsigned char)*h) && *h != '.' && *h != '-' && *h != '_' && *h != ':')
			return 0;
	return 1;
}

static int port_ok(const char *port)
{
	char *end;
	unsigned long v;

	if (strcmp(port, "*") == 0)
		return 1;
	for (const char *q = port; *q; q++)
		if (!isdigit((unsigned char)*q))
			return 0;
	v = strtoul(port, &end, 10);
	return *end == '\0' && v >= 1 && v <= 65535;
}

/* Split "host", "host:port", "[v6]", "[v6]:port", bare v6; -1 when bad. */
int host_pattern_split(const char *s, struct host_pattern *p)
{
	const char *colon = strrchr(s, ':'), *end = s + strlen(s), *h = s;
	size_t hl;

	p->port = NULL;
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (rb == NULL || (rb[1] != '\0' && rb[1] != ':'))
			return -1;
		h = s + 1;
		end = rb;
		colon = rb[1] == ':' ? rb + 1 : NULL;
	} else if (colon != NULL && strchr(s, ':') != colon) {
		colon = NULL; /* a bare IPv6 address: no port */
	} else if (colon != NULL) {
		end = colon;
	}
	hl = (size_t)(end - h);
	if (hl == 0 || hl >= sizeof p->host)
		return -1;
	memcpy(p->host, h, hl);
	p->host[hl] = '\0';
	if (colon != NULL) {
		size_t pl = strlen(colon + 1);
		if (pl == 0 || pl >= sizeof p->portbuf)
			return -1;
		memcpy(p->portbuf, colon + 1, pl + 1);
		if (!port_ok(p->portbuf))
			return -1;
		p->port = p->portbuf;
	}
	return name_ok(p->host) ? 0 : -1;
}
