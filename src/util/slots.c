#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
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

static int open_file(const char *dir, int i)
{
	char path[PATH_MAX];

	if (path_fmt(path, sizeof path, "%s/slot.%d", dir, i) < 0)
		return -1;
	return open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
}

/* flock fd without waiting: 1 taken (into s), 0 busy, -1 error. */
static int try_fd(struct slot *s, int fd, int i)
{
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? 0 : -1;
	s->fd = fd;
	s->index = i;
	return 1;
}

/* Try slot i of a directory (arg) or of a set: 1, 0 or -1 as try_fd. */
static int try_dir(struct slot *s, const void *arg, int i)
{
	int fd = open_file(arg, i), r;

	if (fd < 0)
		return -1;
	if ((r = try_fd(s, fd, i)) != 1) {
		int e = errno;

		close(fd);
		errno = e;
	}
	return r;
}

static int try_set(struct slot *s, const void *arg, int i)
{
	int r = try_fd(s, ((const struct slot_set *)arg)->fd[i], i);

	s->shared = r == 1;
	return r;
}

static int take(struct slot *s, int count, long long deadline_ms,
		int (*try)(struct slot *, const void *, int), const void *arg)
{
	long long end = deadline_ms ? deadline_ms : now_ms() + DEFAULT_WAIT_MS;
	/* Start somewhere else in every process, so waiters spread out. */
	int first = (int)(getpid() % count);
	long long rounds = (end - now_ms()) / POLL_MS + 1;

	/* Bounded: one round per POLL_MS until the deadline. */
	for (long long round = 0; round <= rounds; round++) {
		struct timespec ts = { 0, POLL_MS * 1000000L };

		for (int k = 0; k < count; k++) {
			int r = try(s, arg, (first + k) % count);

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

int slot_take(struct slot *s, const char *dir, int n, long long deadline_ms)
{
	s->fd = -1;
	s->index = -1;
	s->shared = 0;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -1;
	return take(s, slot_count(n), deadline_ms, try_dir, dir);
}

int slot_take_set(struct slot *s, const struct slot_set *set, long long deadline_ms)
{
	s->fd = -1;
	s->index = -1;
	s->shared = 0;
	if (set->n <= 0) {
		errno = EINVAL;
		return -1;
	}
	return take(s, set->n, deadline_ms, try_set, set);
}

void slot_release(struct slot *s)
{
	if (s->fd >= 0) {
		if (s->shared)
			flock(s->fd, LOCK_UN);
		else
			close(s->fd);   /* drops the flock */
	}
	s->fd = -1;
	s->index = -1;
	s->shared = 0;
}

int slot_set_open(struct slot_set *set, const char *dir, int n)
{
	int count = slot_count(n);

	set->n = 0;
	if ((mkdir(dir, 0700) < 0 && errno != EEXIST) ||
	    (set->fd = calloc((size_t)count, sizeof *set->fd)) == NULL)
		return -1;
	for (; set->n < count; set->n++)
		if ((set->fd[set->n] = open_file(dir, set->n)) < 0) {
			int e = errno;

			slot_set_close(set);
			errno = e;
			return -1;
		}
	return 0;
}

void slot_set_close(struct slot_set *set)
{
	for (int i = 0; i < set->n; i++)
		close(set->fd[i]);
	free(set->fd);
	set->fd = NULL;
	set->n = 0;
}
