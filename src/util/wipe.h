/* Wiping secrets: explicit_bzero cannot be elided by the compiler. */
#ifndef MSGW_UTIL_WIPE_H
#define MSGW_UTIL_WIPE_H

#include <string.h>

static inline void wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		explicit_bzero(p, n);
}

#endif
