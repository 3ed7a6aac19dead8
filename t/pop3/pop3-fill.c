/* Deliver plaintext files into a mailbox through the store, as msgw-smtp
 * does (encrypted, fsynced, named with S= and W=): the benchmark's way to
 * fill a mailbox quickly. One path per line on standard input.
 *   pop3-fill CONF MAILBOX-ID < paths */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "store/store.h"
#include "util/path.h"

#define FILE_MAX (160 * 1024 * 1024)

static int deliver(const struct store *st, const struct mailbox *mb, const char *path)
{
	const struct mailbox *mbs[1] = { mb };
	struct delivery *d = NULL;
	char *data = NULL;
	size_t len;
	int rc = -1;

	if (read_file_bounded(path, FILE_MAX, &data, &len) < 0)
		goto out;
	if (delivery_begin(&d, st, mbs, 1) < 0)
		goto out;
	if (delivery_write(d, data, len) < 0) {
		delivery_abort(d);
		goto out;
	}
	rc = delivery_commit(d);
out:
	if (rc < 0)
		fprintf(stderr, "pop3-fill: %s: %s\n", path, strerror(errno));
	free(data);
	return rc;
}

int main(int argc, char **argv)
{
	static struct config cfg;
	static struct store st;
	static struct mailbox mb;
	char err[512], path[4096];
	int rc = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: pop3-fill CONF MAILBOX-ID < paths\n");
		return 64;
	}
	if (config_load(&cfg, argv[1], err, sizeof err) < 0) {
		fprintf(stderr, "pop3-fill: %s\n", err);
		return 78;
	}
	if (store_init(&st, &cfg) < 0 || store_mailbox_load(&st, argv[2], &mb) < 0) {
		fprintf(stderr, "pop3-fill: %s: %s\n", argv[2], strerror(errno));
		config_free(&cfg);
		return 1;
	}
	while (rc == 0 && fgets(path, sizeof path, stdin) != NULL) {
		path[strcspn(path, "\n")] = '\0';
		if (path[0] != '\0' && deliver(&st, &mb, path) < 0)
			rc = 1;
	}
	config_free(&cfg);
	return rc;
}
