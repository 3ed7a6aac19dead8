#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include "conf/app.h"
#include "util/log.h"

void app_usage(const struct app *a, FILE *f)
{
	fputs(a->usage, f);
}

void app_usage_error(const struct app *a, const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		fprintf(stderr, "%s: ", a->prog);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	app_usage(a, stderr);
	exit(EX_USAGE);
}

void app_version(const struct app *a)
{
	printf("%s (msgw) %s\n", a->prog, PACKAGE_VERSION);
}

void app_load(struct app *a)
{
	char err[512];
	const char *path = config_pick_path(a->config_path);

	if (config_load(&a->cfg, path, err, sizeof err) < 0) {
		fprintf(stderr, "%s: %s\n", a->prog, err);
		exit(EX_CONFIG);
	}
	log_open(a->prog, a->foreground);
	log_set_level(a->cfg.log_level);
}
