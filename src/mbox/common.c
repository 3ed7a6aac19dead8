/* What the msgw-mbox commands share: loading, errors and exit codes,
 * mailbox output, passwords. */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <termios.h>
#include <unistd.h>

#include "mbox/cmd.h"
#include "util/wipe.h"

/* jansson's buffers may hold a password (create, reset-password --json):
 * wipe every block it frees. */
static void *json_alloc(size_t n)
{
	return malloc(n);
}

static void json_wipe_free(void *p)
{
	if (p != NULL)
		wipe(p, malloc_usable_size(p));
	free(p);
}

void cmd_json_init(void)
{
	json_set_alloc_funcs(json_alloc, json_wipe_free);
}

void cmd_getopt_reset(void)
{
	optind = 0;     /* 0: glibc re-initialises its scanner */
	opterr = 0;
}

void cmd_bad_option(const struct ctx *c, char **argv)
{
	app_usage_error(&c->app, "%s: unknown or incomplete option '%s'", argv[0], argv[optind - 1]);
}

int ctx_open(struct ctx *c)
{
	app_load(&c->app);
	umask(077);
	if (store_become_owner(c->app.cfg.data_dir) < 0) {
		fprintf(stderr, "msgw-mbox: %s: cannot act as its owner: %s\n", c->app.cfg.data_dir,
			strerror(errno));
		return errno == ENOENT ? EX_CONFIG : EX_NOPERM;
	}
	if (store_init(&c->st, &c->app.cfg) < 0) {
		fprintf(stderr, "msgw-mbox: %s: %s\n", c->app.cfg.data_dir, strerror(errno));
		return EX_CONFIG;
	}
	return 0;
}

int errno_exit(int err)
{
	switch (err) {
	case 0: return EX_OK;
	case EINVAL: case EILSEQ: case EBADMSG: return EX_DATAERR;
	case ENOENT: return EX_NOUSER;
	case EPERM: case ENOTEMPTY: case EACCES: case EROFS: return EX_NOPERM;
	case ENOSPC: case EDQUOT: case EBUSY: return EX_TEMPFAIL;
	case ENOMEM: return EX_OSERR;
	default: return EX_IOERR;
	}
}

static const char *reason(int err)
{
	switch (err) {
	case ENOENT: return "no such mailbox";
	case EINVAL: return "not a valid mailbox id (16 characters a-z and 2-7)";
	case EPERM: return "not suspended (first: msgw-mbox edit ID --status suspended)";
	case ENOTEMPTY: return "not empty (its messages must be retrieved or exported and removed first)";
	case EACCES: return "permission denied";
	case EBUSY: return "in use: a POP3 session holds the maildrop lock";
	case ENOSPC: case EDQUOT: return "disk full";
	case EBADMSG: return "damaged mailbox files";
	case EILSEQ: return "name or description is not valid UTF-8 text of bounded length without control characters";
	default: return strerror(err);
	}
}

int fail_mailbox(const char *id, int err)
{
	fprintf(stderr, "msgw-mbox: mailbox %s: %s\n", id, reason(err));
	return errno_exit(err);
}

int check_id(const char *id)
{
	char q[64];

	if (mailbox_id_valid(id))
		return 0;
	/* The bad id is echoed shortened and without control characters. */
	snprintf(q, sizeof q, "%s", id);
	for (char *p = q; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	fprintf(stderr, "msgw-mbox: mailbox %s%s: %s\n", q, strlen(id) >= sizeof q ? "..." : "",
		reason(EINVAL));
	return EX_DATAERR;
}

int load_with_stats(struct ctx *c, const char *id, struct mailbox *mb, struct mailbox_stats *s)
{
	int rc = check_id(id);

	if (rc != 0)
		return rc;
	if (store_mailbox_load(&c->st, id, mb) < 0)
		return fail_mailbox(id, errno);
	if (store_mailbox_stats(mb, s) < 0) {
		fprintf(stderr, "msgw-mbox: mailbox %s: %s: %s\n", id, mb->dir, strerror(errno));
		return errno_exit(errno);
	}
	return 0;
}

json_t *mailbox_json(const struct ctx *c, const struct mailbox *mb, const struct mailbox_stats *s)
{
	char addr[MAILBOX_ID_LEN + 256];

	snprintf(addr, sizeof addr, "%s@%s", mb->id, c->app.cfg.domain);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:I, s:o}", "id", mb->id, "address", addr,
			 "name", mb->name, "description", mb->description, "status",
			 mb->suspended ? "suspended" : "active", "proxy", mb->proxy, "messages", (json_int_t)s->messages,
			 "bytes", (json_int_t)s->bytes, "oldest",
			 s->oldest ? json_integer((json_int_t)s->oldest) : json_null());
}

int print_json(json_t *v)
{
	int rc = EX_OK;

	if (v == NULL) {
		fprintf(stderr, "msgw-mbox: out of memory\n");
		return EX_OSERR;
	}
	if (json_dumpf(v, stdout, JSON_COMPACT | JSON_ENSURE_ASCII) < 0 || fputc('\n', stdout) == EOF)
		rc = EX_IOERR;
	json_decref(v);
	return rc;
}

void format_time(char *out, size_t size, time_t t)
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL || strftime(out, size, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(out, size, "-");
}

/* Terminal prompt without echo, on /dev/tty. */
static int prompt(char *buf, size_t size, size_t *len)
{
	struct termios old, quiet;
	FILE *tty = fopen("/dev/tty", "r+e");
	int rc = -1, echo_off = 0;

	if (tty == NULL)
		return -1;
	fputs("Mailbox password: ", tty);
	fflush(tty);
	if (tcgetattr(fileno(tty), &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		echo_off = tcsetattr(fileno(tty), TCSAFLUSH, &quiet) == 0;
	}
	if (fgets(buf, (int)size, tty) != NULL) {
		*len = strcspn(buf, "\r\n");
		buf[*len] = '\0';
		rc = 0;
	}
	if (echo_off)
		tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	return rc;
}

int read_password(const char *path, char *buf, size_t size, size_t *len)
{
	int fd, rc = EX_OK;
	size_t n = 0;

	if (path == NULL) {
		if (prompt(buf, size, len) < 0) {
			fprintf(stderr, "msgw-mbox: no terminal for the password prompt: use --password-file\n");
			return EX_USAGE;
		}
		goto check;
	}
	fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "msgw-mbox: %s: %s\n", path, strerror(errno));
		return EX_NOINPUT;
	}
	/* Bounded: the first line only, at most size - 1 bytes. */
	while (n < size - 1) {
		ssize_t r = read(fd, buf + n, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "msgw-mbox: %s: %s\n", path, strerror(errno));
			rc = EX_IOERR;
			break;
		}
		if (r == 0 || buf[n] == '\n')
			break;
		n++;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc != EX_OK)
		return rc;
	if (n == size - 1) {
		fprintf(stderr, "msgw-mbox: %s: password longer than %zu bytes\n", path, size - 2);
		return EX_DATAERR;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*len = n;
check:
	if (*len == 0) {
		fprintf(stderr, "msgw-mbox: empty password\n");
		return EX_DATAERR;
	}
	return EX_OK;
}

int print_password(const struct ctx *c, const struct mailbox *mb, const char *password,
		   const char *what)
{
	json_t *o;
	struct mailbox_stats s = { 0, 0, 0 };

	if (c->json) {
		o = mailbox_json(c, mb, &s);
		if (o == NULL || json_object_set_new(o, "password", json_string(password)) < 0) {
			json_decref(o);
			return print_json(NULL);
		}
		return print_json(o);
	}
	printf("Mailbox %s %s.\n"
	       "  name:     %s\n"
	       "  address:  %s@%s\n"
	       "  password: %s\n\n"
	       "This password is shown only once and cannot be recovered: msgw does not\n"
	       "store it. Keep it in a password manager now. Without it nobody can read\n"
	       "the mail of this mailbox.\n",
	       mb->id, what, mb->name, mb->id, c->app.cfg.domain, password);
	return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
}
