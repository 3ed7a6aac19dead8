/* Commands that change mailboxes: create, edit, delete, reset-password. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "mbox/cmd.h"
#include "store/dedup.h"
#include "store/escrow.h"
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

/* --escrow-recipient age1...|none|default and --dedup WINDOW|off. */
static int check_escrow_dedup(const char *escrow, const char *dedup, int64_t *window)
{
	struct age_recipient r;

	if (escrow && strcmp(escrow, "none") != 0 && strcmp(escrow, "default") != 0 &&
	    age_recipient_parse(escrow, &r) != 0) {
		fprintf(stderr, "msgw-mbox: edit: --escrow-recipient: \"%.80s\" is not an age recipient"
			" (age1...), none or default\n", escrow);
		return EX_DATAERR;
	}
	if (dedup && store_dedup_window_parse(dedup, window) < 0) {
		fprintf(stderr, "msgw-mbox: edit: --dedup: \"%.80s\" is not a window such as 7d, 12h, 90m,"
			" 3600s or off (at most 366d)\n", dedup);
		return EX_DATAERR;
	}
	return EX_OK;
}

int cmd_edit(struct ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "description", required_argument, NULL, 'd' },
		{ "status", required_argument, NULL, 's' },
		{ "escrow-recipient", required_argument, NULL, 'e' },
		{ "dedup", required_argument, NULL, 'w' },
		{ "proxy", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *desc = NULL, *status = NULL, *escrow = NULL, *dedup = NULL;
	const char *proxy = NULL, *id;
	struct mailbox mb;
	int64_t window = 0;
	uint8_t key[STORE_DEDUP_KEY_SIZE];
	int opt, rc;

	cmd_getopt_reset();
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'n': name = optarg; break;
		case 'd': desc = optarg; break;
		case 's': status = optarg; break;
		case 'e': escrow = optarg; break;
		case 'w': dedup = optarg; break;
		case 'p': proxy = optarg; break;
		default: cmd_bad_option(c, argv);
		}
	}
	if (argc - optind != 1)
		app_usage_error(&c->app, "edit: exactly one ID expected");
	if (!name && !desc && !status && !escrow && !dedup && !proxy)
		app_usage_error(&c->app, "edit: nothing to change (--name, --description, --status,"
				" --escrow-recipient, --dedup or --proxy)");
	if (proxy && strcmp(proxy, "on") != 0 && strcmp(proxy, "off") != 0)
		app_usage_error(&c->app, "edit: --proxy must be on or off");
	if ((rc = check_escrow_dedup(escrow, dedup, &window)) != 0)
		return rc;
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
	if (escrow)
		snprintf(mb.escrow, sizeof mb.escrow, "%s", strcmp(escrow, "default") == 0 ? "" : escrow);
	if (dedup)
		mb.dedup_window = window;
	/* The key exists before the first delivery needs it. */
	if (mb.dedup_window > 0 && store_dedup_key(mb.dir, key) < 0)
		return fail_mailbox(id, errno);
	wipe(key, sizeof key);
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

static int reset_with_escrow(struct ctx *c, const char *id, const char *idfile)
{
	char password[STORE_PASSWORD_LEN + 1];
	struct age_identity escrow;
	struct escrow_reset res;
	struct mailbox mb;
	int rc;

	if ((rc = read_escrow_identity(idfile, &escrow)) != 0)
		return rc;
	if ((rc = ctx_open(c)) != 0)
		goto out;
	if (store_mailbox_reset_escrow(&c->st, id, &escrow, password, &res) < 0) {
		if (errno == EACCES)
			fprintf(stderr, "msgw-mbox: mailbox %s: a message does not open with %s (stored"
				" without an escrow stanza, or another escrow key); nothing changed\n", id, idfile);
		rc = errno == EACCES ? EX_NOPERM : fail_mailbox(id, errno);
		goto out;
	}
	if (store_mailbox_load(&c->st, id, &mb) < 0) {
		rc = fail_mailbox(id, errno);
	} else {
		if (!c->json)
			printf("Mailbox %s: %lu messages re-encrypted to the new key pair.\n", id, res.reencrypted);
		if (res.left)
			fprintf(stderr, "msgw-mbox: mailbox %s: %lu messages arrived without an escrow stanza"
				" meanwhile and stay sealed to the old key\n", id, res.left);
		rc = print_password(c, &mb, password, "has a new key pair and password");
	}
	wipe(password, sizeof password);
out:
	age_identity_wipe(&escrow);
	return rc;
}

int cmd_reset_password(struct ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "escrow-identity", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	const char *id, *idfile = NULL;
	char password[STORE_PASSWORD_LEN + 1];
	struct mailbox mb;
	int opt, rc;

	cmd_getopt_reset();
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': c->json = 1; break;
		case 'i': idfile = optarg; break;
		default: cmd_bad_option(c, argv);
		}
	}
	if (argc - optind != 1)
		app_usage_error(&c->app, "reset-password: exactly one ID expected");
	id = argv[optind];
	if ((rc = check_id(id)) != 0)
		return rc;
	if (idfile)
		return reset_with_escrow(c, id, idfile);
	if ((rc = ctx_open(c)) != 0)
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
