/* The owners and modes of the tree as msgw-store(5) documents them ("Who
 * can do what"), checked for msgw-mbox status: a drift can open stored
 * mail to the front ends' parsers or lock the store helper out. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "store/admin.h"
#include "util/path.h"

#define DRIFT_MAILBOX_MAX 100000

struct walk {
	uid_t owner;
	drift_fn fn;
	void *arg;
	size_t found;
};

static void drift(struct walk *w, const char *path, const char *what)
{
	w->found++;
	w->fn(w->arg, path, what);
}

static void drift_mode(struct walk *w, const char *path, unsigned mode, unsigned want)
{
	char what[64];

	if (want)
		snprintf(what, sizeof what, "mode %04o, want %04o", mode, want);
	else
		snprintf(what, sizeof what, "mode %04o: writable by others", mode);
	drift(w, path, what);
}

/* want_mode 0: owner only. */
static void check(struct walk *w, const char *path, unsigned want_mode)
{
	struct stat sb;

	if (lstat(path, &sb) < 0) {
		if (errno != ENOENT)
			drift(w, path, "cannot be checked");
		return;
	}
	if (sb.st_uid != w->owner)
		drift(w, path, "owner is not the store user");
	if ((want_mode && (sb.st_mode & 07777) != want_mode) || (!want_mode && (sb.st_mode & 022)))
		drift_mode(w, path, sb.st_mode & 07777, want_mode);
}

static void check_mailbox(struct walk *w, const char *dir)
{
	static const struct {
		const char *name;
		unsigned mode;
	} want[] = {
	    {"mailbox.conf", STORE_MODE_PUBLIC},
	    {"identity.pub", STORE_MODE_PUBLIC},
	    {"identity.age", STORE_MODE_PRIVATE},
	    {"tmp", STORE_MODE_MAILDIR},
	    {"new", STORE_MODE_MAILDIR},
	    {"cur", STORE_MODE_MAILDIR},
	    {"maildrop.lock", 0},
	    {"proxy-seen", 0},
	};
	char path[PATH_MAX];

	check(w, dir, STORE_MODE_TRAVERSE);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (path_join(path, sizeof path, dir, want[i].name) == 0)
			check(w, path, want[i].mode);
}

size_t store_tree_drift(const struct store *st, drift_fn fn, void *arg)
{
	struct walk w = {.fn = fn, .arg = arg};
	struct passwd *pw = getpwnam(STORE_USER_NAME);
	struct stat sb;
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	if (stat(st->cfg->data_dir, &sb) < 0)
		return 0;
	w.owner = sb.st_uid;
	if (pw != NULL && sb.st_uid != pw->pw_uid)
		drift(&w, st->cfg->data_dir,
		      "owner is not " STORE_USER_NAME " (the front ends' store helpers run as it)");
	if ((sb.st_mode & 0111) != 0111 || (sb.st_mode & 022))
		drift_mode(&w, st->cfg->data_dir, sb.st_mode & 07777, STORE_MODE_TRAVERSE);
	check(&w, st->root, STORE_MODE_TRAVERSE);
	if ((d = opendir(st->root)) == NULL)
		return w.found;
	while ((e = readdir(d)) != NULL && n < DRIFT_MAILBOX_MAX) {
		char dir[PATH_MAX];
		if (!mailbox_id_valid(e->d_name) ||
		    path_join(dir, sizeof dir, st->root, e->d_name) < 0)
			continue;
		check_mailbox(&w, dir);
		n++;
	}
	closedir(d);
	return w.found;
}
