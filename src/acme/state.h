/* What msgw-acme remembers under data_dir/acme/: the account key, which
 * certificate it installed (managed.json) and the last renewal information
 * (renewal.json). JSON files, written atomically, mode 0600. */
#ifndef MSGW_ACME_STATE_H
#define MSGW_ACME_STATE_H

#include <jansson.h>
#include <stddef.h>

#include "acme/internal.h"
#include "conf/conf.h"

/* data_dir/acme/NAME into out. */
int state_path(const struct config *cfg, const char *name, char *out, size_t size, struct acme_err *e);
/* The object in data_dir/acme/NAME; *out NULL (and 0 returned) when missing. */
int state_load(const struct config *cfg, const char *name, json_t **out, struct acme_err *e);
int state_save(const struct config *cfg, const char *name, const json_t *obj, struct acme_err *e);

/* A JSON text (from a CA, or a state file) parsed with a bound on size. */
json_t *json_parse_bounded(const char *text, size_t len, struct acme_err *e);

#endif
