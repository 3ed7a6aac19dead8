/* A small age command line over src/crypt, for the interop tests and the
 * benchmark to drive:
 *
 *   agetool keygen [-o FILE]
 *   agetool recipient KEYFILE
 *   agetool encrypt (-r RECIPIENT ... | -p PASSFILE [-n LOGN]) [-o OUT] [-m] [IN]
 *   agetool decrypt (-i KEYFILE | -p PASSFILE [-n MAXLOGN]) [-o OUT] [-m] [IN]
 *   agetool seal -i KEYFILE -p PASSFILE [-n LOGN] [-o OUT]
 *   agetool unseal -p PASSFILE [-n MAXLOGN] [IN]     (prints the identity file)
 *   agetool features                                 (sanitizers or plain)
 *
 * -m prints "maxrss_kib N" on stderr at the end: the peak RSS of the work,
 * done in a child and read with getrusage(RUSAGE_CHILDREN). (Our own
 * ru_maxrss would not do: Linux carries it across exec, so it starts at
 * the peak of whatever forked us, Python's 20 MiB for instance.)
 * A password file holds the password; one trailing newline is not part
 * of it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypt/age.h"
#include "util/buf.h"
#include "util/wipe.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

#define IOBUF (256 * 1024)
#define MAX_RCPT 16

static uint8_t iobuf[IOBUF];

static void die(const char *what, const char *why)
{
	fprintf(stderr, "agetool: %s: %s\n", what, why);
	exit(1);
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: agetool keygen|recipient|encrypt|decrypt|seal|unseal|features ...\n");
	exit(64);
}

static void read_text(const char *path, struct buf *b)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;
	char tmp[4096];

	if (fd < 0)
		die(path, strerror(errno));
	while ((r = read(fd, tmp, sizeof tmp)) > 0)
		if (buf_append(b, tmp, (size_t)r) < 0)
			die(path, strerror(errno));
	if (r < 0)
		die(path, strerror(errno));
	close(fd);
	wipe(tmp, sizeof tmp);
}

static void read_password(const char *path, struct buf *b)
{
	read_text(path, b);
	if (b->len > 0 && b->data[b->len - 1] == '\n')
		b->data[--b->len] = '\0';
}

static void read_identity(const char *path, struct age_identity *id)
{
	struct buf b;
	int rc;

	buf_init(&b, 65536);
	read_text(path, &b);
	rc = age_identity_file_parse(b.data ? b.data : "", b.len, id);
	buf_wipe_free(&b);
	if (rc < 0)
		die(path, age_strerror(rc));
}

static int open_out(const char *path)
{
	int fd;

	if (path == NULL)
		return 1;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		die(path, strerror(errno));
	return fd;
}

static int open_in(const char *path)
{
	int fd;

	if (path == NULL)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(path, strerror(errno));
	return fd;
}

/* With -m: fork; the child does the work, the parent reports its peak. */
static void measure_child(int on)
{
	struct rusage ru;
	pid_t pid;
	int status;

	if (!on)
		return;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("fork", strerror(errno));
	if (pid == 0)
		return;
	if (waitpid(pid, &status, 0) < 0 || getrusage(RUSAGE_CHILDREN, &ru) < 0)
		die("wait", strerror(errno));
	fprintf(stderr, "maxrss_kib %ld\n", ru.ru_maxrss);
	exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

static void write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			die("write", strerror(errno));
		c += w;
		n -= (size_t)w;
	}
}

int main(int argc, char **argv)
{
	const char *cmd, *out = NULL, *pass = NULL, *key = NULL, *rcpt[MAX_RCPT];
	struct age_recipient r[MAX_RCPT];
	struct age_identity id;
	struct buf pw;
	int c, nr = 0, log_n = 0, rss = 0, rc, in, fd, i;
	ssize_t n;

	if (argc < 2)
		usage();
	cmd = argv[1];
	optind = 2;
	while ((c = getopt(argc, argv, "i:mn:o:p:r:")) != -1) {
		switch (c) {
		case 'i':
			key = optarg;
			break;
		case 'm':
			rss = 1;
			break;
		case 'n':
			log_n = atoi(optarg);
			break;
		case 'o':
			out = optarg;
			break;
		case 'p':
			pass = optarg;
			break;
		case 'r':
			if (nr == MAX_RCPT)
				usage();
			rcpt[nr++] = optarg;
			break;
		default:
			usage();
		}
	}
	buf_init(&pw, 4096);
	if (pass)
		read_password(pass, &pw);

	if (strcmp(cmd, "features") == 0) {
		puts(SANITIZED ? "sanitizers" : "plain");
		return 0;
	}
	if (strcmp(cmd, "keygen") == 0) {
		struct buf text;
		char pub[AGE_RECIPIENT_STRLEN];

		buf_init(&text, 0);
		if ((rc = age_identity_generate(&id)) < 0 ||
		    (rc = age_identity_file_write(&id, time(NULL), &text)) < 0)
			die("keygen", age_strerror(rc));
		fd = open_out(out);
		write_all(fd, text.data, text.len);
		age_identity_recipient(&id, &r[0]);
		age_recipient_format(&r[0], pub);
		if (out)
			fprintf(stderr, "Public key: %s\n", pub);
		buf_wipe_free(&text);
		age_identity_wipe(&id);
		return fd != 1 && close(fd) < 0 ? 1 : 0;
	}
	if (strcmp(cmd, "recipient") == 0) {
		char pub[AGE_RECIPIENT_STRLEN];

		if (optind >= argc)
			usage();
		read_identity(argv[optind], &id);
		age_identity_recipient(&id, &r[0]);
		age_recipient_format(&r[0], pub);
		puts(pub);
		age_identity_wipe(&id);
		return 0;
	}
	if (strcmp(cmd, "encrypt") == 0) {
		struct age_encryptor *e;
		uint64_t total;

		measure_child(rss);
		for (i = 0; i < nr; i++)
			if ((rc = age_recipient_parse(rcpt[i], &r[i])) < 0)
				die(rcpt[i], age_strerror(rc));
		in = open_in(optind < argc ? argv[optind] : NULL);
		fd = open_out(out);
		if (pass)
			rc = age_encrypt_begin_scrypt(&e, pw.data, pw.len, log_n ? log_n : 16, fd);
		else
			rc = age_encrypt_begin(&e, r, (size_t)nr, fd);
		if (rc < 0)
			die("encrypt", age_strerror(rc));
		while ((n = read(in, iobuf, sizeof iobuf)) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				die("read", strerror(errno));
			if ((rc = age_encrypt_update(e, iobuf, (size_t)n)) < 0)
				die("encrypt", age_strerror(rc));
		}
		if ((rc = age_encrypt_finish(e, &total)) < 0)
			die("encrypt", age_strerror(rc));
		if (fd != 1 && close(fd) < 0)
			die(out, strerror(errno));
		buf_wipe_free(&pw);
		return 0;
	}
	if (strcmp(cmd, "decrypt") == 0) {
		struct age_decryptor *d;

		measure_child(rss);
		in = open_in(optind < argc ? argv[optind] : NULL);
		fd = open_out(out);
		if (pass) {
			rc = age_decrypt_begin_scrypt(&d, in, pw.data, pw.len, log_n);
		} else {
			if (key == NULL)
				usage();
			read_identity(key, &id);
			rc = age_decrypt_begin(&d, in, &id, 1);
			age_identity_wipe(&id);
		}
		if (rc < 0)
			die("decrypt", age_strerror(rc));
		while ((n = age_decrypt_read(d, iobuf, sizeof iobuf)) > 0)
			write_all(fd, iobuf, (size_t)n);
		age_decrypt_end(d);
		if (n < 0)
			die("decrypt", age_strerror((int)n));
		if (fd != 1 && close(fd) < 0)
			die(out, strerror(errno));
		buf_wipe_free(&pw);
		return 0;
	}
	if (strcmp(cmd, "seal") == 0) {
		if (key == NULL || pass == NULL)
			usage();
		read_identity(key, &id);
		fd = open_out(out);
		rc = age_identity_seal(&id, time(NULL), pw.data, pw.len, log_n ? log_n : 16, fd);
		age_identity_wipe(&id);
		buf_wipe_free(&pw);
		if (rc < 0)
			die("seal", age_strerror(rc));
		return fd != 1 && close(fd) < 0 ? 1 : 0;
	}
	if (strcmp(cmd, "unseal") == 0) {
		struct buf text;

		if (pass == NULL)
			usage();
		in = open_in(optind < argc ? argv[optind] : NULL);
		rc = age_identity_unseal(in, pw.data, pw.len, log_n, &id);
		buf_wipe_free(&pw);
		if (rc < 0)
			die("unseal", age_strerror(rc));
		buf_init(&text, 0);
		age_identity_file_write(&id, 0, &text);
		/* Without the "# created:" line, which unseal does not keep. */
		fputs(strchr(text.data, '\n') + 1, stdout);
		buf_wipe_free(&text);
		age_identity_wipe(&id);
		return 0;
	}
	usage();
}
