/* msgw-smtp: the SMTP front end (journal target; proxy on AUTH). */
#include "config.h"

#include "net/frontend.h"
#include "smtp/session.h"

static const char usage[] =
	"Usage: msgw-smtp [-c CONF] [--implicit-tls] [--listen ADDR:PORT] [--foreground]\n"
	"Receive mail for msgw mailboxes by SMTP and store it encrypted.\n"
	"Without --listen, serves one connection on fds 0/1 (inetd, systemd\n"
	"Accept=yes), or accepts on fd 3 when LISTEN_FDS=1 (systemd Accept=no).\n"
	"\n"
	"  -c, --config FILE   configuration file (default $MSGW_CONFIG or " MSGW_DEFAULT_CONFIG ")\n"
	"      --implicit-tls  TLS from the first byte (port 465)\n"
	"      --listen A:P    listen on address A, port P; fork per connection\n"
	"      --foreground    log to stderr instead of syslog\n"
	"      --help          show this help\n"
	"      --version       show the version\n"
	"See msgw-smtp(8).\n";

int main(int argc, char **argv)
{
	struct frontend fe = { .app = { .prog = "msgw-smtp", .usage = usage } };

	return frontend_main(argc, argv, &fe, NULL, smtp_session);
}
