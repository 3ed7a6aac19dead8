/* Commands that read: list and show. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "mbox/cmd.h"
#include "store/dedup.h"
#include "store/escrow.h"

static int json_only(struct ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	cmd_getopt_reset();
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt != 'j')
			cmd_bad_option(c, argv);
		c->json = 1;
	}
	return optind;
}

/* A mailbox that does not load is named on stderr; list goes on. */
static void report_bad(void *arg, const char *id, int err)
{
	int *rc = arg;

	fprintf(stderr, "msgw-mbox: mailbox %s: %s\n", id,
		err == EBADMSG ? "damaged mailbox.conf" : strerror(err));
	*rc = err == EBADMSG ? EX_DATAERR : EX_IOERR;
}

static void row(const struct mailbox *mb, const struct mailbox_stats *s)
{
	char oldest[32];

	format_time(oldest, sizeof oldest, s->oldest);
	printf("%-16s  %-9s  %-7s  %8llu  %12llu  %-20s  %s\n", mb->id,
	       mb->suspended ? "suspended" : "active", mb->proxy ? "proxy" : "journal", (unsigned long long)s->messages, (unsigned long long)s->bytes, oldest, mb->name);
}

int cmd_list(struct ctx *c, int argc, char **argv)
{
	struct mailbox *mbs = NULL;
	size_t n = 0, i;
	json_t *arr = NULL;
	int rc;

	if (json_only(c, argc, argv) != argc)
		app_usage_error(&c->app, "list: no operands expected");
	if ((rc = ctx_open(c)) != 0)
		return rc;
	rc = EX_OK;
	if (store_mailbox_list(&c->st, &mbs, &n, report_bad, &rc) < 0) {
		fprintf(stderr, "msgw-mbox: %s: %s\n", c->st.root, strerror(errno));
		return errno_exit(errno);
	}
	if (c->json && (arr = json_array()) == NULL) {
		rc = print_json(NULL);
		goto out;
	}
	if (!c->json)
		printf("%-16s  %-9s  %-7s  %8s  %12s  %-20s  %s\n", "ID", "STATUS", "KIND", "MESSAGES", "BYTES", "OLDEST", "NAME");
	for (i = 0; i < n; i++) {
		struct mailbox_stats s;
		if (store_mailbox_stats(&mbs[i], &s) < 0) {
			fprintf(stderr, "msgw-mbox: mailbox %s: %s: %s\n", mbs[i].id, mbs[i].dir, strerror(errno));
			rc = EX_IOERR;
			continue;
		}
		if (!c->json)
			row(&mbs[i], &s);
		else if (json_array_append_new(arr, mailbox_json(c, &mbs[i], &s)) < 0)
			rc = EX_OSERR;
	}
	if (c->json) {
		int prc = print_json(arr);
		if (rc == EX_OK)
			rc = prc;
	} else if (fflush(stdout) != 0) {
		rc = EX_IOERR;
	}
out:
	free(mbs);
	return rc;
}

/* show's keys beyond the contract: escrow and de-duplication. */
static json_t *extras_json(const struct ctx *c, const struct mailbox *mb,
			   const struct store_dedup_stats *ds, json_t *o)
{
	const char *text, *source;
	int have = store_escrow_describe(&c->st, mb, &text, &source);

	if (o == NULL ||
	    json_object_set_new(o, "escrow_recipient", have ? json_string(text) : json_null()) < 0 ||
	    json_object_set_new(o, "escrow_source", have ? json_string(source) : json_null()) < 0 ||
	    json_object_set_new(o, "dedup_window", json_integer((json_int_t)mb->dedup_window)) < 0 ||
	    json_object_set_new(o, "duplicates_dropped", json_integer((json_int_t)ds->dropped)) < 0 ||
	    json_object_set_new(o, "dedup_entries", json_integer((json_int_t)ds->entries)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void extras_text(const struct ctx *c, const struct mailbox *mb, const struct store_dedup_stats *ds)
{
	const char *text, *source;
	char w[32];

	if (store_escrow_describe(&c->st, mb, &text, &source))
		printf("escrow:      %s (%s)\n", text, source);
	else
		printf("escrow:      none\n");
	store_dedup_window_format(mb->dedup_window, w, sizeof w);
	printf("dedup:       %s, %llu duplicates dropped, %llu index entries\n", w,
	       (unsigned long long)ds->dropped, (unsigned long long)ds->entries);
}

int cmd_show(struct ctx *c, int argc, char **argv)
{
	struct mailbox mb;
	struct mailbox_stats s;
	struct store_lock_info li;
	struct store_dedup_stats ds;
	char created[32], oldest[64];
	int first = json_only(c, argc, argv), rc;

	if (argc - first != 1)
		app_usage_error(&c->app, "show: exactly one ID expected");
	if ((rc = check_id(argv[first])) != 0 || (rc = ctx_open(c)) != 0 ||
	    (rc = load_with_stats(c, argv[first], &mb, &s)) != 0)
		return rc;
	if (store_lock_inspect(&c->st, &mb, &li) < 0) {
		fprintf(stderr, "msgw-mbox: mailbox %s: maildrop lock: %s\n", mb.id, strerror(errno));
		return errno_exit(errno);
	}
	if (store_dedup_stats(&mb, &ds) < 0) {
		fprintf(stderr, "msgw-mbox: mailbox %s: %s/dedup: %s\n", mb.id, mb.dir, strerror(errno));
		return errno_exit(errno);
	}
	if (c->json) {
		json_t *o = extras_json(c, &mb, &ds, mailbox_json(c, &mb, &s));
		if (o != NULL && json_object_set_new(o, "lock", lock_json(&li)) < 0) {
			json_decref(o);
			o = NULL;
		}
		return print_json(o);
	}
	format_time(created, sizeof created, mb.created);
	format_time(oldest, sizeof oldest, s.oldest);
	if (s.oldest) {
		time_t now = time(NULL);
		size_t l = strlen(oldest);
		snprintf(oldest + l, sizeof oldest - l, " (%lld h ago)",
			 now > s.oldest ? (long long)(now - s.oldest) / 3600 : 0LL);
	}
	printf("id:          %s\n"
	       "address:     %s@%s\n"
	       "name:        %s\n"
	       "description: %s\n"
	       "status:      %s\n"
	       "kind:        %s\n"
	       "created:     %s\n"
	       "messages:    %llu\n"
	       "bytes:       %llu\n"
	       "oldest:      %s\n",
	       mb.id, mb.id, c->app.cfg.domain, mb.name, mb.description,
	       mb.suspended ? "suspended" : "active", mb.proxy ? "proxy" : "journal", created, (unsigned long long)s.messages,
	       (unsigned long long)s.bytes, oldest);
	print_lock(&li);
	extras_text(c, &mb, &ds);
	return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
}
