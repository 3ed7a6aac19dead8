/* Path building that fails on truncation instead of cutting a name short. */
#ifndef MSGW_UTIL_PATH_H
#define MSGW_UTIL_PATH_H

#include <stddef.h>

/* snprintf into out; -1 with errno ENAMETOOLONG if it did not fit. */
int path_fmt(char *out, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* out = dir "/" name, one separator; -1 (ENAMETOOLONG) on truncation. */
int path_join(char *out, size_t size, const char *dir, const char *name);
/* fsync a directory by path; -1 with errno on failure. */
int fsync_dir(const char *dir);
/* Write data to path atomically: path.tmp.PID, fsync, rename, fsync dir. */
int write_file_atomic(const char *path, const void *data, size_t len, int mode);
/* Read a whole small file (at most max bytes) into a malloc'd NUL-terminated
 * buffer; -1 with errno EFBIG when larger. */
int read_file_bounded(const char *path, size_t max, char **out, size_t *outlen);

#endif
