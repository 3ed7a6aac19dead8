#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acme/install.h"
#include "acme/state.h"
#include "util/path.h"

/* data_dir belongs to the store user, who could rename data_dir/acme and
 * put a symlink in its place between a check and root's write. So the
 * directory is opened once per run (O_NOFOLLOW|O_DIRECTORY), must be
 * ours and writable by nobody else, and every later path goes through
 * the open descriptor (/proc/self/fd/N/NAME), never through the name
 * again. One command per process: this descriptor is the run's only
 * state besides the configuration. */
static int state_fd = -1;

static int state_dir(const struct config *cfg, struct acme_err *e)
{
	char dir[PATH_MAX];
	struct stat sb;
	int fd;

	if (state_fd >= 0)
		return 0;
	if (path_fmt(dir, sizeof dir, "%s/acme", cfg->data_dir) < 0)
		return aerr(e, "%s/acme: %s", cfg->data_dir, strerror(errno));
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return aerr(e, "%s: %s", dir, strerror(errno));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return aerr(e, "%s: %s", dir,
			    errno == ELOOP || errno == ENOTDIR ? "not a directory (a symlink?): refusing"
							       : strerror(errno));
	if (fstat(fd, &sb) < 0) {
		int saved = errno;
		close(fd);
		return aerr(e, "%s: %s", dir, strerror(saved));
	}
	if (sb.st_uid != geteuid() || (sb.st_mode & 022) != 0) {
		close(fd);
		return aerr(e, "%s: owned by uid %ld or writable by others: refusing", dir, (long)sb.st_uid);
	}
	state_fd = fd;
	return 0;
}

int state_path(const struct config *cfg, const char *name, char *out, size_t size, struct acme_err *e)
{
	if (state_dir(cfg, e) < 0)
		return -1;
	if (path_fmt(out, size, "/proc/self/fd/%d%s%s", state_fd, name[0] ? "/" : "", name) < 0)
		return aerr(e, "%s/acme/%s: %s", cfg->data_dir, name, strerror(errno));
	return 0;
}

json_t *json_parse_bounded(const char *text, size_t len, struct acme_err *e)
{
	json_error_t je;
	json_t *j;

	if (len > ACME_FILE_MAX) {
		aerr(e, "JSON text too large (%zu bytes)", len);
		return NULL;
	}
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL)
		aerr(e, "bad JSON at line %d: %s", je.line, je.text);
	else if (!json_is_object(j)) {
		aerr(e, "JSON text is not an object");
		json_decref(j);
		j = NULL;
	}
	return j;
}

int state_load(const struct config *cfg, const char *name, json_t **out, struct acme_err *e)
{
	char path[PATH_MAX];
	struct buf b;
	int rc = -1;

	*out = NULL;
	if (state_path(cfg, name, path, sizeof path, e) < 0)
		return -1;
	buf_init(&b, ACME_FILE_MAX);
	if (read_small(path, &b, e) < 0) {
		if (errno == ENOENT)
			rc = 0;
		goto out;
	}
	*out = json_parse_bounded(b.data, b.len, e);
	if (*out == NULL) {
		aerr_prefix(e, "%s", path);
		goto out;
	}
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

int state_save(const struct config *cfg, const char *name, const json_t *obj, struct acme_err *e)
{
	char path[PATH_MAX];
	char *text;
	int rc;

	if (state_path(cfg, name, path, sizeof path, e) < 0)
		return -1;
	text = json_dumps(obj, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (text == NULL)
		return aerr(e, "%s: out of memory", path);
	rc = install_file(path, text, strlen(text), 0600, 0700, e);
	free(text);
	return rc;
}
