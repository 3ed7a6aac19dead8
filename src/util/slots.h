/* A host-wide counting semaphore made of N lock files in one directory:
 * independent processes (one per connection under inetd or systemd
 * Accept=yes) share it without any daemon. A slot is held with flock, so
 * the kernel frees it when its holder exits, however it exits. */
#ifndef MSGW_UTIL_SLOTS_H
#define MSGW_UTIL_SLOTS_H

struct slot {
	int fd;       /* the locked file, -1 when none is held */
	int index;
	int shared;   /* fd belongs to a slot_set: release unlocks, not closes */
};

/* The lock files of a slot directory, opened in advance: a process that
 * drops its privileges opens them first, so the directory stays root's
 * and the unprivileged parser only ever flocks descriptors it was given. */
struct slot_set {
	int n;        /* 0: not opened */
	int *fd;
};

/* Take one of n slots in dir (created with mode 0700 when missing; n <= 0
 * means the number of online cores), waiting until deadline_ms (monotonic,
 * 0 = up to 60 s). 0 with s->fd >= 0; -1 with errno: ETIMEDOUT when no
 * slot came free in time, or why dir or a lock file cannot be used. */
int slot_take(struct slot *s, const char *dir, int n, long long deadline_ms);
void slot_release(struct slot *s);

/* Open (creating) the n lock files of dir into set (n as slot_take). -1
 * with errno; then set is empty. */
int slot_set_open(struct slot_set *set, const char *dir, int n);
/* slot_take over an opened set. */
int slot_take_set(struct slot *s, const struct slot_set *set, long long deadline_ms);
void slot_set_close(struct slot_set *set);

#endif
