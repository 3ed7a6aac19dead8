/* make bench: delivery into one mailbox (encrypt + fsync + rename + fsync
 * new/) against the same Maildir steps without encryption, and the time
 * a POP3 login spends listing a full maildrop. Prints medians of runs. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/admin.h"
#include "store/store.h"
#include "util/path.h"

#define RUNS 5

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v)
{
	qsort(v, RUNS, sizeof *v, cmp);
	return v[RUNS / 2];
}

static int plain_deliver(const char *dir, const char *msg, size_t len, unsigned n)
{
	char tmp[4200], dst[4300], newdir[4200];
	int fd;

	snprintf(tmp, sizeof tmp, "%s/tmp/plain.%u.%ld", dir, n, (long)getpid());
	snprintf(dst, sizeof dst, "%s/new/plain.%u.%ld", dir, n, (long)getpid());
	snprintf(newdir, sizeof newdir, "%s/new", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, msg, len) != (ssize_t)len || fsync(fd) < 0 || close(fd) < 0 ||
	    rename(tmp, dst) < 0 || fsync_dir(newdir) < 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned count = argc > 1 ? (unsigned)atoi(argv[1]) : 200;
	size_t size = argc > 2 ? (size_t)atol(argv[2]) : 20000;
	const char *base = argc > 3 ? argv[3] : "/tmp";
	char dir[1024], plainmd[1050], pw[STORE_PASSWORD_LEN + 1];
	double enc[RUNS], plain[RUNS], open_t[RUNS];
	struct config cfg;
	struct store st;
	char *msg = malloc(size);

	if (msg == NULL || count == 0 || count > 100000)
		return 2;
	for (size_t i = 0; i < size; i++)
		msg[i] = (i % 72 == 71) ? '\n' : (char)('a' + i % 26);
	for (int r = 0; r < RUNS; r++) {
		struct mailbox mb, *one[1] = { &mb };
		struct maildrop *m;
		double t0;

		/* A fresh data_dir per run: ext4 is slow to reuse freed inodes. */
		snprintf(dir, sizeof dir, "%s/msgw-store-bench.%ld.%d", base, (long)getpid(), r);
		if (mkdir(dir, 0700) < 0 || config_defaults(&cfg) < 0)
			return 1;
		free(cfg.data_dir);
		cfg.data_dir = strdup(dir);
		cfg.crypt.scrypt_log_n = 10;
		if (store_init(&st, &cfg) < 0 || store_mailbox_create(&st, "bench", "", &mb, pw) < 0)
			return 1;
		t0 = now();
		for (unsigned i = 0; i < count; i++) {
			struct delivery *d;
			if (delivery_begin(&d, &st, (const struct mailbox *const *)one, 1) < 0 ||
			    delivery_write(d, msg, size) < 0 || delivery_commit(d) < 0) {
				perror("delivery");
				return 1;
			}
		}
		enc[r] = (now() - t0) / count;
		{
			char p2[1100];
			snprintf(plainmd, sizeof plainmd, "%s/plain", dir);
			snprintf(p2, sizeof p2, "%s/tmp", plainmd);
			if (mkdir(plainmd, 0700) < 0 || mkdir(p2, 0700) < 0)
				return 1;
			snprintf(p2, sizeof p2, "%s/new", plainmd);
			if (mkdir(p2, 0700) < 0)
				return 1;
		}
		t0 = now();
		for (unsigned i = 0; i < count; i++)
			if (plain_deliver(plainmd, msg, size, i) < 0) {
				perror("plain");
				return 1;
			}
		plain[r] = (now() - t0) / count;
		t0 = now();
		if (maildrop_open(&m, &st, mb.id, pw, strlen(pw)) < 0) {
			perror("maildrop_open");
			return 1;
		}
		open_t[r] = now() - t0;
		maildrop_close(m);
		config_free(&cfg);
		{
			char cmd[1100];
			snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
			if (system(cmd) != 0)
				fprintf(stderr, "could not remove %s\n", dir);
		}
	}
	printf("store delivery, %u messages of %zu bytes, median of %d runs:\n", count, size, RUNS);
	printf("  msgw (age + fsync + rename + fsync new/): %8.3f ms/message\n", median(enc) * 1e3);
	printf("  plain Maildir, same fsyncs:               %8.3f ms/message\n", median(plain) * 1e3);
	printf("  maildrop_open of %u messages (scrypt log N 10, list, new/ -> cur/): %.1f ms\n",
	       count, median(open_t) * 1e3);
	free(msg);
	return 0;
}
