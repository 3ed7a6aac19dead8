/* Length-carrying byte buffers with overflow-checked, capped growth. */
#ifndef MSGW_UTIL_BUF_H
#define MSGW_UTIL_BUF_H

#include <stddef.h>

struct buf {
	char *data;   /* always NUL-terminated after len when data != NULL */
	size_t len;
	size_t cap;
	size_t max;   /* hard upper bound on len; growth past it fails */
};

/* max == 0 means SIZE_MAX / 2. */
void buf_init(struct buf *b, size_t max);
/* 0 on success; -1 with errno ENOMEM or EMSGSIZE (past max), b unchanged. */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_appends(struct buf *b, const char *s);
int buf_appendf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_reserve(struct buf *b, size_t extra);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
/* Wipes the whole allocation before freeing it: for secrets. */
void buf_wipe_free(struct buf *b);

#endif
