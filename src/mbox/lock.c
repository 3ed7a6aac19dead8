/* The maildrop lock for the administrator: who holds it (show) and
 * removing it (unlock), refused while its lease runs unless --force. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "mbox/cmd.h"

/* "host pid 1234" or "unreadable lock file". */
static void holder(const struct store_lock_info *li, char *out, size_t size)
{
	if (li->readable)
		snprintf(out, size, "%s pid %ld", li->host, li->pid);
	else
		snprintf(out, size, "unreadable lock file");
}

void print_lock(const struct store_lock_info *li)
{
	char who[128];

	if (!li->present)
		return;
	holder(li, who, sizeof who);
	printf("locked by:   %s, lease renewed %lld s ago, lease %ld s (%s)\n", who,
	       li->age_ms / 1000, li->lease, store_lock_state_name(li->state));
}

json_t *lock_json(const struct store_lock_info *li)
{
	if (!li->present)
		return json_null();
	return json_pack("{s:o, s:I, s:s, s:I, s:I}", "host",
			 li->readable ? json_string(li->host) : json_null(), "pid",
			 (json_int_t)li->pid, "state", store_lock_state_name(li->state), "lease",
			 (json_int_t)li->lease, "age", (json_int_t)(li->age_ms / 1000));
}

static int unlock_args(struct ctx *c, int argc, char **argv, int *force)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	cmd_getopt_reset();
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt != 'f')
			cmd_bad_option(c, argv);
		*force = 1;
	}
	if (argc - optind != 1)
		app_usage_error(&c->app, "unlock: exactly one ID expected");
	return optind;
}

int cmd_unlock(struct ctx *c, int argc, char **argv)
{
	struct mailbox mb;
	struct store_lock_info li;
	char who[128];
	int force = 0, first = unlock_args(c, argc, argv, &force), rc;
	const char *id = argv[first];

	if ((rc = check_id(id)) != 0 || (rc = ctx_open(c)) != 0)
		return rc;
	if (store_mailbox_load(&c->st, id, &mb) < 0)
		return fail_mailbox(id, errno);
	if (store_lock_unlock(&c->st, &mb, force, &li) < 0) {
		int e = errno;
		holder(&li, who, sizeof who);
		if (e == ENOENT) {
			printf("mailbox %s: not locked\n", id);
			return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
		}
		if (e == EBUSY) {
			fprintf(stderr,
				"msgw-mbox: mailbox %s: locked by %s, lease renewed %lld s ago and "
				"live for %ld s: a session is probably running (--force removes it anyway)\n",
				id, who, li.age_ms / 1000, li.lease);
			return EX_TEMPFAIL;
		}
		fprintf(stderr, "msgw-mbox: mailbox %s: %s: %s\n", id, mb.dir, strerror(e));
		return errno_exit(e);
	}
	holder(&li, who, sizeof who);
	printf("mailbox %s: removed the lock of %s (%s, lease renewed %lld s ago)\n", id, who,
	       store_lock_state_name(li.state), li.age_ms / 1000);
	return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
}
