/* Privilege separation of the network front ends (see man/msgw.7,
 * SECURITY): per connection, a store helper with the store's uid that
 * never sees the connection, and the protocol parser with a uid that can
 * touch nothing stored, talking over a socketpair (store/wire.h). */
#ifndef MSGW_PRIVSEP_PRIVSEP_H
#define MSGW_PRIVSEP_PRIVSEP_H

#include <sys/types.h>

#include "conf/conf.h"
#include "net/serve.h"
#include "store/admin.h"

#define PRIVSEP_STORE_USER STORE_USER_NAME
#define PRIVSEP_SMTP_USER "msgw-smtp"
#define PRIVSEP_POP3_USER "msgw-pop3"

enum privsep_role {
	PRIVSEP_SMTP, /* deliveries only */
	PRIVSEP_POP3, /* deliveries (the proxy's tee) and one maildrop log-in */
};

struct privsep {
	int on; /* 0: not started as root, running unseparated */
	enum privsep_role role;
	uid_t store_uid, parser_uid;
	gid_t store_gid, parser_gid;
};

/* At start-up: as root, look the users up (EX_NOUSER when one is missing);
 * not as root, refuse unless server.require_privsep is false (then warn).
 * Returns 0 or a sysexits code. */
int privsep_setup(struct privsep *ps, const struct config *cfg, enum privsep_role role,
                  const char *prog);

typedef int (*privsep_session_fn)(const struct conn *c, void *arg);

/* Per connection: read the TLS files, fork the store helper, drop to the
 * parser's uid and run fn; then wait for the helper. The exit status. */
int privsep_run(const struct privsep *ps, struct config *cfg, const struct conn *c,
                privsep_session_fn fn, void *arg);

/* The store helper's request loop on fd until end of stream (helper.c).
 * 0 at a clean end, -1 after a refused request. */
int privsep_helper(int fd, const struct config *cfg, enum privsep_role role);

/* Drop to uid/gid for good (no supplementary groups), non-dumpable. */
int privsep_drop(uid_t uid, gid_t gid);

#endif
