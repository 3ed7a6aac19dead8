/* Unit tests for src/store: ids and texts, the mailbox life cycle and its
 * refusals, delivery (all or nothing, concurrent writers, a crash before
 * the rename, tmp/ cleaning), retrieval and the maildrop lock. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypt/age.h"
#include "store/admin.h"
#include "store/dedup.h"
#include "store/store.h"
#include "t/tap.h"
#include "util/path.h"

#define WRITERS 4
#define PER_WRITER 8

static struct config cfg;
static struct store st;

static size_t count_dir(const char *mbdir, const char *sub)
{
	char path[8192];
	DIR *d;
	struct dirent *e;
	size_t n = 0;

	snprintf(path, sizeof path, "%s/%s", mbdir, sub);
	d = opendir(path);
	if (d == NULL)
		return (size_t)-1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* The first file name of mbdir/sub into out. */
static int first_name(const char *mbdir, const char *sub, char *out, size_t size)
{
	char path[8192];
	DIR *d;
	struct dirent *e;
	int rc = -1;

	snprintf(path, sizeof path, "%s/%s", mbdir, sub);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.') {
			snprintf(out, size, "%s", e->d_name);
			rc = 0;
			break;
		}
	closedir(d);
	return rc;
}

static int file_mode(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? (int)(sb.st_mode & 07777) : -1;
}

static int deliver(struct mailbox *const *mbs, size_t n, const char *msg, size_t len)
{
	struct delivery *d;

	if (delivery_begin(&d, &st, (const struct mailbox *const *)mbs, n) < 0)
		return -1;
	if (delivery_write(d, msg, len) < 0) {
		delivery_abort(d);
		return -1;
	}
	return delivery_commit(d);
}

static void test_ids(void)
{
	char id[MAILBOX_ID_LEN + 1], id2[MAILBOX_ID_LEN + 1], big[301], pw[STORE_PASSWORD_LEN + 1];
	int alphabet_ok = 1;

	ok(mailbox_id_valid("abcdefghijkmn234"), "id: 16 base32 characters are valid");
	ok(!mailbox_id_valid("../x"), "id: ../x is refused");
	ok(!mailbox_id_valid("ABCDEFGHIJKMN234"), "id: uppercase is refused");
	ok(!mailbox_id_valid(""), "id: empty is refused");
	ok(!mailbox_id_valid(NULL), "id: NULL is refused");
	memset(big, 'a', 300);
	big[300] = '\0';
	ok(!mailbox_id_valid(big), "id: 300 characters are refused");
	ok(!mailbox_id_valid("abcdefghijkmn23"), "id: 15 characters are refused");
	ok(!mailbox_id_valid("abcdefghijkmn2345"), "id: 17 characters are refused");
	ok(!mailbox_id_valid("abcdefghijkmn018"), "id: 0, 1 and 8 are not base32");
	ok(!mailbox_id_valid("abcdefgh/jkmn234"), "id: a slash is refused");
	ok(mailbox_id_generate(id) == 0 && mailbox_id_valid(id), "id: a generated id is valid");
	ok(mailbox_id_generate(id2) == 0 && strcmp(id, id2) != 0, "id: two generated ids differ");

	ok(store_password_generate(pw) == 0 && strlen(pw) == STORE_PASSWORD_LEN, "password: 35 characters");
	for (size_t i = 0; i < strlen(pw); i++) {
		char ch = pw[i];
		if (i % 6 == 5)
			alphabet_ok &= ch == '-';
		else
			alphabet_ok &= strchr("0123456789abcdefghjkmnpqrstvwxyz", ch) != NULL && ch != '\0';
	}
	ok(alphabet_ok, "password: groups of 5 from an alphabet without i, l, o, u: %s", pw);

	ok(mailbox_text_valid("Journal – Ünïcödé ✓", MAILBOX_NAME_MAX, 0), "text: UTF-8 is accepted");
	ok(!mailbox_text_valid("", MAILBOX_NAME_MAX, 0), "text: an empty name is refused");
	ok(mailbox_text_valid("", MAILBOX_DESC_MAX, 1), "text: an empty description is accepted");
	ok(!mailbox_text_valid("a\nb", MAILBOX_NAME_MAX, 0), "text: a newline is refused");
	ok(!mailbox_text_valid("a\x7f", MAILBOX_NAME_MAX, 0), "text: DEL is refused");
	ok(!mailbox_text_valid("a\xc2\x85", MAILBOX_NAME_MAX, 0), "text: a C1 control is refused");
	ok(!mailbox_text_valid("\xc0\xaf", MAILBOX_NAME_MAX, 0), "text: an overlong sequence is refused");
	ok(!mailbox_text_valid("\xed\xa0\x80", MAILBOX_NAME_MAX, 0), "text: a surrogate is refused");
	ok(!mailbox_text_valid("\xe2\x82", MAILBOX_NAME_MAX, 0), "text: a truncated sequence is refused");
	ok(!mailbox_text_valid(big, MAILBOX_NAME_MAX, 0), "text: 300 bytes exceed the name bound");
	ok(mailbox_text_valid(big, MAILBOX_DESC_MAX, 0), "text: 300 bytes fit the description bound");
}

static void test_create(struct mailbox *mb, char *pw)
{
	struct mailbox back;
	struct age_identity ident;
	char path[8192], *text = NULL;
	size_t len = 0;
	int fd;

	ok(store_mailbox_create(&st, "Journal", "first box", mb, pw) == 0, "create: succeeds");
	ok(mailbox_id_valid(mb->id), "create: the id is valid");
	is_int(file_mode(mb->dir), 0711, "create: the folder is 0711 (passable, not listable)");
	snprintf(path, sizeof path, "%s/identity.pub", mb->dir);
	is_int(file_mode(path), 0644, "create: identity.pub is 0644 (the parsers may read it)");
	ok(read_file_bounded(path, 200, &text, &len) == 0 && len == 63 && strncmp(text, "age1", 4) == 0 &&
	   text[62] == '\n', "create: identity.pub is one line age1...");
	free(text);
	snprintf(path, sizeof path, "%s/identity.age", mb->dir);
	is_int(file_mode(path), 0600, "create: identity.age is 0600");
	snprintf(path, sizeof path, "%s/mailbox.conf", mb->dir);
	is_int(file_mode(path), 0644, "create: mailbox.conf is 0644 (the parsers may read it)");
	ok(count_dir(mb->dir, "tmp") == 0 && count_dir(mb->dir, "new") == 0 && count_dir(mb->dir, "cur") == 0,
	   "create: tmp/ new/ cur/ exist and are empty");
	is_int((long long)count_dir(st.root, "."), 1, "create: no work folder is left beside it");

	ok(store_mailbox_load(&st, mb->id, &back) == 0, "load: succeeds");
	is_str(back.name, "Journal", "load: name");
	is_str(back.description, "first box", "load: description");
	ok(!back.suspended && back.created > 0, "load: active, with a creation time");

	ok(store_identity_unseal(&st, mb, pw, strlen(pw), &ident) == 0, "unseal: the generated password opens identity.age");
	age_identity_wipe(&ident);
	errno = 0;
	ok(store_identity_unseal(&st, mb, "wrong", 5, &ident) < 0 && errno == EACCES, "unseal: a wrong password is EACCES");

	errno = 0;
	ok(store_mailbox_load(&st, "aaaaaaaaaaaaaaaa", &back) < 0 && errno == ENOENT, "load: an unknown id is ENOENT");
	errno = 0;
	ok(store_mailbox_load(&st, "../x", &back) < 0 && errno == EINVAL, "load: ../x is EINVAL");
	errno = 0;
	ok(store_mailbox_create(&st, "bad\tname", "", &back, pw) < 0 && errno == EILSEQ, "create: a control character is refused");
	(void)fd;
}

static void count_bad(void *arg, const char *id, int err)
{
	(void)id;
	if (err == EBADMSG)
		++*(int *)arg;
}

static void test_edit_list(struct mailbox *mb, struct mailbox *mb2, char *pw2)
{
	struct mailbox back, *all = NULL;
	size_t n = 0;

	{
		char left[8192], fresh[8192];
		struct timespec old[2] = { { time(NULL) - 7200, 0 }, { time(NULL) - 7200, 0 } };
		snprintf(left, sizeof left, "%s/.new-crashedcreate", st.root);
		snprintf(fresh, sizeof fresh, "%s/.deleted-inprogress", st.root);
		ok(mkdir(left, 0700) == 0 && mkdir(fresh, 0700) == 0 &&
		   utimensat(AT_FDCWD, left, old, 0) == 0, "create: leftovers of a crash, one old, one fresh");
		ok(store_mailbox_create(&st, "Second", "", mb2, pw2) == 0, "create: a second mailbox");
		ok(access(left, F_OK) < 0 && access(fresh, F_OK) == 0,
		   "create: an old leftover is removed, a fresh one (in progress) kept");
		rmdir(fresh);
	}
	ok(store_mailbox_list(&st, &all, &n, NULL, NULL) == 0 && n == 2, "list: two mailboxes");
	if (n == 2)
		ok(strcmp(all[0].id, mb->id) == 0 || all[0].created < all[1].created ||
		   strcmp(all[0].id, all[1].id) < 0, "list: sorted by creation, then id");
	else
		ok(0, "list: sorted by creation, then id");
	free(all);
	{
		char conf[8192], *saved = NULL;
		size_t slen = 0;
		int nbad = 0;
		snprintf(conf, sizeof conf, "%s/mailbox.conf", mb2->dir);
		ok(read_file_bounded(conf, 65536, &saved, &slen) == 0 &&
		   write_file_atomic(conf, "id = \"broken", 12, 0600) == 0, "list: damage one mailbox.conf");
		errno = 0;
		ok(store_mailbox_load(&st, mb2->id, &back) < 0 && errno == EBADMSG, "load: a damaged mailbox.conf is EBADMSG");
		ok(store_mailbox_list(&st, &all, &n, count_bad, &nbad) == 0 && n == 1 && nbad == 1,
		   "list: the damaged mailbox is reported, the other still listed");
		free(all);
		ok(saved && write_file_atomic(conf, saved, slen, 0600) == 0, "list: mailbox.conf restored");
		free(saved);
	}

	snprintf(back.name, sizeof back.name, "x");
	back = *mb;
	snprintf(back.name, sizeof back.name, "Renamed \"box\" \\ ✓");
	snprintf(back.description, sizeof back.description, "line; with = signs");
	back.suspended = 1;
	ok(store_mailbox_save(&st, &back) == 0, "save: succeeds");
	ok(store_mailbox_load(&st, mb->id, &back) == 0 && back.suspended, "save: suspended is kept");
	is_str(back.name, "Renamed \"box\" \\ ✓", "save: a name with quotes and backslashes round-trips");
	is_str(back.description, "line; with = signs", "save: description round-trips");
	snprintf(back.name, sizeof back.name, "bad\x01");
	errno = 0;
	ok(store_mailbox_save(&st, &back) < 0 && errno == EILSEQ, "save: a control character is refused");
	back.suspended = 0;
	snprintf(back.name, sizeof back.name, "Journal");
	ok(store_mailbox_save(&st, &back) == 0, "save: active again");
	*mb = back;
}

static int decrypt_file(const char *path, const struct age_identity *id, char *out, size_t size, size_t *len)
{
	struct age_decryptor *d;
	int fd = open(path, O_RDONLY), rc = -1;
	ssize_t r;

	*len = 0;
	if (fd < 0)
		return -1;
	if (age_decrypt_begin(&d, fd, id, 1) != 0)
		goto out;
	while ((r = age_decrypt_read(d, out + *len, size - *len)) > 0)
		*len += (size_t)r;
	age_decrypt_end(d);
	rc = r == 0 ? 0 : -1;
out:
	close(fd);
	return rc;
}

static void test_delivery(struct mailbox *mb, struct mailbox *mb2, const char *pw, const char *pw2)
{
	static const char msg[] = "Subject: hi\nX: y\r\n\r\nbody line\nlast\n";
	struct mailbox *both[2] = { mb, mb2 };
	struct age_identity ident;
	struct delivery *d;
	char name[512], path[8192], plain[256], want[64];
	size_t len = 0, bare = 0;
	struct stat sb;

	for (size_t i = 0; msg[i]; i++)
		if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
			bare++;
	ok(deliver(both, 2, msg, strlen(msg)) == 0, "delivery: to two mailboxes");
	ok(count_dir(mb->dir, "new") == 1 && count_dir(mb2->dir, "new") == 1, "delivery: one file in each new/");
	ok(count_dir(mb->dir, "tmp") == 0 && count_dir(mb2->dir, "tmp") == 0, "delivery: tmp/ is empty after commit");
	ok(first_name(mb->dir, "new", name, sizeof name) == 0, "delivery: the file is there");
	snprintf(path, sizeof path, "%s/new/%s", mb->dir, name);
	is_int(file_mode(path), 0600, "delivery: the message is 0600");
	ok(stat(path, &sb) == 0, "delivery: stat");
	snprintf(want, sizeof want, ",S=%lld,", (long long)sb.st_size);
	ok(strstr(name, want) != NULL, "delivery: S= is the file size (%s)", name);
	snprintf(want, sizeof want, ",W=%zu", strlen(msg) + bare);
	ok(strstr(name, want) != NULL, "delivery: W= counts a bare LF as two bytes (%s)", want);
	ok(store_identity_unseal(&st, mb, pw, strlen(pw), &ident) == 0 &&
	   decrypt_file(path, &ident, plain, sizeof plain, &len) == 0, "delivery: the copy decrypts with the mailbox key");
	is_mem(plain, len, msg, strlen(msg), "delivery: byte-exact");
	age_identity_wipe(&ident);
	(void)pw2;

	ok(delivery_begin(&d, &st, (const struct mailbox *const *)both, 2) == 0 &&
	   delivery_write(d, msg, 5) == 0, "abort: a delivery in progress");
	ok(count_dir(mb->dir, "tmp") == 1, "abort: its copy is in tmp/");
	delivery_abort(d);
	ok(count_dir(mb->dir, "tmp") == 0 && count_dir(mb2->dir, "tmp") == 0 && count_dir(mb->dir, "new") == 1,
	   "abort: tmp files removed, nothing new");

	/* A failure of one copy: the second mailbox's new/ disappears
	 * before the commit, so its rename fails. */
	ok(delivery_begin(&d, &st, (const struct mailbox *const *)both, 2) == 0 &&
	   delivery_write(d, msg, strlen(msg)) == 0, "all-or-nothing: delivery begun");
	snprintf(path, sizeof path, "%s/new", mb2->dir);
	{
		char aside[8192];
		snprintf(aside, sizeof aside, "%s/new.aside", mb2->dir);
		ok(rename(path, aside) == 0, "all-or-nothing: second mailbox's new/ moved away");
		ok(delivery_commit(d) < 0, "all-or-nothing: the commit fails");
		ok(rename(aside, path) == 0, "all-or-nothing: new/ restored");
	}
	is_int((long long)count_dir(mb->dir, "new"), 1, "all-or-nothing: nothing new in the first mailbox");
	is_int((long long)count_dir(mb->dir, "tmp") + (long long)count_dir(mb2->dir, "tmp"), 0,
	       "all-or-nothing: no tmp files left");
}

static void test_suspended_delivery(struct mailbox *mb2)
{
	struct mailbox s = *mb2;
	struct mailbox *one[1] = { &s };
	struct delivery *d;

	s.suspended = 1;
	errno = 0;
	ok(delivery_begin(&d, &st, (const struct mailbox *const *)one, 1) < 0 && errno == EPERM,
	   "delivery: a suspended mailbox is refused with EPERM");
}

/* A process that dies after writing but before the rename leaves its file
 * in tmp/ and nothing in new/; a later delivery cleans it once stale. */
static void test_crash(struct mailbox *mb)
{
	struct mailbox *one[1] = { mb };
	size_t before = count_dir(mb->dir, "new");
	char name[512], path[8192];
	struct timespec old[2];
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		struct delivery *d;
		if (delivery_begin(&d, &st, (const struct mailbox *const *)one, 1) == 0 &&
		    delivery_write(d, "crash\n", 6) == 0)
			_exit(0);     /* no commit, no abort: a crash */
		_exit(1);
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "crash: the writer died before its commit");
	is_int((long long)count_dir(mb->dir, "new"), (long long)before, "crash: nothing visible in new/");
	is_int((long long)count_dir(mb->dir, "tmp"), 1, "crash: the partial file is in tmp/");
	ok(deliver(one, 1, "x\n", 2) == 0 && count_dir(mb->dir, "tmp") == 1,
	   "crash: a fresh tmp file is not cleaned");
	ok(first_name(mb->dir, "tmp", name, sizeof name) == 0, "crash: name of the tmp file");
	snprintf(path, sizeof path, "%s/tmp/%s", mb->dir, name);
	old[0].tv_sec = old[1].tv_sec = time(NULL) - 37 * 3600;
	old[0].tv_nsec = old[1].tv_nsec = 0;
	ok(utimensat(AT_FDCWD, path, old, 0) == 0, "crash: the tmp file made 37 hours old");
	ok(deliver(one, 1, "y\n", 2) == 0 && count_dir(mb->dir, "tmp") == 0,
	   "crash: a tmp file older than 36 hours is cleaned");
}

/* Wait for the WRITERS children: how many exited 0. */
static int wait_writers(const pid_t *pids)
{
	int good = 0;

	for (int w = 0; w < WRITERS; w++) {
		int status;
		if (pids[w] > 0 && waitpid(pids[w], &status, 0) == pids[w] && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0)
			good++;
	}
	return good;
}

static void test_concurrent(struct mailbox *mb)
{
	struct mailbox *one[1] = { mb };
	size_t before = count_dir(mb->dir, "new");
	pid_t pids[WRITERS];
	int good;

	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		if (pids[w] == 0) {
			char msg[64];
			for (int i = 0; i < PER_WRITER; i++) {
				snprintf(msg, sizeof msg, "writer %d message %d\n", w, i);
				if (deliver(one, 1, msg, strlen(msg)) < 0)
					_exit(1);
			}
			_exit(0);
		}
	}
	good = wait_writers(pids);
	is_int(good, WRITERS, "concurrent: %d writer processes all succeeded", WRITERS);
	is_int((long long)count_dir(mb->dir, "new"), (long long)(before + WRITERS * PER_WRITER),
	       "concurrent: every message has its own file in new/");
	is_int((long long)count_dir(mb->dir, "tmp"), 0, "concurrent: tmp/ is empty");
}

/* A traced delivery: trace, then content (what msgw-smtp does). */
static int deliver_traced(struct mailbox *const *mbs, size_t n, const char *trace, const char *msg)
{
	struct delivery *d;

	if (delivery_begin(&d, &st, (const struct mailbox *const *)mbs, n) < 0)
		return -1;
	if (delivery_trace(d, trace, strlen(trace)) < 0 || delivery_write(d, msg, strlen(msg)) < 0) {
		delivery_abort(d);
		return -1;
	}
	return delivery_commit(d);
}

static void test_dedup_window(void)
{
	static const struct {
		const char *s;
		long long want;   /* -1: refused */
	} cases[] = {
		{ "7d", 604800 }, { "12h", 43200 }, { "90m", 5400 }, { "3600s", 3600 }, { "3600", 3600 },
		{ "off", 0 }, { "0", 0 }, { "366d", 366LL * 86400 }, { "367d", -1 }, { "-1", -1 },
		{ "+1", -1 }, { " 1", -1 }, { "1dd", -1 }, { "d", -1 }, { "", -1 }, { "1w", -1 },
		{ "99999999999999999999", -1 },
	};
	int64_t w;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = store_dedup_window_parse(cases[i].s, &w);
		if (cases[i].want < 0)
			ok(rc < 0 && errno == EINVAL, "dedup window \"%s\" refused", cases[i].s);
		else
			ok(rc == 0 && w == cases[i].want, "dedup window \"%s\" = %lld s", cases[i].s, cases[i].want);
	}
}

/* Same content from WRITERS processes at once, each with its own trace:
 * exactly one copy; untraced deliveries are never dropped. */
static void test_dedup(struct mailbox *mb)
{
	struct mailbox *one[1] = { mb };
	struct delivery *d;
	struct store_dedup_stats ds;
	pid_t pids[WRITERS];
	size_t before;
	int good;

	mb->dedup_window = 3600;
	before = count_dir(mb->dir, "new");
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		if (pids[w] == 0) {
			char trace[64];
			snprintf(trace, sizeof trace, "Received: by writer %d\r\n", w);
			_exit(deliver_traced(one, 1, trace, "Subject: same\r\n\r\nsame body\r\n") < 0);
		}
	}
	good = wait_writers(pids);
	is_int(good, WRITERS, "dedup: %d racing deliveries of one content all succeed", WRITERS);
	is_int((long long)count_dir(mb->dir, "new"), (long long)before + 1, "dedup: one copy is kept");
	ok(store_dedup_stats(mb, &ds) == 0 && ds.dropped == WRITERS - 1 && ds.entries == 1,
	   "dedup: %d dropped, one index entry", WRITERS - 1);
	is_int((long long)count_dir(mb->dir, "tmp"), 0, "dedup: tmp/ is empty");
	is_int(deliver_traced(one, 1, "Received: again\r\n", "Subject: same\r\n\r\nsame body\r\n"), 1,
	       "dedup: the commit reports one copy dropped");
	ok(deliver(one, 1, "Subject: same\r\n\r\nsame body\r\n", 29) == 0 &&
	   deliver(one, 1, "Subject: same\r\n\r\nsame body\r\n", 29) == 0 &&
	   count_dir(mb->dir, "new") == before + 3, "dedup: untraced deliveries are never dropped");
	ok(delivery_begin(&d, &st, (const struct mailbox *const *)one, 1) == 0 && delivery_write(d, "x", 1) == 0 &&
	   delivery_trace(d, "R\r\n", 3) < 0 && errno == EINVAL, "dedup: a trace after content is refused");
	delivery_abort(d);
	mb->dedup_window = 0;
}

/* Run maildrop_open in a child process: its errno, or 0. */
static int open_elsewhere(const char *id, const char *pw)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		struct maildrop *m;
		if (maildrop_open(&m, &st, id, pw, strlen(pw)) == 0) {
			maildrop_close(m);
			_exit(0);
		}
		_exit(errno & 0xff);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void write_lock(const struct mailbox *mb, const char *text)
{
	char path[8192];

	snprintf(path, sizeof path, "%s/maildrop.lock", mb->dir);
	write_file_atomic(path, text, strlen(text), 0600);
}

static void test_maildrop(struct mailbox *mb, const char *pw)
{
	struct maildrop *m;
	struct maildrop_reader *d;
	struct mailbox_stats s;
	char buf[256], bad[8192];
	size_t n, total;
	ssize_t r;

	ok(store_mailbox_stats(mb, &s) == 0 && s.messages > 0 && s.bytes > 0 && s.oldest > 0,
	   "stats: messages, bytes and oldest from the names");
	snprintf(bad, sizeof bad, "%s/new/%lld.Rdamaged.host,S=9,W=9", mb->dir, (long long)time(NULL));
	write_file_atomic(bad, "not age\n", 8, 0600);

	errno = 0;
	ok(maildrop_open(&m, &st, mb->id, "wrong", 5) < 0 && errno == EACCES, "maildrop: a wrong password is EACCES");
	errno = 0;
	ok(maildrop_open(&m, &st, "bbbbbbbbbbbbbbbb", pw, strlen(pw)) < 0 && errno == ENOENT,
	   "maildrop: an unknown mailbox is ENOENT");
	errno = 0;
	ok(maildrop_open(&m, &st, "../x", pw, strlen(pw)) < 0 && errno == EINVAL, "maildrop: a bad id is EINVAL");
	if (!ok(maildrop_open(&m, &st, mb->id, pw, strlen(pw)) == 0, "maildrop: opens with the password"))
		return;
	n = maildrop_count(m);
	is_int((long long)n, (long long)s.messages + 1, "maildrop: lists every message");
	ok(count_dir(mb->dir, "new") > 0, "maildrop: opening renames nothing (new/ moves at commit)");
	ok(maildrop_get(m, 0) != NULL && strlen(maildrop_get(m, 0)->uidl) <= 70 &&
	   strchr(maildrop_get(m, 0)->uidl, ',') == NULL && strchr(maildrop_get(m, 0)->uidl, ':') == NULL,
	   "maildrop: UIDL is the unique part: %s", maildrop_get(m, 0) ? maildrop_get(m, 0)->uidl : "");
	ok(maildrop_get(m, n) == NULL, "maildrop: out of range is NULL");

	is_int(open_elsewhere(mb->id, pw), EBUSY, "lock: a second session gets EBUSY");

	total = 0;
	ok(maildrop_open_message(m, 0, &d) == 0, "maildrop: the first message opens");
	if (d) {
		size_t bare = 0;
		while (total < sizeof buf && (r = maildrop_read(d, buf + total, sizeof buf - total)) > 0)
			total += (size_t)r;
		maildrop_reader_end(d);
		for (size_t i = 0; i < total; i++)
			bare += buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r');
		ok(r == 0 && total > 0 && total + bare == maildrop_get(m, 0)->size,
		   "maildrop: the first message decrypts, W= is its size with CRLF");
	}
	{
		size_t damaged = n;
		for (size_t i = 0; i < n; i++)
			if (strstr(maildrop_get(m, i)->uidl, "Rdamaged"))
				damaged = i;
		errno = 0;
		ok(damaged < n && maildrop_open_message(m, damaged, &d) < 0 && errno == EBADMSG,
		   "maildrop: a damaged message is EBADMSG");
	}
	ok(maildrop_delete(m, 0) == 0 && maildrop_get(m, 0)->deleted, "maildrop: DELE marks");
	ok(maildrop_delete(m, 0) < 0, "maildrop: a second DELE of the same message fails");
	maildrop_reset(m);
	ok(!maildrop_get(m, 0)->deleted, "maildrop: RSET unmarks");
	ok(maildrop_delete(m, 0) == 0 && maildrop_commit(m) == 0, "maildrop: commit applies the deletion");
	maildrop_close(m);
	ok(store_mailbox_stats(mb, &s) == 0 && s.messages == n - 1, "maildrop: one message fewer on disk");
	ok(access(bad, F_OK) < 0 && count_dir(mb->dir, "cur") == n - 1, "maildrop: the damaged message was kept (in cur/)");
	is_int((long long)count_dir(mb->dir, "new"), 0, "maildrop: commit moved the kept messages to cur/");
	is_int(open_elsewhere(mb->id, pw), 0, "lock: released by close");

	/* The lock's break rules: t/store/lock-test.c. A lock left behind
	 * by a session of another host holds while its lease runs. */
	write_lock(mb, "msgw-lock1 other-host.example 1 1 0123456789abcdef 600\n");
	errno = 0;
	ok(maildrop_open(&m, &st, mb->id, pw, strlen(pw)) < 0 && errno == EBUSY,
	   "lock: a lock of another host within its lease holds");
	snprintf(bad, sizeof bad, "%s/maildrop.lock", mb->dir);
	unlink(bad);
}

static void test_delete_reset(struct mailbox *mb, struct mailbox *mb2, const char *pw2)
{
	struct mailbox t = *mb2;
	struct maildrop *m;
	char pw[STORE_PASSWORD_LEN + 1], oldpub[8192], path[8192], *text = NULL;
	size_t len;
	struct age_identity ident;

	errno = 0;
	ok(store_mailbox_delete(&st, mb2->id) < 0 && errno == EPERM, "delete: an active mailbox is refused (EPERM)");
	t.suspended = 1;
	ok(store_mailbox_save(&st, &t) == 0, "delete: suspend the second mailbox");
	errno = 0;
	ok(store_mailbox_delete(&st, mb2->id) < 0 && errno == ENOTEMPTY, "delete: a mailbox with messages is refused (ENOTEMPTY)");
	errno = 0;
	ok(store_mailbox_reset_password(&st, mb2->id, pw) < 0 && errno == ENOTEMPTY,
	   "reset-password: a mailbox with messages is refused");
	ok(maildrop_open(&m, &st, mb2->id, pw2, strlen(pw2)) == 0, "delete: a suspended mailbox can still be emptied");
	if (m) {
		for (size_t i = 0; i < maildrop_count(m); i++)
			maildrop_delete(m, i);
		errno = 0;
		ok(store_mailbox_delete(&st, mb2->id) < 0 && errno == EBUSY, "delete: refused while a session holds the lock");
		ok(maildrop_commit(m) == 0, "delete: messages removed");
		maildrop_close(m);
	}
	snprintf(path, sizeof path, "%s/identity.pub", mb2->dir);
	snprintf(oldpub, sizeof oldpub, "x");
	if (read_file_bounded(path, 200, &text, &len) == 0) {
		snprintf(oldpub, sizeof oldpub, "%s", text);
		free(text);
	}
	ok(store_mailbox_reset_password(&st, mb2->id, pw) == 0, "reset-password: suspended and empty");
	ok(read_file_bounded(path, 200, &text, &len) == 0 && strcmp(text, oldpub) != 0, "reset-password: a new public key");
	free(text);
	errno = 0;
	ok(store_identity_unseal(&st, mb2, pw2, strlen(pw2), &ident) < 0 && errno == EACCES,
	   "reset-password: the old password no longer opens");
	ok(store_identity_unseal(&st, mb2, pw, strlen(pw), &ident) == 0, "reset-password: the new one does");
	age_identity_wipe(&ident);
	errno = 0;
	ok(store_mailbox_reset_password(&st, mb->id, pw) < 0 && errno == EPERM,
	   "reset-password: an active mailbox is refused");

	ok(store_mailbox_delete(&st, mb2->id) == 0, "delete: suspended and empty");
	ok(access(mb2->dir, F_OK) < 0 && errno == ENOENT, "delete: the folder is gone");
	is_int((long long)count_dir(st.root, "."), 1, "delete: nothing left aside");
	errno = 0;
	ok(store_mailbox_delete(&st, mb2->id) < 0 && errno == ENOENT, "delete: a second time is ENOENT");
	errno = 0;
	ok(store_mailbox_delete(&st, "../../etc/passw") < 0 && errno == EINVAL, "delete: a bad id is EINVAL");
}

/* A full disk: a small tmpfs as data_dir (root only). The delivery fails
 * with ENOSPC and leaves nothing behind. */
static void test_full_disk(void)
{
	char dir[8192], cmd[8400], pw[STORE_PASSWORD_LEN + 1];
	static char big[256 * 1024];
	struct config c2;
	struct store st2;
	struct mailbox mb, *one[1] = { &mb };
	struct delivery *d;
	int rc = 0, err = 0;

	snprintf(dir, sizeof dir, "%s/small", t_tmpdir());
	snprintf(cmd, sizeof cmd, "mount -t tmpfs -o size=128k,mode=0700 tmpfs '%s' 2>/dev/null", dir);
	if (geteuid() != 0 || mkdir(dir, 0700) < 0 || system(cmd) != 0) {
		skip("needs root and tmpfs mounts", "full disk: ENOSPC fails the delivery");
		return;
	}
	c2 = cfg;
	c2.data_dir = dir;
	memset(big, 'x', sizeof big);
	if (store_init(&st2, &c2) < 0 || store_mailbox_create(&st2, "Small", "", &mb, pw) < 0) {
		ok(0, "full disk: a mailbox on the small file system");
		goto out;
	}
	if (delivery_begin(&d, &st2, (const struct mailbox *const *)one, 1) == 0) {
		rc = delivery_write(d, big, sizeof big);
		if (rc == 0)
			rc = delivery_commit(d);
		else
			delivery_abort(d);
		err = errno;
	}
	ok(rc < 0 && err == ENOSPC, "full disk: the delivery fails with ENOSPC");
	ok(count_dir(mb.dir, "new") == 0 && count_dir(mb.dir, "tmp") == 0, "full disk: nothing left in new/ or tmp/");
out:
	snprintf(cmd, sizeof cmd, "umount '%s'", dir);
	if (system(cmd) != 0)
		diag("could not unmount %s", dir);
}

static void test_owner(void)
{
	char dir[8192];
	int status;
	pid_t pid;

	if (geteuid() != 0) {
		ok(store_become_owner("/") == 0 && getuid() == geteuid(), "owner: a no-op when not root");
		return;
	}
	snprintf(dir, sizeof dir, "%s/owned", t_tmpdir());
	if (mkdir(dir, 0700) < 0 || chown(dir, 65534, 65534) < 0) {
		skip("cannot chown a directory here", "owner: root acts as the owner of data_dir");
		return;
	}
	pid = fork();
	if (pid == 0)
		_exit(store_become_owner(dir) == 0 && geteuid() == 65534 && getegid() == 65534 && getuid() == 65534 ? 0 : 1);
	ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "owner: root acts as the owner (uid and gid) of data_dir");
}

int main(void)
{
	char err[256], pw[STORE_PASSWORD_LEN + 1], pw2[STORE_PASSWORD_LEN + 1];
	struct mailbox mb, mb2;

	plan_lazy();
	if (config_defaults(&cfg) < 0)
		bail("config_defaults");
	free(cfg.data_dir);
	snprintf(err, sizeof err, "%s/data", t_tmpdir());
	cfg.data_dir = strdup(err);
	cfg.crypt.scrypt_log_n = 10;
	if (cfg.data_dir == NULL || store_init(&st, &cfg) < 0)
		bail("store_init");

	test_ids();
	test_create(&mb, pw);
	test_edit_list(&mb, &mb2, pw2);
	test_delivery(&mb, &mb2, pw, pw2);
	test_suspended_delivery(&mb2);
	test_crash(&mb);
	test_concurrent(&mb);
	test_dedup_window();
	test_dedup(&mb);
	test_maildrop(&mb, pw);
	test_delete_reset(&mb, &mb2, pw2);
	test_full_disk();
	test_owner();
	config_free(&cfg);
	return done_testing();
}
