/* Memory for secrets (unsealed identities, passwords): whole pages of
 * their own, left out of core dumps (MADV_DONTDUMP) and locked against
 * swapping where the limits allow (mlock, best effort), zeroed on
 * allocation and wiped on release. And the process-wide switch that makes
 * a program non-dumpable before it reads any secret. */
#ifndef MSGW_UTIL_SECMEM_H
#define MSGW_UTIL_SECMEM_H

#include <stddef.h>

/* NULL with errno on failure. */
void *secmem_alloc(size_t n);
/* Wipes, unlocks and unmaps; n as given to secmem_alloc; NULL is fine. */
void secmem_free(void *p, size_t n);
/* prctl(PR_SET_DUMPABLE, 0): no core file, and /proc/PID/mem and ptrace
 * closed to every process without CAP_SYS_PTRACE, same uid included. */
int secmem_nodump(void);

#endif
