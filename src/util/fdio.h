/* Whole reads and writes on file descriptors, retried on EINTR and short
 * counts (files and pipes; sockets go through net/stream). */
#ifndef MSGW_UTIL_FDIO_H
#define MSGW_UTIL_FDIO_H

#include <stddef.h>
#include <sys/types.h>

/* All n bytes, or -1 with errno. */
int fd_write_all(int fd, const void *p, size_t n);
/* Until n bytes or end of file: the count, or -1 with errno. */
ssize_t fd_read_full(int fd, void *p, size_t n);

#endif
