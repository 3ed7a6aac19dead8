/* msgw-pop3: the POP3 front end (archiver retrieval; proxy on % logins). */
#include "config.h"

#include "net/frontend.h"
#include "pop3/session.h"

static const char usage[] =
	"Usage: msgw-pop3 [-c CONF] [--implicit-tls] [--listen ADDR:PORT] [--foreground]\n"
	"Serve msgw mailboxes by POP3, decrypting with the mailbox password.\n"
	"Without --listen, serves one connection on fds 0/1 (inetd, systemd\n"
	"Accept=yes), or accepts on fd 3 when LISTEN_FDS=1 (systemd Accept=no).\n"
	"\n"
	"  -c, --config FILE   configuration file (default $MSGW_CONFIG or " MSGW_DEFAULT_CONFIG ")\n"
	"      --implicit-tls  TLS from the first byte (port 995)\n"
	"      --listen A:P    listen on address A, port P; fork per connection\n"
	"      --foreground    log to stderr instead of syslog\n"
	"      --help          show this help\n"
	"      --version       show the version\n"
	"See msgw-pop3(8).\n";

int main(int argc, char **argv)
{
	struct frontend fe = { .app = { .prog = "msgw-pop3", .usage = usage } };

	return frontend_main(argc, argv, &fe, NULL, pop3_session);
}
