#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fdio.h"
#include "util/path.h"

int path_fmt(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		if (size)
			out[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int path_join(char *out, size_t size, const char *dir, const char *name)
{
	size_t dl = strlen(dir);

	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	while (*name == '/')
		name++;
	return path_fmt(out, size, "%.*s/%s", (int)dl, dir, name);
}

int fsync_dir(const char *dir)
{
	int fd, rc, saved;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int write_file_atomic(const char *path, const void *data, size_t len, int mode)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, saved;

	if (path_fmt(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) < 0 ||
	    path_fmt(dir, sizeof dir, "%s", path) < 0)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -1;
	if (fchmod(fd, mode) < 0 || fd_write_all(fd, data, len) < 0 || fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	return fsync_dir(dirname(dir));
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
}

int read_file_bounded(const char *path, size_t max, char **out, size_t *outlen)
{
	int fd, saved;
	char *p = NULL;
	size_t len = 0;
	struct stat st;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (st.st_size < 0 || (unsigned long long)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	p = malloc((size_t)st.st_size + 1);
	if (p == NULL)
		goto fail;
	for (;;) {
		ssize_t n;
		if (len == (size_t)st.st_size) {
			char extra;
			n = read(fd, &extra, 1);   /* the file grew: refuse */
			if (n > 0) {
				errno = EFBIG;
				goto fail;
			}
		} else {
			n = read(fd, p + len, (size_t)st.st_size - len);
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	p[len] = '\0';
	close(fd);
	*out = p;
	if (outlen)
		*outlen = len;
	return 0;
fail:
	saved = errno;
	free(p);
	close(fd);
	errno = saved;
	return -1;
}
