/* Shared by the msgw-mbox commands: the run context, error reporting with
 * sysexits codes, mailbox output (table / JSON), reading a password. */
#ifndef MSGW_MBOX_CMD_H
#define MSGW_MBOX_CMD_H

#include <jansson.h>
#include <stddef.h>

#include "conf/app.h"
#include "store/admin.h"
#include "store/store.h"

struct ctx {
	struct app app;
	struct store st;
	int json;
};

/* One command: argv[0] is its name. Returns the exit status. */
int cmd_create(struct ctx *c, int argc, char **argv);
int cmd_list(struct ctx *c, int argc, char **argv);
int cmd_show(struct ctx *c, int argc, char **argv);
int cmd_edit(struct ctx *c, int argc, char **argv);
int cmd_delete(struct ctx *c, int argc, char **argv);
int cmd_reset_password(struct ctx *c, int argc, char **argv);
int cmd_export(struct ctx *c, int argc, char **argv);
int cmd_status(struct ctx *c, int argc, char **argv);
int cmd_unlock(struct ctx *c, int argc, char **argv);
int cmd_recover(struct ctx *c, int argc, char **argv);

/* An age identity file (age-keygen format) for the escrow commands,
 * reported on failure. 0 or an exit status. */
int read_escrow_identity(const char *path, struct age_identity *id);

/* Load the configuration (exit 78 on failure), act as the owner of
 * data_dir when root, open the store. Returns 0 or an exit status. */
int ctx_open(struct ctx *c);

/* Make jansson wipe what it frees (call once, first). */
void cmd_json_init(void);
/* Before a command's getopt_long loop: restart option scanning at
 * argv[1] (argv[0] is the command), errors reported by the command. */
void cmd_getopt_reset(void);
/* "msgw-mbox: COMMAND: unknown or incomplete option" and usage, exit 64. */
void cmd_bad_option(const struct ctx *c, char **argv) __attribute__((noreturn));

/* The sysexits code for an errno from the store. */
int errno_exit(int err);
/* "msgw-mbox: mailbox ID: reason" on stderr; returns errno_exit(err). */
int fail_mailbox(const char *id, int err);
/* Validate an id operand: EX_DATAERR with a message when bad. */
int check_id(const char *id);

/* Load a mailbox and its statistics, reporting failures. */
int load_with_stats(struct ctx *c, const char *id, struct mailbox *mb, struct mailbox_stats *s);
/* The JSON object of the contract: id address name description status
 * messages bytes oldest. */
json_t *mailbox_json(const struct ctx *c, const struct mailbox *mb, const struct mailbox_stats *s);
/* Print a JSON value on stdout (one line); an exit status. */
int print_json(json_t *v);
/* The maildrop lock in show: a "locked by:" line (none when free), and
 * JSON {host pid state lease age} or null. */
void print_lock(const struct store_lock_info *li);
json_t *lock_json(const struct store_lock_info *li);
/* "2026-01-02 15:04 UTC", or "-" for 0. */
void format_time(char *out, size_t size, time_t t);

/* Read a password: from file (first line; "-" is standard input) or, with
 * path NULL, from a terminal prompt. The caller wipes buf. 0 or an exit status. */
int read_password(const char *path, char *buf, size_t size, size_t *len);
/* Print a new password once, with the warning that it cannot be recovered. */
int print_password(const struct ctx *c, const struct mailbox *mb, const char *password,
		   const char *what);

#endif
