#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "acme/install.h"
#include "acme/state.h"
#include "util/path.h"

int state_path(const struct config *cfg, const char *name, char *out, size_t size, struct acme_err *e)
{
	if (path_fmt(out, size, "%s/acme/%s", cfg->data_dir, name) < 0)
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
