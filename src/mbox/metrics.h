/* What msgw-mbox status measured, for the Prometheus text format. */
#ifndef MSGW_MBOX_METRICS_H
#define MSGW_MBOX_METRICS_H

#include <stdio.h>
#include <time.h>

#include "store/admin.h"
#include "store/store.h"

#define METRICS_MAX_PROBES 32

struct metrics {
	struct {
		char id[MAILBOX_ID_LEN + 1];
		char name[MAILBOX_NAME_MAX + 1];
		struct mailbox_stats s;
		long long dropped;   /* duplicates not stored (dedup); -1: unknown */
	} *mb;
	size_t nmb, capmb;
	struct {
		const char *file;
		time_t until;
	} cert[2];
	size_t ncert;
	unsigned long long free_bytes;
	int have_free;
	struct {
		const char *target;
		int up;
		time_t until;
		time_t rsa_until;   /* a second, RSA certificate the port serves; 0: none */
	} probe[METRICS_MAX_PROBES];
	size_t nprobe;
	int status;   /* 0 ok, 1 warning, 2 critical */
	time_t now;
};

/* Remember one mailbox. -1 when out of memory. */
int metrics_add_mailbox(struct metrics *m, const struct mailbox *mb, const struct mailbox_stats *s);
void metrics_free(struct metrics *m);
/* The Prometheus text exposition format (version 0.0.4). -1 on a write error. */
int metrics_print(const struct metrics *m, FILE *f);
/* Into path atomically: PATH.tmp.PID, fsync, rename. -1 with errno. */
int metrics_write_file(const struct metrics *m, const char *path);

#endif
