/* msgw-proxy: the proxy-only front end, for separate proxy ports. */
#include "config.h"

#include <string.h>

#include "net/frontend.h"
#include "pop3/session.h"
#include "smtp/session.h"

static const char usage[] =
	"Usage: msgw-proxy [-c CONF] smtp|pop3 [--implicit-tls] [--listen ADDR:PORT] [--foreground]\n"
	"Relay SMTP or POP3 sessions of user%server%mailbox logins to their\n"
	"server and record every message in the named msgw mailbox.\n"
	"\n"
	"  -c, --config FILE   configuration file (default $MSGW_CONFIG or " MSGW_DEFAULT_CONFIG ")\n"
	"      --implicit-tls  TLS from the first byte (ports 465, 995)\n"
	"      --listen A:P    listen on address A, port P; fork per connection\n"
	"      --foreground    log to stderr instead of syslog\n"
	"      --help          show this help\n"
	"      --version       show the version\n"
	"See msgw-proxy(8).\n";

/* msgw-smtp's or msgw-pop3's session, under the proxy-only policy. */
static int proxy_front(const struct conn *c, const struct frontend *fe)
{
	return strcmp(fe->service, "pop3") == 0 ? pop3_session(c, fe) : smtp_session(c, fe);
}

int main(int argc, char **argv)
{
	static const char *const services[] = { "smtp", "pop3", NULL };
	struct frontend fe = { .app = { .prog = "msgw-proxy", .usage = usage }, .proxy_only = 1 };

	return frontend_main(argc, argv, &fe, services, proxy_front);
}
