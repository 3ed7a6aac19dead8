/* Start-up and the per-connection split of privilege separation: the
 * users, the fork of the store helper, the drop of the parser. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "net/tls.h"
#include "privsep/privsep.h"
#include "util/log.h"
#include "util/secmem.h"
#include "util/wipe.h"

int privsep_drop(uid_t uid, gid_t gid)
{
	if (uid == 0) {
		errno = EINVAL;
		return -1;
	}
	if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
		return -1;
	if (setuid(0) == 0 || getuid() != uid || geteuid() != uid || getegid() != gid) {
		errno = EPERM;
		return -1;
	}
	return secmem_nodump();
}

static int user(const char *prog, const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(name);
	if (pw == NULL || pw->pw_uid == 0) {
		fprintf(stderr,
		        "%s: user %s: %s (create the users with systemd-sysusers, see msgw(7))\n",
		        prog, name,
		        pw      ? "must not be root"
		        : errno ? strerror(errno)
		                : "no such user");
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int privsep_setup(struct privsep *ps, const struct config *cfg, enum privsep_role role,
                  const char *prog)
{
	memset(ps, 0, sizeof *ps);
	ps->role = role;
	if (geteuid() != 0) {
		if (cfg->server.require_privsep) {
			fprintf(stderr,
			        "%s: not started as root, so privileges cannot be separated "
			        "(msgw(7), SECURITY); server.require_privsep = false runs "
			        "unseparated\n",
			        prog);
			return EX_NOPERM;
		}
		log_warning(
		    "event=privsep_off reason=\"not started as root\" uid=%ld: a bug in the "
		    "protocol code would expose the whole store",
		    (long)geteuid());
		return 0;
	}
	if (user(prog, PRIVSEP_STORE_USER, &ps->store_uid, &ps->store_gid) < 0 ||
	    user(prog, role == PRIVSEP_POP3 ? PRIVSEP_POP3_USER : PRIVSEP_SMTP_USER,
	         &ps->parser_uid, &ps->parser_gid) < 0)
		return EX_NOUSER;
	if (ps->store_uid == ps->parser_uid) {
		fprintf(stderr, "%s: the store user and the parser user must differ\n", prog);
		return EX_CONFIG;
	}
	ps->on = 1;
	return 0;
}

/* The helper must not hold the connection: fds 0/1 become /dev/null. */
static int shed_connection(const struct conn *c)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null < 0)
		return -1;
	if (c->rfd > 1)
		close(c->rfd);
	if (c->wfd > 1 && c->wfd != c->rfd)
		close(c->wfd);
	if (dup2(null, 0) < 0 || dup2(null, 1) < 0)
		return -1;
	close(null);
	return 0;
}

static void forget_key(struct tls_pem *p)
{
	if (p->key) {
		wipe(p->key, p->key_len);
		free(p->key);
		p->key = NULL;
	}
}

/* The helper never does TLS: it keeps no private key. */
static void forget_tls_key(struct config *cfg)
{
	forget_key(&cfg->tls_preload);
	forget_key(&cfg->tls_rsa_preload);
}

static _Noreturn void helper_main(const struct privsep *ps, struct config *cfg,
                                  const struct conn *c, int fd)
{
	forget_tls_key(cfg);
	signal(SIGPIPE, SIG_IGN);
	if (shed_connection(c) < 0 || privsep_drop(ps->store_uid, ps->store_gid) < 0) {
		log_error("event=store_helper error=\"cannot drop to %s: %s\"", PRIVSEP_STORE_USER,
		          strerror(errno));
		_exit(EX_OSERR);
	}
	_exit(privsep_helper(fd, cfg, ps->role) < 0 ? EX_PROTOCOL : EX_OK);
}

int privsep_run(const struct privsep *ps, struct config *cfg, const struct conn *c,
                privsep_session_fn fn, void *arg)
{
	int sv[2], rc, status;
	pid_t pid;

	if (!ps->on)
		return fn(c, arg);
	if (tls_server_preload(cfg) < 0)
		log_warning("event=tls_preload cert=%s key=%s error=\"%s\"", cfg->tls.cert,
		            cfg->tls.key, strerror(errno));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		log_error("event=privsep error=\"socketpair: %s\"", strerror(errno));
		return EX_OSERR;
	}
	if ((pid = fork()) < 0) {
		log_error("event=privsep error=\"fork: %s\"", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return EX_OSERR;
	}
	if (pid == 0) {
		close(sv[0]);
		helper_main(ps, cfg, c, sv[1]);
	}
	close(sv[1]);
	/* The unseal slots (pop3/login.c) stay root's files: the parser gets
	 * their descriptors, not the directory. */
	if (ps->role == PRIVSEP_POP3 &&
	    slot_set_open(&cfg->unseal_slots, cfg->crypt.unseal_lock_dir, cfg->crypt.max_unseals) < 0)
		log_warning("event=unseal_slots dir=%s error=\"%s\"", cfg->crypt.unseal_lock_dir,
		            strerror(errno));
	if (privsep_drop(ps->parser_uid, ps->parser_gid) < 0) {
		log_error("event=privsep error=\"cannot drop to uid %ld: %s\"",
		          (long)ps->parser_uid, strerror(errno));
		close(sv[0]);
		waitpid(pid, NULL, 0);
		return EX_OSERR;
	}
	cfg->store_helper.on = 1;
	cfg->store_helper.fd = sv[0];
	rc = fn(c, arg);
	close(sv[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return rc;
}
