/* PLACEHOLDER until the SMTP session lands: refuses service politely. */
#include "config.h"

#include <sysexits.h>

#include "net/stream.h"
#include "smtp/session.h"

int smtp_session(const struct conn *c, const struct frontend *fe)
{
	struct stream s;

	stream_init(&s, c->rfd, c->wfd, 30000);
	stream_printf(&s, "421 4.3.2 %s service not available\r\n", fe->app.cfg.hostname);
	stream_flush(&s);
	return EX_UNAVAILABLE;
}
