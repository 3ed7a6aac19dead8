/* Unit tests for the maildrop lock (src/store/lock.c), playing the other
 * sessions and hosts by writing lock files as they would: lease expiry
 * and renewal, a dead and a reused pid of this host, a lock of another
 * host, a lock file cut short or garbled (held until its lease runs out,
 * never free), a lock released while a log-in waits, unlock. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/admin.h"
#include "store/internal.h"
#include "t/tap.h"
#include "util/path.h"

#define LEASE 3

static char dir[4096], lockpath[4200];
static const struct store_lock_opts quick = { LEASE, 1, 0 };

/* A lock file as another session would leave it, last renewed age s ago. */
static void plant(const char *text, int age)
{
	struct timespec ts[2];

	if (write_file_atomic(lockpath, text, strlen(text), 0600) < 0)
		bail("%s: %s", lockpath, strerror(errno));
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= age;
	ts[1] = ts[0];
	if (utimensat(AT_FDCWD, lockpath, ts, 0) < 0)
		bail("utimensat: %s", strerror(errno));
}

static void lock_text(char *out, size_t size, const char *host, long pid,
		      unsigned long long start, long lease)
{
	snprintf(out, size, "msgw-lock1 %s %ld %llu 0123456789abcdef %ld\n", host, pid, start, lease);
}

/* Take with opts o: 0 or the errno. The lock is released again. */
static int try_take(const struct store_lock_opts *o)
{
	struct store_lock l;

	if (store_lock_take(&l, dir, o) < 0)
		return errno;
	store_lock_release(&l);
	return 0;
}

static enum store_lock_state state_now(void)
{
	struct store_lock_info li;

	if (store_lock_examine(lockpath, LEASE, &li) < 0)
		bail("examine: %s", strerror(errno));
	return li.state;
}

static void test_take_renew(void)
{
	struct store_lock l;
	struct store_lock_info li;
	char host[64];
	unsigned long long start;

	char line[1024];
	FILE *fp = fopen("/proc/self/stat", "r");
	unsigned long long want = 0;
	int got;

	store_lock_host(host, sizeof host);
	/* Field 22, counted by hand: the comm of this test has no spaces. */
	if (fp == NULL || fgets(line, sizeof line, fp) == NULL ||
	    sscanf(line, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
			 "%*d %*d %llu", &want) != 1)
		bail("/proc/self/stat");
	fclose(fp);
	got = store_lock_proc_start((long)getpid(), &start);
	ok(got == 0 && start == want && want > 0, "start time of this process from /proc: %llu", want);
	if (!ok(store_lock_take(&l, dir, &quick) == 0, "take: a free maildrop"))
		return;
	ok(store_lock_examine(lockpath, LEASE, &li) == 0 && li.readable && strcmp(li.host, host) == 0 &&
	   li.pid == (long)getpid() && li.start == start && li.lease == LEASE,
	   "take: the file names host, pid, start time and lease");
	is_int(try_take(&quick), EBUSY, "take: a second session is refused");
	sleep(LEASE + 2);
	ok(store_lock_examine(lockpath, LEASE, &li) == 0 && li.state == STORE_LOCK_LIVE &&
	   li.age_ms < 1500, "renewal: after %d s (lease %d) the lease was renewed %lld ms ago",
	   LEASE + 2, LEASE, li.age_ms);
	is_int(try_take(&quick), EBUSY, "renewal: still refused past the first lease");
	store_lock_release(&l);
	ok(access(lockpath, F_OK) < 0 && errno == ENOENT, "release: the file is gone");
	is_int(try_take(&quick), 0, "release: the next session gets in");
}

static void test_other_host(void)
{
	char text[256];

	lock_text(text, sizeof text, "gw-b.example", 1, 99, LEASE);
	plant(text, 0);
	is_int(try_take(&quick), EBUSY, "other host: a lock within its lease holds");
	is_int(state_now(), STORE_LOCK_LIVE, "other host: judged live");
	plant(text, LEASE + 1);
	is_int(state_now(), STORE_LOCK_EXPIRED, "lease expiry: judged expired");
	is_int(try_take(&quick), 0, "lease expiry: any host breaks a lock past its lease");
	lock_text(text, sizeof text, "gw-b.example", 1, 99, 600);
	plant(text, LEASE + 1);
	is_int(try_take(&quick), EBUSY, "other host: the holder's own longer lease counts");
	unlink(lockpath);
}

static void test_this_host(void)
{
	char text[256], host[64];
	unsigned long long start;
	pid_t child;
	int status;

	store_lock_host(host, sizeof host);
	child = fork();
	if (child == 0)
		_exit(0);
	waitpid(child, &status, 0);
	lock_text(text, sizeof text, host, child, 1, 600);
	plant(text, 0);
	is_int(state_now(), STORE_LOCK_DEAD, "dead pid: judged dead");
	is_int(try_take(&quick), 0, "dead pid: this host breaks it at once");

	/* A zombie (dead, not yet reaped: a killed store helper whose parser
	 * is still in its session) is dead too, whatever its start time. */
	child = fork();
	if (child == 0)
		_exit(0);
	for (int i = 0; i < 500 && store_lock_proc_start((long)child, &start) == 0; i++) {
		char st[64], buf[256];
		FILE *f;
		snprintf(st, sizeof st, "/proc/%ld/stat", (long)child);
		if ((f = fopen(st, "r")) != NULL && fgets(buf, sizeof buf, f) && strstr(buf, ") Z")) {
			fclose(f);
			break;
		}
		if (f)
			fclose(f);
		usleep(10000);
	}
	store_lock_proc_start((long)child, &start);
	lock_text(text, sizeof text, host, child, start, 600);
	plant(text, 0);
	is_int(state_now(), STORE_LOCK_DEAD, "zombie holder: judged dead");
	is_int(try_take(&quick), 0, "zombie holder: this host breaks it at once");
	waitpid(child, &status, 0);

	store_lock_proc_start((long)getppid(), &start);
	lock_text(text, sizeof text, host, (long)getppid(), start + 1, 600);
	plant(text, 0);
	is_int(state_now(), STORE_LOCK_REUSED, "reused pid: a live pid with another start time");
	is_int(try_take(&quick), 0, "reused pid: broken at once");

	lock_text(text, sizeof text, host, (long)getppid(), start, 600);
	plant(text, 0);
	is_int(try_take(&quick), EBUSY, "live pid of this host with its start time: holds");
	unlink(lockpath);
}

static void test_garbled(void)
{
	static const char *const bad[] = {
		"", "msgw-lock1 gw-b.example 1 99 0123456789ab", "msgw-lock1 gw-b.example 1 99 0123456789abcdef 60",
		"other-host.example 1 x\n", "msgw-lock1 gw-b.example 1 99 0123456789abcdeZ 60\n",
		"\x01\x02\x03 binary\n", "msgw-lock1 gw-b.example 0 99 0123456789abcdef 60\n",
		"msgw-lock1 gw-b.example 1 99 0123456789abcdef 999999999\n",
	};
	char host[64], text[256];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		plant(bad[i], 0);
		is_int(try_take(&quick), EBUSY, "garbled %zu: held while fresh", i);
		plant(bad[i], LEASE + 1);
		is_int(try_take(&quick), 0, "garbled %zu: broken once older than the lease", i);
	}
	/* Cut short on this host, naming a dead pid: still only by the lease. */
	store_lock_host(host, sizeof host);
	snprintf(text, sizeof text, "msgw-lock1 %s 999999999 1 0123", host);
	plant(text, 0);
	is_int(try_take(&quick), EBUSY, "cut short: never taken for free");
	unlink(lockpath);
}

/* A session on "another mount" releases while our log-in waits. */
static void test_wait(void)
{
	struct store_lock_opts patient = quick;
	struct store_lock l;
	int fds[2], status;
	char c;
	pid_t child;

	patient.wait_ms = STORE_LOCK_WAIT_MS;
	if (pipe(fds) < 0)
		bail("pipe");
	child = fork();
	if (child == 0) {
		close(fds[0]);
		if (store_lock_take(&l, dir, &quick) < 0)
			_exit(1);
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		usleep(500 * 1000);
		store_lock_release(&l);
		_exit(0);
	}
	close(fds[1]);
	ok(read(fds[0], &c, 1) == 1, "wait: the other session holds the lock");
	close(fds[0]);
	is_int(try_take(&patient), 0, "wait: a log-in meeting a lock released 0.5 s later gets in");
	ok(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "wait: the other session ended cleanly");
}

/* Not ours any more: release must not remove the lock of whoever broke it. */
static void test_release_foreign(void)
{
	struct store_lock l;
	char text[256];

	if (!ok(store_lock_take(&l, dir, &quick) == 0, "foreign: take"))
		return;
	lock_text(text, sizeof text, "gw-b.example", 1, 99, 600);
	plant(text, 0);
	store_lock_release(&l);
	is_int(state_now(), STORE_LOCK_LIVE, "foreign: release leaves a lock that is not ours");
	unlink(lockpath);
}

static void test_unlock(void)
{
	struct config cfg;
	struct store st;
	struct mailbox mb;
	struct store_lock_info li;
	char text[256];

	if (config_defaults(&cfg) < 0)
		bail("config_defaults");
	st.cfg = &cfg;
	memset(&mb, 0, sizeof mb);
	snprintf(mb.dir, sizeof mb.dir, "%s", dir);
	ok(store_lock_unlock(&st, &mb, 0, &li) < 0 && errno == ENOENT, "unlock: ENOENT when free");
	lock_text(text, sizeof text, "gw-b.example", 1, 99, 600);
	plant(text, 0);
	ok(store_lock_unlock(&st, &mb, 0, &li) < 0 && errno == EBUSY && li.state == STORE_LOCK_LIVE,
	   "unlock: refused while the lease runs");
	ok(access(lockpath, F_OK) == 0, "unlock: the refused lock stays");
	ok(store_lock_unlock(&st, &mb, 1, &li) == 0 && access(lockpath, F_OK) < 0,
	   "unlock --force: removed");
	plant(text, 601);
	ok(store_lock_unlock(&st, &mb, 0, &li) == 0 && li.state == STORE_LOCK_EXPIRED &&
	   access(lockpath, F_OK) < 0, "unlock: an expired lock is removed");
	config_free(&cfg);
}

int main(void)
{
	plan_lazy();
	snprintf(dir, sizeof dir, "%s/mb", t_tmpdir());
	snprintf(lockpath, sizeof lockpath, "%s/" STORE_LOCK_NAME, dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		bail("%s: %s", dir, strerror(errno));
	test_take_renew();
	test_other_host();
	test_this_host();
	test_garbled();
	test_wait();
	test_release_foreign();
	test_unlock();
	return done_testing();
}
