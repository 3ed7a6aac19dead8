/* The maildrop lock (RFC 1939 asks for an exclusive one per maildrop),
 * made to work when several hosts share the store (NFS, GlusterFS,
 * CephFS). flock/fcntl locks are unreliable there, so this is the classic
 * link(2) lock: write a unique file, link it to maildrop.lock, and trust
 * the link count rather than link's return value (NFS may report a failure
 * for a link that succeeded).
 *
 * The file says who holds it: "msgw-lock1 HOST PID START TOKEN LEASE\n"
 * (START: the holder's start time, /proc/PID/stat field 22; TOKEN: 64
 * random bits; LEASE: seconds). Its mtime is the lease: a thread of the
 * holder touches it every renew seconds for as long as the lock is held,
 * whatever the session is blocked on (a slow client, a long RETR). Break
 * rules, applied by every host:
 *   - the lease ran out (mtime older than LEASE): any host breaks it;
 *   - it names this host and PID is gone, or PID now has another start
 *     time (a reused pid): broken at once;
 *   - unreadable, cut short or garbled text: held until its mtime is older
 *     than the configured lease, never taken for free.
 * Clocks of the hosts must agree (NTP): skew shortens or lengthens leases. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypt/age.h"
#include "store/admin.h"
#include "store/internal.h"
#include "util/fdio.h"
#include "util/log.h"
#include "util/path.h"

#define LOCK_MAGIC "msgw-lock1"
#define LOCK_TEXT_MAX 256
#define LOCK_ROUNDS 64          /* bound on link attempts per take */
#define LOCK_POLL_MS 200        /* pause between attempts while it is held */

void store_lock_host(char *out, size_t size)
{
	if (gethostname(out, size) < 0 || out[0] == '\0')
		snprintf(out, size, "localhost");
	out[size - 1] = '\0';
	for (char *p = out; *p; p++)
		if (*p <= ' ' || *p == '/' || *p == 0x7f)
			*p = '_';
}

int store_lock_proc_start(long pid, unsigned long long *start)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = fd_read_full(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "pid (comm) state ...": comm may hold spaces and ')'. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%llu", start) != 1) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* A zombie holds nothing: under privilege separation the lock's holder is
 * the store helper, whose parent (the parser) reaps it only when the
 * session ends. 1 zombie, 0 running or unknown. */
static int proc_zombie(long pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = fd_read_full(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');   /* "pid (comm) state ..." */
	return p != NULL && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

void store_lock_opts_from(struct store_lock_opts *o, const struct config *cfg)
{
	o->lease = cfg->pop3.lock_lease;
	o->renew = cfg->pop3.lock_renew;
	o->wait_ms = STORE_LOCK_WAIT_MS;
}

static long long now_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int store_lock_parse(const char *text, struct store_lock_info *info)
{
	char token[20];
	int end = -1;

	if (sscanf(text, LOCK_MAGIC " %63s %ld %llu %19s %ld%n", info->host, &info->pid,
		   &info->start, token, &info->lease, &end) != 5 || end < 0)
		return -1;
	if (strcmp(text + end, "\n") != 0 || info->pid <= 0 || info->lease <= 0 ||
	    info->lease > STORE_LOCK_LEASE_MAX ||
	    strlen(token) != 16 || strspn(token, "0123456789abcdef") != 16)
		return -1;
	return 0;
}

/* Who holds it, by the rules at the top of this file. */
static enum store_lock_state lock_judge(const struct store_lock_info *info)
{
	char me[64];
	unsigned long long start;

	if (info->age_ms > (long long)info->lease * 1000)
		return STORE_LOCK_EXPIRED;
	if (!info->readable)
		return STORE_LOCK_LIVE;
	store_lock_host(me, sizeof me);
	if (strcmp(info->host, me) != 0)
		return STORE_LOCK_LIVE;
	if ((kill((pid_t)info->pid, 0) < 0 && errno == ESRCH) || proc_zombie(info->pid))
		return STORE_LOCK_DEAD;
	/* start 0: the holder had no /proc to read it from. */
	if (info->start != 0 && store_lock_proc_start(info->pid, &start) == 0 && start != info->start)
		return STORE_LOCK_REUSED;
	return STORE_LOCK_LIVE;
}

int store_lock_examine(const char *path, long lease, struct store_lock_info *info)
{
	char text[LOCK_TEXT_MAX];
	struct stat sb;
	ssize_t n;
	int fd;

	memset(info, 0, sizeof *info);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		if (errno != ENOENT)
			return -1;
		info->state = STORE_LOCK_FREE;
		return 0;
	}
	if (fstat(fd, &sb) < 0 || (n = fd_read_full(fd, text, sizeof text - 1)) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	text[n] = '\0';
	info->present = 1;
	info->ino = sb.st_ino;
	info->age_ms = now_ms(CLOCK_REALTIME) -
		       ((long long)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000);
	info->readable = S_ISREG(sb.st_mode) && store_lock_parse(text, info) == 0;
	if (!info->readable) {
		memset(info->host, 0, sizeof info->host);
		info->pid = 0;
		info->start = 0;
		info->lease = lease;
	}
	info->state = lock_judge(info);
	return 0;
}

const char *store_lock_state_name(enum store_lock_state s)
{
	switch (s) {
	case STORE_LOCK_FREE: return "free";
	case STORE_LOCK_LIVE: return "live";
	case STORE_LOCK_EXPIRED: return "expired";
	case STORE_LOCK_DEAD: return "dead";
	case STORE_LOCK_REUSED: return "reused";
	}
	return "unknown";
}

/* Move the lock of inode ino aside and remove it, unless in the meantime
 * it was replaced by another one (then put that one back). */
int store_lock_break(const char *path, ino_t ino)
{
	char aside[PATH_MAX], host[64];
	unsigned char r[4];
	struct stat sb;

	store_lock_host(host, sizeof host);
	if (crypt_random(r, sizeof r) != 0)
		return store_age_errno(AGE_ERR_IO);
	if (path_fmt(aside, sizeof aside, "%s.stale.%s.%ld.%02x%02x%02x%02x", path, host,
		     (long)getpid(), r[0], r[1], r[2], r[3]) < 0 ||
	    rename(path, aside) < 0)
		return -1;
	if (stat(aside, &sb) == 0 && sb.st_ino != ino) {
		if (link(aside, path) < 0 && errno != EEXIST)
			return -1;
	}
	return unlink(aside);
}

static int lock_try(const char *path, const char *tmp)
{
	struct stat sb;

	if (link(tmp, path) == 0)
		return 0;
	/* On NFS a lost reply makes link fail although it worked. */
	if (stat(tmp, &sb) == 0 && sb.st_nlink == 2)
		return 0;
	return -1;
}

/* Touch the lease every renew seconds until told to stop. */
static void *renew_main(void *arg)
{
	struct store_lock *l = arg;
	struct stat sb;
	char q[PATH_MAX + 8];
	int lost = 0;

	struct timespec next;

	clock_gettime(CLOCK_MONOTONIC, &next);
	next.tv_sec += l->renew;
	pthread_mutex_lock(&l->mu);
	while (!l->stop) {
		if (pthread_cond_timedwait(&l->cv, &l->mu, &next) != ETIMEDOUT || l->stop)
			continue;   /* woken early: wait on for the same moment */
		next.tv_sec += l->renew;
		if (futimens(l->fd, NULL) < 0 || fstat(l->fd, &sb) < 0)
			log_error("event=lock_renew path=%s error=\"%s\"", log_q(q, sizeof q, l->path),
				  strerror(errno));
		else if (sb.st_nlink == 0 && !lost++)
			log_error("event=lock_lost path=%s reason=\"broken by another session\"",
				  log_q(q, sizeof q, l->path));
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

static int renew_start(struct store_lock *l)
{
	pthread_condattr_t ca;
	int rc;

	if ((rc = pthread_condattr_init(&ca)) != 0)
		goto fail;
	rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(&l->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (rc != 0)
		goto fail;
	if ((rc = pthread_mutex_init(&l->mu, NULL)) != 0) {
		pthread_cond_destroy(&l->cv);
		goto fail;
	}
	if ((rc = pthread_create(&l->thread, NULL, renew_main, l)) != 0) {
		pthread_mutex_destroy(&l->mu);
		pthread_cond_destroy(&l->cv);
		goto fail;
	}
	l->renewing = 1;
	return 0;
fail:
	errno = rc;
	return -1;
}

static void renew_stop(struct store_lock *l)
{
	if (!l->renewing)
		return;
	pthread_mutex_lock(&l->mu);
	l->stop = 1;
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->thread, NULL);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
	l->renewing = 0;
}

/* Our unique file, written and synced, open on l->fd; its name in tmp. */
static int lock_prepare(struct store_lock *l, const char *mbdir, const struct store_lock_opts *o,
			char *tmp, size_t size)
{
	char host[64];
	unsigned char r[8];
	unsigned long long start = 0;
	int n;

	store_lock_host(host, sizeof host);
	if (crypt_random(r, sizeof r) != 0)
		return store_age_errno(AGE_ERR_IO);
	if (store_lock_proc_start((long)getpid(), &start) < 0)
		start = 0;   /* no /proc: a reused pid cannot be told apart */
	n = snprintf(l->token, sizeof l->token,
		     LOCK_MAGIC " %s %ld %llu %02x%02x%02x%02x%02x%02x%02x%02x %d\n", host,
		     (long)getpid(), start, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], o->lease);
	if (n < 0 || (size_t)n >= sizeof l->token) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (path_join(l->path, sizeof l->path, mbdir, STORE_LOCK_NAME) < 0 ||
	    path_fmt(tmp, size, "%s.%s.%ld.%02x%02x%02x%02x", l->path, host, (long)getpid(), r[0],
		     r[1], r[2], r[3]) < 0)
		return -1;
	l->fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (l->fd < 0)
		return -1;
	if (fd_write_all(l->fd, l->token, (size_t)n) < 0 || fsync(l->fd) < 0)
		return -1;
	return 0;
}

/* Link, break what the rules allow, wait up to wait_ms while it is held. */
static int lock_acquire(struct store_lock *l, const char *tmp, const struct store_lock_opts *o)
{
	long long deadline = now_ms(CLOCK_MONOTONIC) + o->wait_ms;
	struct store_lock_info info;
	char q[PATH_MAX + 8];

	for (int i = 0; i < LOCK_ROUNDS; i++) {
		if (lock_try(l->path, tmp) == 0)
			return 0;
		if (errno != EEXIST && errno != ENOENT)
			return -1;
		if (store_lock_examine(l->path, o->lease, &info) < 0)
			return -1;
		if (info.state == STORE_LOCK_FREE)
			continue;
		if (info.state != STORE_LOCK_LIVE) {
			log_warning("event=lock_break path=%s state=%s holder=%s pid=%ld age_ms=%lld",
				    log_q(q, sizeof q, l->path), store_lock_state_name(info.state),
				    info.readable ? info.host : "unreadable", info.pid, info.age_ms);
			store_lock_break(l->path, info.ino);
			continue;
		}
		if (now_ms(CLOCK_MONOTONIC) >= deadline)
			break;
		/* Maybe just released: a shared file system's attribute cache
		 * may show a removed lock for a moment (GlusterFS: ~1 s). */
		sleep_ms(LOCK_POLL_MS);
	}
	errno = EBUSY;
	return -1;
}

int store_lock_take(struct store_lock *l, const char *mbdir, const struct store_lock_opts *o)
{
	char tmp[PATH_MAX];
	int rc = -1, saved;

	memset(l, 0, sizeof *l);
	l->fd = -1;
	l->renew = o->renew;
	tmp[0] = '\0';
	if (lock_prepare(l, mbdir, o, tmp, sizeof tmp) < 0 || lock_acquire(l, tmp, o) < 0)
		goto out;
	l->held = 1;
	if (renew_start(l) < 0) {
		saved = errno;
		store_lock_release(l);
		errno = saved;
		goto out;
	}
	rc = 0;
out:
	saved = errno;
	if (tmp[0])
		unlink(tmp);
	if (rc < 0 && l->fd >= 0) {
		close(l->fd);
		l->fd = -1;
	}
	errno = saved;
	return rc;
}

void store_lock_forget(struct store_lock *l)
{
	renew_stop(l);
	l->held = 0;
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

/* Remove the lock only while it is still ours (its text is our token). */
void store_lock_release(struct store_lock *l)
{
	char buf[sizeof l->token];
	ssize_t n;
	int fd, held = l->held;

	store_lock_forget(l);
	if (!held)
		return;
	fd = open(l->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	n = fd_read_full(fd, buf, sizeof buf - 1);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		if (strcmp(buf, l->token) == 0)
			unlink(l->path);
	}
}

int store_lock_inspect(const struct store *st, const struct mailbox *mb,
		       struct store_lock_info *info)
{
	char path[PATH_MAX];

	if (path_join(path, sizeof path, mb->dir, STORE_LOCK_NAME) < 0)
		return -1;
	return store_lock_examine(path, st->cfg->pop3.lock_lease, info);
}

int store_lock_unlock(const struct store *st, const struct mailbox *mb, int force,
		      struct store_lock_info *info)
{
	char path[PATH_MAX];

	if (path_join(path, sizeof path, mb->dir, STORE_LOCK_NAME) < 0 ||
	    store_lock_examine(path, st->cfg->pop3.lock_lease, info) < 0)
		return -1;
	if (info->state == STORE_LOCK_FREE) {
		errno = ENOENT;
		return -1;
	}
	if (info->state == STORE_LOCK_LIVE && !force) {
		errno = EBUSY;
		return -1;
	}
	if (store_lock_break(path, info->ino) < 0)
		return -1;
	return fsync_dir(mb->dir);
}
