#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "util/secmem.h"
#include "util/wipe.h"

static size_t rounded(size_t n)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t ps = page > 0 ? (size_t)page : 4096;

	if (n > SIZE_MAX - ps)
		return 0;
	return (n + ps - 1) / ps * ps;
}

void *secmem_alloc(size_t n)
{
	size_t len = rounded(n);
	void *p;

	if (n == 0 || len == 0) {
		errno = EINVAL;
		return NULL;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (madvise(p, len, MADV_DONTDUMP) < 0) {
		int saved = errno;
		munmap(p, len);
		errno = saved;
		return NULL;
	}
	(void)mlock(p, len); /* best effort: RLIMIT_MEMLOCK may be small */
	return p;
}

void secmem_free(void *p, size_t n)
{
	size_t len = rounded(n);

	if (p == NULL || len == 0)
		return;
	wipe(p, len);
	munlock(p, len);
	munmap(p, len);
}

int secmem_nodump(void)
{
	return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}
