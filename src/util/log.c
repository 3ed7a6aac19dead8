#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "util/log.h"

/* The process's own logging settings: set once at start-up. */
static struct {
	const char *prog;
	int to_stderr;
	enum log_level level;
	char peer[64];
} lg = { "msgw", 1, LOG_LVL_INFO, "" };

static const char *const level_names[] = { "error", "warning", "info", "debug" };

/* systemd sets JOURNAL_STREAM=dev:ino when stderr is the journal. */
static int stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(2, &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_open(const char *prog, int to_stderr)
{
	lg.prog = prog;
	lg.to_stderr = to_stderr || stderr_is_journal();
	if (!lg.to_stderr)
		openlog(prog, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void log_set_level(enum log_level level) { lg.level = level; }
enum log_level log_get_level(void) { return lg.level; }
int log_enabled(enum log_level level) { return level <= lg.level; }

void log_set_peer(const char *addr)
{
	if (addr == NULL)
		lg.peer[0] = '\0';
	else
		snprintf(lg.peer, sizeof lg.peer, "%s", addr);
}

int log_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
		if (strcmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char line[2048];
	size_t off;
	va_list ap;

	if (level > lg.level)
		return;
	off = (size_t)snprintf(line, sizeof line, "level=%s ", level_names[level]);
	if (lg.peer[0])
		off += (size_t)snprintf(line + off, sizeof line - off, "peer=%s ", lg.peer);
	va_start(ap, fmt);
	vsnprintf(line + off, sizeof line - off, fmt, ap);   /* long lines are cut */
	va_end(ap);
	if (lg.to_stderr)
		fprintf(stderr, "%s[%ld]: %s\n", lg.prog, (long)getpid(), line);
	else
		syslog(prio[level], "%s", line);
}

static int needs_quote(const char *s)
{
	if (*s == '\0')
		return 1;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f)
			return 1;
	}
	return 0;
}

const char *log_q(char *out, size_t size, const char *s)
{
	size_t o = 0;

	if (s == NULL)
		s = "";
	if (!needs_quote(s) && strlen(s) < size)
		return s;
	if (size < 8) {
		snprintf(out, size, "\"\"");
		return out;
	}
	out[o++] = '"';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[5];
		size_t el;

		if (c == '"' || c == '\\')
			el = (size_t)snprintf(esc, sizeof esc, "\\%c", c);
		else if (c < ' ' || c == 0x7f)
			el = (size_t)snprintf(esc, sizeof esc, "\\x%02x", c);
		else
			el = (size_t)snprintf(esc, sizeof esc, "%c", c);
		if (o + el + 5 > size) {   /* keep room for ...", NUL */
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(out + o, esc, el);
		o += el;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}
