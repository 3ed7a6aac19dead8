/* A small TAP producer for C unit tests (in the spirit of C TAP Harness). */
#ifndef MSGW_T_TAP_H
#define MSGW_T_TAP_H

#include <stddef.h>

void plan(int n);
void plan_lazy(void);          /* print the plan at exit: done_testing */
int ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int is_int(long long got, long long want, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int is_str(const char *got, const char *want, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int is_mem(const void *got, size_t glen, const void *want, size_t wlen, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void skip(const char *reason, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void bail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Exit status: 0 when every test passed and the plan matched. */
int done_testing(void);

/* Where the tests find their data: $MSGW_SRCDIR/t (or "t"). */
const char *t_srcdir(void);
/* A fresh private directory under $TMPDIR, removed at exit. */
const char *t_tmpdir(void);

#endif
