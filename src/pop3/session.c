/* PLACEHOLDER until the POP3 session lands: refuses service politely. */
#include "config.h"

#include <sysexits.h>

#include "net/stream.h"
#include "pop3/session.h"

int pop3_session(const struct conn *c, const struct frontend *fe)
{
	struct stream s;

	stream_init(&s, c->rfd, c->wfd, 30000);
	stream_printf(&s, "-ERR [SYS/TEMP] service not available\r\n");
	stream_flush(&s);
	return EX_UNAVAILABLE;
}
