/* Commands that change mailboxes: create, edit, delete, reset-password. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "mbox/cmd.h"
#include "util/wipe.h"

int cmd_create(struct ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "description", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "proxy", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *desc = "";
	int proxy = 0;
	char password[STORE_PASSWORD_LEN + 1];
	struct mailbox mb;
	int opt, rc;

	cmd_getopt_reset();
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': desc = optarg; break;
		case 'j': c->json = 1; break;
		case 'p': proxy = 1; break;
		default: cmd_bad_option(c, argv);
		}
	}
	if (argc - optind != 1)
		app_usage_error(&c->app, "create: exactly one NAME expected");
	if (!mailbox_text_valid(argv[optind], MAILBOX_NAME_MAX, 0) ||
	    !mailbox_text_valid(desc, MAILBOX_DESC_MAX, 1)) {
		fprintf(stderr, "msgw-mbox: create: the name (1-%d bytes) and description (up to %d bytes)"
			" must be UTF-8 text without control characters\n", MAILBOX_NAME_MAX, MAILBOX_DESC_MAX);
		return EX_DATAERR;
	}
	if ((rc = ctx_open(c)) != 0)
		return rc;
	if (store_mailbox_create(&c->st, argv[optind], desc, &mb, password) < 0) {
		fprintf(stderr, "msgw-mbox: create: %s: %s\n", c->st.root,
			errno == ENOSPC ? "disk full" : strerror(errno));
		return errno == ENOSPC || errno == EDQUOT ? EX_TEMPFAIL
			: errno == EACCES ? EX_NOPERM : EX_CANTCREAT;
	}
	mb.proxy = proxy;
	if (proxy && store_mailbox_save(&c->st, &mb) < 0) {
		wipe(password, sizeof password);
		return fail_mailbox(mb.id, errno);
	}
	rc = print_password(c, &mb, password, "created");
	wipe(password, sizeof password);
	return rc;
}

int cmd_edit(struct ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "description", required_argument, NULL, 'd' },
		{ "status", required_argument, NULL, 's' },
		{ "proxy", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *desc = NULL, *status = NULL, *proxy = NULL, *id;
	struct mailbox mb;
	int opt, rc;

	cmd_getopt_reset();
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'n': name = optarg; break;
		case 'd': desc = optarg; break;
		case 's': status = optarg; break;
		case 'p': proxy = optarg; break;
		default: cmd_bad_option(c, argv);
		}
	}
	if (argc - optind != 1)
		app_usage_error(&c->app, "edit: exactly one ID expected");
	if (!name && !desc && !status && !proxy)
		app_usage_error(&c->app,
				"edit: nothing to change (--name, --description, --status or --proxy)");
	if (proxy && strcmp(proxy, "on") != 0 && strcmp(proxy, "off") != 0)
		app_usage_error(&c->app, "edit: --proxy must be on or off");
	if (status && strcmp(status, "active") != 0 && strcmp(status, "suspended") != 0)
		app_usage_error(&c->app, "edit: --status must be active or suspended");
	id = argv[optind];
	if ((rc = check_id(id)) != 0)
		return rc;
	if ((name && !mailbox_text_valid(name, MAILBOX_NAME_MAX, 0)) ||
	    (desc && !mailbox_text_valid(desc, MAILBOX_DESC_MAX, 1)))
		return fail_mailbox(id, EILSEQ);
	if ((rc = ctx_open(c)) != 0)
		return rc;
	if (store_mailbox_load(&c->st, id, &mb) < 0)
		return fail_mailbox(id, errno);
	if (name)
		snprintf(mb.name, sizeof mb.name, "%s", name);
	if (desc)
		snprintf(mb.description, sizeof mb.description, "%s", desc);
	if (status)
		mb.suspended = strcmp(status, "suspended") == 0;
	if (proxy)
		mb.proxy = strcmp(proxy, "on") == 0;
	if (store_mailbox_save(&c->st, &mb) < 0)
		return fail_mailbox(id, errno);
	printf("Mailbox %s updated: %s, %s, name \"%s\".\n", id, mb.suspended ? "suspended" : "active",
	       mb.proxy ? "proxy" : "journal", mb.name);
	return EX_OK;
}

/* delete and reset-password take one ID and no option but --json. */
static const char *one_id(struct ctx *c, int argc, char **argv, int json_ok)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	cmd_getopt_reset();
	while ((opt = getopt_long(argc, argv, "", json_ok ? opts : opts + 1, NULL)) != -1) {
		if (opt != 'j')
			cmd_bad_option(c, argv);
		c->json = 1;
	}
	if (argc - optind != 1)
		app_usage_error(&c->app, "%s: exactly one ID expected", argv[0]);
	return argv[optind];
}

int cmd_delete(struct ctx *c, int argc, char **argv)
{
	const char *id = one_id(c, argc, argv, 0);
	int rc;

	if ((rc = check_id(id)) != 0 || (rc = ctx_open(c)) != 0)
		return rc;
	if (store_mailbox_delete(&c->st, id) < 0)
		return fail_mailbox(id, errno);
	printf("Mailbox %s deleted.\n", id);
	return EX_OK;
}

int cmd_reset_password(struct ctx *c, int argc, char **argv)
{
	const char *id = one_id(c, argc, argv, 1);
	char password[STORE_PASSWORD_LEN + 1];
	struct mailbox mb;
	int rc;

	if ((rc = check_id(id)) != 0 || (rc = ctx_open(c)) != 0)
		return rc;
	if (store_mailbox_reset_password(&c->st, id, password) < 0)
		return fail_mailbox(id, errno);
	if (store_mailbox_load(&c->st, id, &mb) < 0) {
		wipe(password, sizeof password);
		return fail_mailbox(id, errno);
	}
	rc = print_password(c, &mb, password, "has a new key pair and password");
	wipe(password, sizeof password);
	return rc;
}
