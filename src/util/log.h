/* Logging: one line per event, key=value, to syslog (facility mail) or to
 * stderr (--foreground, or when stderr is the journal). */
#ifndef MSGW_UTIL_LOG_H
#define MSGW_UTIL_LOG_H

#include <stddef.h>

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARNING, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* prog must outlive the process (a string literal). */
void log_open(const char *prog, int to_stderr);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
int log_enabled(enum log_level level);
/* The peer address added as peer=... to every line; NULL clears it. */
void log_set_peer(const char *addr);
/* fmt is the rest of the line in key=value form, e.g. "event=login id=%s". */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LVL_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* A value safe for key=value: returned as is when it has no space, quote,
 * '=' or control character, else quoted with \" \\ and \xHH escapes.
 * Truncated (with "...") to fit out. Returns out or s. */
const char *log_q(char *out, size_t size, const char *s);

/* Parse "error|warning|info|debug"; -1 when unknown. */
int log_level_parse(const char *s);

#endif
