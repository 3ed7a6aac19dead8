/* The msgw-acme commands (argv[0] is the command name) and helpers they
 * share. Each parses its options, then loads the configuration. */
#ifndef MSGW_ACME_CMD_H
#define MSGW_ACME_CMD_H

#include "conf/app.h"

int acmecmd_selfsigned(struct app *a, int argc, char **argv);
int acmecmd_import(struct app *a, int argc, char **argv);
int acmecmd_status(struct app *a, int argc, char **argv);
int acmecmd_issue(struct app *a, int argc, char **argv);
int acmecmd_renew(struct app *a, int argc, char **argv);

void acmecmd_usage_error(struct app *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
int acmecmd_parse_int(const char *s, long min, long max, long *out);
struct keychoice;
/* --key-type and --rsa-bits, or a usage error (exit 64). */
void acmecmd_key_type(struct app *a, struct keychoice *kc, const char *arg);
void acmecmd_rsa_bits(struct app *a, struct keychoice *kc, const char *arg);

#endif
