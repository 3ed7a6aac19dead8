#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/path.h"
#include "util/slots.h"

#define SLOTS_MAX 4096
#define POLL_MS 10
#define DEFAULT_WAIT_MS 60000

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int slot_count(int n)
{
	long cores;

	if (n > 0)
		return n > SLOTS_MAX ? SLOTS_MAX : n;
	cores = sysconf(_SC_NPROCESSORS_ONLN);
	return cores < 1 ? 1 : cores > SLOTS_MAX ? SLOTS_MAX : (int)cores;
}

/* Try slot i without waiting: 1 taken, 0 busy, -1 error. */
static int try_one(struct slot *s, const char *dir, int i)
{
	char path[PATH_MAX];
	int fd;

	if (path_fmt(path, sizeof path, "%s/slot.%d", dir, i) < 0)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return e == EWOULDBLOCK ? 0 : -1;
	}
	s->fd = fd;
	s->index = i;
	return 1;
}

int slot_take(struct slot *s, const char *dir, int n, long long deadline_ms)
{
	long long end = deadline_ms ? deadline_ms : now_ms() + DEFAULT_WAIT_MS;
	int count = slot_count(n);
	/* Start somewhere else in every process, so waiters spread out. */
	int first = (int)(getpid() % count);
	long long rounds = (end - now_ms()) / POLL_MS + 1;

	s->fd = -1;
	s->index = -1;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -1;
	/* Bounded: one round per POLL_MS until the deadline. */
	for (long long round = 0; round <= rounds; round++) {
		struct timespec ts = { 0, POLL_MS * 1000000L };

		for (int k = 0; k < count; k++) {
			int r = try_one(s, dir, (first + k) % count);

			if (r != 0)
				return r > 0 ? 0 : -1;
		}
		if (now_ms() >= end)
			break;
		nanosleep(&ts, NULL);
	}
	errno = ETIMEDOUT;
	return -1;
}

void slot_release(struct slot *s)
{
	if (s->fd >= 0)
		close(s->fd);   /* drops the flock */
	s->fd = -1;
	s->index = -1;
}
