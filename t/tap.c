#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

static int planned = -1, run, failed, lazy;
static char tmpdir[256];

void plan(int n)
{
	planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

void plan_lazy(void)
{
	lazy = 1;
}

static void vreport(int cond, const char *fmt, va_list ap)
{
	run++;
	if (!cond)
		failed++;
	printf("%sok %d - ", cond ? "" : "not ", run);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
}

int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(cond, fmt, ap);
	va_end(ap);
	return cond;
}

int is_int(long long got, long long want, const char *fmt, ...)
{
	va_list ap;
	int cond = got == want;

	va_start(ap, fmt);
	vreport(cond, fmt, ap);
	va_end(ap);
	if (!cond)
		diag("     got: %lld\n  wanted: %lld", got, want);
	return cond;
}

int is_str(const char *got, const char *want, const char *fmt, ...)
{
	va_list ap;
	int cond = got && want ? strcmp(got, want) == 0 : got == want;

	va_start(ap, fmt);
	vreport(cond, fmt, ap);
	va_end(ap);
	if (!cond)
		diag("     got: '%s'\n  wanted: '%s'", got ? got : "(null)", want ? want : "(null)");
	return cond;
}

int is_mem(const void *got, size_t glen, const void *want, size_t wlen, const char *fmt, ...)
{
	va_list ap;
	int cond = glen == wlen && (glen == 0 || memcmp(got, want, glen) == 0);

	va_start(ap, fmt);
	vreport(cond, fmt, ap);
	va_end(ap);
	if (!cond)
		diag("     got %zu bytes, wanted %zu bytes (contents differ)", glen, wlen);
	return cond;
}

void skip(const char *reason, const char *fmt, ...)
{
	va_list ap;

	run++;
	printf("ok %d - ", run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" # SKIP %s\n", reason);
	fflush(stdout);
}

void diag(const char *fmt, ...)
{
	va_list ap;
	char msg[4096], *line, *save = NULL;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fflush(stdout);
	for (line = strtok_r(msg, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		printf("# %s\n", line);
	fflush(stdout);
}

void bail(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(255);
}

int done_testing(void)
{
	if (lazy)
		printf("1..%d\n", run);
	else if (planned != run)
		diag("planned %d tests but ran %d", planned, run);
	fflush(stdout);
	if (tmpdir[0]) {
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			diag("could not remove %s", tmpdir);
	}
	return failed || (!lazy && planned != run) ? 1 : 0;
}

const char *t_srcdir(void)
{
	static char dir[4096];
	const char *s = getenv("MSGW_SRCDIR");

	snprintf(dir, sizeof dir, "%s/t", s && *s ? s : ".");
	return dir;
}

const char *t_tmpdir(void)
{
	const char *base = getenv("TMPDIR");

	if (tmpdir[0] == '\0') {
		snprintf(tmpdir, sizeof tmpdir, "%s/msgw-t.XXXXXX", base && *base ? base : "/tmp");
		if (mkdtemp(tmpdir) == NULL)
			bail("mkdtemp %s failed", tmpdir);
	}
	return tmpdir;
}
