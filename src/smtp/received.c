#include "config.h"

#include <stdio.h>
#include <string.h>

#include "smtp/received.h"

/* RFC 3848 / RFC 6531 protocol names for "with". */
static const char *with_name(const struct trace_info *t)
{
	static const char *const names[2][2][2] = {
		/* [utf8][tls][esmtp] */
		{ { "SMTP", "ESMTP" }, { "SMTPS", "ESMTPS" } },
		{ { "UTF8SMTP", "UTF8SMTP" }, { "UTF8SMTPS", "UTF8SMTPS" } },
	};

	return names[t->smtputf8 != 0][t->tls != NULL][t->esmtp != 0];
}

/* RFC 5321 section 4.1.3: an IPv6 address literal is tagged "IPv6:". */
static const char *addr_tag(const char *peer)
{
	return strchr(peer, ':') ? "IPv6:" : "";
}

int trace_format(char *out, size_t size, const struct trace_info *t)
{
	char date[64], rcpt[300] = "", tls[200] = "";
	struct tm tm;
	int n;

	if (gmtime_r(&t->when, &tm) == NULL ||
	    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
		return -1;
	if (t->rcpt && (size_t)snprintf(rcpt, sizeof rcpt, "\r\n\tfor <%s>", t->rcpt) >= sizeof rcpt)
		rcpt[0] = '\0';   /* optional: left out rather than cut */
	if (t->tls && (size_t)snprintf(tls, sizeof tls, "\r\n\t(%s)", t->tls) >= sizeof tls)
		return -1;
	n = snprintf(out, size,
		     "Return-Path: <%s>\r\n"
		     "Received: from %s ([%s%s])\r\n"
		     "\tby %s (msgw) with %s id %s%s%s;\r\n"
		     "\t%s\r\n",
		     t->from, t->helo[0] ? t->helo : "unknown", addr_tag(t->peer), t->peer,
		     t->hostname, with_name(t),
		     t->id, tls, rcpt, date);
	if (n < 0 || (size_t)n >= size)
		return -1;
	return n;
}
