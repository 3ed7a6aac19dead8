/* What every msgw program does first: standard options, configuration,
 * logging. Exits with sysexits codes so scripts can tell failures apart. */
#ifndef MSGW_CONF_APP_H
#define MSGW_CONF_APP_H

#include <stdio.h>

#include "conf/conf.h"

struct app {
	const char *prog;        /* "msgw-smtp" */
	const char *usage;       /* full usage text, printed by --help */
	const char *config_path; /* from -c, else NULL */
	int foreground;          /* log to stderr */
	struct config cfg;
};

/* Print usage to f. */
void app_usage(const struct app *a, FILE *f);
/* Usage on stderr, exit 64 (EX_USAGE). */
void app_usage_error(const struct app *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
/* Load the configuration (exit 78, EX_CONFIG, with the message on stderr
 * on failure) and open the log at the configured level. */
void app_load(struct app *a);
void app_version(const struct app *a);

#endif
