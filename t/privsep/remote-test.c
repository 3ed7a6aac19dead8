/* The front end's side of the store helper (store/remote.c) with a fake
 * helper on the other end of a socketpair: answers go to the thread that
 * asked even when several threads wait at once, the helper's unasked
 * frames (COMMITTED, FAILED) reach their waiter whatever arrives around
 * them, and a helper that answers out of step or goes away fails every
 * waiter instead of handing one thread another's answer or hanging.
 * Each scenario runs in a child process: remote.c keeps the socket's
 * state for the process. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/remote.h"
#include "store/wire.h"
#include "t/tap.h"

static struct wire_frame req;

/* The fake helper's side. */
static int expect(int fd, uint8_t type)
{
	return wire_recv(fd, &req, NULL) == 0 && req.type == type ? 0 : -1;
}

static int send_u32s(int fd, uint8_t type, const uint8_t *pre, size_t plen, uint32_t a, int two,
                     uint32_t b)
{
	uint8_t p[16];
	size_t n = plen;

	if (plen > 0)
		memcpy(p, pre, plen);
	for (int k = 0; k < 4; k++)
		p[n++] = (uint8_t)(a >> (24 - 8 * k));
	for (int k = 0; two && k < 4; k++)
		p[n++] = (uint8_t)(b >> (24 - 8 * k));
	return wire_send(fd, type, p, n, NULL, 0, -1);
}

static int status(int fd, uint32_t e)
{
	return send_u32s(fd, WIRE_STATUS, NULL, 0, e, 0, 0);
}

static int committed(int fd, uint8_t slot, uint32_t e, uint32_t dropped)
{
	return send_u32s(fd, WIRE_COMMITTED, &slot, 1, e, 1, dropped);
}

struct committer {
	int fd;
	unsigned slot;
	int rc, err;
};

static void *commit_thread(void *arg)
{
	struct committer *c = arg;

	errno = 0;
	c->rc = remote_delivery_commit(c->fd, c->slot);
	c->err = errno;
	return NULL;
}

static int begin(int fd, int helper, unsigned *slot)
{
	static struct mailbox mb = {.id = "abcdefghijkmn234"};
	const struct mailbox *mbs[1] = {&mb};
	int rc;

	if (fork() == 0) /* the helper's answer, from another process */
		_exit(expect(helper, WIRE_BEGIN) == 0 && status(helper, 0) == 0 ? 0 : 1);
	rc = remote_delivery_begin(fd, mbs, 1, slot);
	wait(NULL);
	return rc;
}

/* A delivery begun and a thread waiting for its commit, which the fake
 * helper (sv[1]) has received. */
static int commit_waiting(int sv[2], pthread_t *th, struct committer *c)
{
	unsigned slot;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || begin(sv[0], sv[1], &slot) < 0)
		return 10;
	*c = (struct committer){.fd = sv[0], .slot = slot};
	if (pthread_create(th, NULL, commit_thread, c) != 0)
		return 10;
	return expect(sv[1], WIRE_COMMIT) < 0 ? 11 : 0;
}

/* A commit waits while another thread's call is answered; first: the
 * helper says COMMITTED before (1) or after (0) that answer. */
static int commit_beside_call(int first)
{
	int sv[2];
	pthread_t th;
	struct committer c;
	int rc;

	if ((rc = commit_waiting(sv, &th, &c)) != 0)
		return rc;
	if (fork() == 0) {
		int h = sv[1];
		if (expect(h, WIRE_MCOMMIT) < 0)
			_exit(1);
		if (first && committed(h, (uint8_t)c.slot, 0, 2) < 0)
			_exit(1);
		if (status(h, ENOSPC) < 0)
			_exit(1);
		if (!first && committed(h, (uint8_t)c.slot, 0, 2) < 0)
			_exit(1);
		_exit(0);
	}
	errno = 0;
	rc = remote_call(sv[0], WIRE_MCOMMIT, 1);
	if (rc != -1 || errno != ENOSPC)
		return 12;
	pthread_join(th, NULL);
	wait(NULL);
	if (c.rc != 2)
		return 13;
	return 0;
}

/* FAILED for a slot, sent before an answer to another request: the next
 * write of that slot fails with its errno. */
static int failed_noted(void)
{
	int sv[2];
	unsigned slot;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || begin(sv[0], sv[1], &slot) < 0)
		return 10;
	if (fork() == 0) {
		uint8_t s = (uint8_t)slot;
		_exit(expect(sv[1], WIRE_MCOMMIT) == 0 &&
		              send_u32s(sv[1], WIRE_FAILED, &s, 1, EDQUOT, 0, 0) == 0 &&
		              status(sv[1], 0) == 0
		          ? 0
		          : 1);
	}
	if (remote_call(sv[0], WIRE_MCOMMIT, 1) != 0)
		return 11;
	wait(NULL);
	errno = 0;
	if (remote_delivery_write(sv[0], slot, WIRE_DATA, "x", 1) != -1 || errno != EDQUOT)
		return 12;
	return 0;
}

/* An answer of the wrong kind: EPROTO, and every later request fails. */
static int out_of_step(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 10;
	if (fork() == 0) {
		uint8_t entry[10] = {0, 0, 0, 0, 0, 0, 0, 1, 1, 'u'};
		_exit(expect(sv[1], WIRE_MCOMMIT) == 0 &&
		              wire_send(sv[1], WIRE_LIST, entry, sizeof entry, NULL, 0, -1) == 0 &&
		              expect(sv[1], WIRE_MCLOSE) == 0 && status(sv[1], 0) == 0
		          ? 0
		          : 1);
	}
	errno = 0;
	if (remote_call(sv[0], WIRE_MCOMMIT, 1) != -1 || errno != EPROTO)
		return 11;
	errno = 0;
	if (remote_call(sv[0], WIRE_MCLOSE, 1) != -1 || errno != EPROTO)
		return 12; /* not the next answer taken as this one's */
	wait(NULL);
	return 0;
}

/* COMMITTED for a slot that is not in use: the socket is broken. */
static int committed_unknown_slot(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 10;
	if (fork() == 0)
		_exit(expect(sv[1], WIRE_MCOMMIT) == 0 && committed(sv[1], 3, 0, 0) == 0 &&
		              status(sv[1], 0) == 0
		          ? 0
		          : 1);
	errno = 0;
	if (remote_call(sv[0], WIRE_MCOMMIT, 1) != -1 || errno != EPROTO)
		return 11;
	wait(NULL);
	return 0;
}

/* The helper goes away while a commit waits: it fails, it does not hang. */
static int helper_gone(void)
{
	int sv[2];
	pthread_t th;
	struct committer c;
	int rc;

	if ((rc = commit_waiting(sv, &th, &c)) != 0)
		return rc;
	close(sv[1]);
	pthread_join(th, NULL);
	return c.rc == -1 && c.err != 0 ? 0 : 12;
}

static int in_child(int (*fn)(void))
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		alarm(20);
		_exit(fn());
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static int committed_first(void)
{
	return commit_beside_call(1);
}

static int committed_last(void)
{
	return commit_beside_call(0);
}

int main(void)
{
	plan_lazy();
	is_int(in_child(committed_first), 0,
	       "a commit and another thread's call: COMMITTED before the answer, each gets its own");
	is_int(in_child(committed_last), 0,
	       "COMMITTED after the other thread's answer: each gets its own");
	is_int(in_child(failed_noted), 0, "an unasked FAILED before an answer fails that slot's next write");
	is_int(in_child(out_of_step), 0, "an answer of the wrong kind: EPROTO, and no later answer is trusted");
	is_int(in_child(committed_unknown_slot), 0, "COMMITTED for a slot not in use: refused");
	is_int(in_child(helper_gone), 0, "the helper gone while a commit waits: it fails, no hang");
	return done_testing();
}
