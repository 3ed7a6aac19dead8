/* Small text helpers shared by the SMTP and POP3 halves. */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "proxy/proxy.h"

int verb_is(const char *line, const char *verb)
{
	size_t n = strlen(verb);

	return strncasecmp(line, verb, n) == 0 &&
	       (line[n] == '\0' || line[n] == ' ' || line[n] == '\r' || line[n] == '\n');
}

