/* Retrieval for POP3: the password opens identity.age (one scrypt), the
 * maildrop lock makes the session exclusive, only messages the client
 * deleted are ever unlinked (a message that does not decrypt stays), and
 * at QUIT the listed messages it kept move from new/ to cur/ as Maildir
 * readers do once they have seen a message. Nothing is renamed at log-in:
 * an archiver that deletes what it fetched costs no rename at all. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/admin.h"
#include "store/internal.h"
#include "store/remote.h"
#include "util/secmem.h"
#include "util/log.h"
#include "util/path.h"

#define TMP_CLEAN_LIMIT 1000
/* Messages asked of the store helper before the client asks: at most this
 * many, each at most one frame in the socket or one pipe's worth. Enough
 * to keep the helper busy through a client's pipelined window (the
 * archiver bench sends 16 RETR at a time) and the round trip after it. */
#define AHEAD 16

struct maildrop {
	struct mailbox mb;
	struct age_identity id;
	struct store_lock lock;
	struct store_msgfile *files;
	struct maildrop_msg *msgs;
	char (*uidls)[STORE_UIDL_MAX + 1];
	size_t n;
	struct {
		size_t msg;
		uint64_t ticket; /* of its answer */
	} ahead[AHEAD];     /* messages asked of the helper ahead of RETR, in order */
	size_t nahead;
	int sub_fd[2];      /* new/ and cur/: messages opened relative to them */
	int helper;         /* privilege separation: the store helper's socket, or -1 */
};

/* Move the kept (not deleted) listed messages of new/ to cur/ with an
 * empty info ":2,". */
static int move_new(struct maildrop *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		struct store_msgfile *f = &m->files[i];
		char from[PATH_MAX], to[PATH_MAX], *name;
		if (strcmp(f->sub, "new") != 0 || m->msgs[i].deleted)
			continue;
		if (path_fmt(from, sizeof from, "%s/new/%s", m->mb.dir, f->name) < 0 ||
		    path_fmt(to, sizeof to, "%s/cur/%s%s", m->mb.dir, f->name,
			     strchr(f->name, ':') ? "" : ":2,") < 0)
			return -1;
		if (rename(from, to) < 0) {
			if (errno != ENOENT)
				return -1;
			continue;          /* gone meanwhile */
		}
		name = strdup(strrchr(to, '/') + 1);
		if (name == NULL)
			return -1;
		free(f->name);
		f->name = name;
		memcpy(f->sub, "cur", 4);
	}
	return 0;
}

/* Messages POP3 can offer: those whose names carry their sizes and whose
 * unique part is a valid UIDL. Others stay on disk untouched. */
static int build_list(struct maildrop *m)
{
	size_t i, o = 0;

	m->msgs = calloc(m->n ? m->n : 1, sizeof *m->msgs);
	m->uidls = calloc(m->n ? m->n : 1, sizeof *m->uidls);
	if (m->msgs == NULL || m->uidls == NULL)
		return -1;
	for (i = 0; i < m->n; i++) {
		struct store_msgfile *f = &m->files[i];
		int printable = f->uidl_len <= STORE_UIDL_MAX;
		for (size_t k = 0; printable && k < f->uidl_len; k++)
			printable = f->name[k] > 0x20 && f->name[k] < 0x7f;
		if (!f->sized || !printable) {
			char q[128];
			log_warning("event=maildrop_skip mailbox=%s file=%s reason=name", m->mb.id,
				    log_q(q, sizeof q, f->name));
			free(f->name);
			continue;
		}
		m->files[o] = *f;
		memcpy(m->uidls[o], f->name, f->uidl_len);
		m->uidls[o][f->uidl_len] = '\0';
		m->msgs[o].uidl = m->uidls[o];
		m->msgs[o].size = f->msize;
		o++;
	}
	m->n = o;
	return 0;
}

static int open_subs(struct maildrop *m)
{
	static const char *const subs[2] = {"new", "cur"};
	char path[PATH_MAX];

	for (int k = 0; k < 2; k++)
		if (path_join(path, sizeof path, m->mb.dir, subs[k]) < 0 ||
		    (m->sub_fd[k] = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			return -1;
	return 0;
}

/* A stored message, read without touching its atime (a journal update per
 * message read otherwise; the store user owns the files, which O_NOATIME
 * needs), and without walking the mailbox path again. */
static int open_file(const struct maildrop *m, const struct store_msgfile *f)
{
	int dfd = m->sub_fd[strcmp(f->sub, "new") == 0 ? 0 : 1];
	int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW;
	int fd = openat(dfd, f->name, flags | O_NOATIME);

	if (fd < 0 && errno == EPERM)
		fd = openat(dfd, f->name, flags);
	return fd;
}

int maildrop_open(struct maildrop **mp, const struct store *st, const char *id,
		  const char *password, size_t plen)
{
	struct maildrop *m;
	struct store_lock_opts lo;
	char tmpdir[PATH_MAX];
	size_t left_out = 0;
	int saved;

	*mp = NULL;
	m = secmem_alloc(sizeof *m);   /* it holds the identity */
	if (m == NULL)
		return -1;
	m->lock.fd = -1;
	m->sub_fd[0] = m->sub_fd[1] = -1;
	m->helper = -1;
	if (st->cfg->store_helper.on) {
		if (remote_maildrop_login(st->cfg->store_helper.fd, id, password, plen, &m->msgs,
					  &m->uidls, &m->n) < 0)
			goto fail;
		m->helper = st->cfg->store_helper.fd;
		*mp = m;
		return 0;
	}
	if (store_mailbox_load(st, id, &m->mb) < 0 ||
	    store_identity_unseal(st, &m->mb, password, plen, &m->id) < 0)
		goto fail;
	store_lock_opts_from(&lo, st->cfg);
	if (store_lock_take(&m->lock, m->mb.dir, &lo) < 0)
		goto fail;
	/* Under the lock, so two sessions never re-seal at once; a failure
	 * keeps the old file, which still opens. */
	if (store_identity_refresh(st, &m->mb, &m->id, password, plen) < 0)
		log_warning("event=identity_reseal mailbox=%s error=\"%s\"", m->mb.id, strerror(errno));
	if (path_join(tmpdir, sizeof tmpdir, m->mb.dir, "tmp") == 0)
		maildir_clean_tmp(tmpdir, STORE_TMP_MAX_AGE, TMP_CLEAN_LIMIT);
	if (open_subs(m) < 0)
		goto fail;
	if (store_mailbox_oldest(&m->mb, (size_t)st->cfg->pop3.max_messages, &m->files, &m->n,
				 &left_out) < 0 ||
	    build_list(m) < 0)
		goto fail;
	if (left_out > 0)
		log_warning("event=maildrop_limit mailbox=%s listed=%zu left_out=%zu limit=%d "
			    "served=oldest",
			    m->mb.id, m->n, left_out, st->cfg->pop3.max_messages);
	*mp = m;
	return 0;
fail:
	saved = errno;
	maildrop_close(m);
	errno = saved;
	return -1;
}

size_t maildrop_count(const struct maildrop *m)
{
	return m->n;
}

const struct maildrop_msg *maildrop_get(const struct maildrop *m, size_t i)
{
	return i < m->n ? &m->msgs[i] : NULL;
}

/* The answers to the OPENs sent ahead that nobody wants: read and dropped. */
static void drop_ahead(struct maildrop *m)
{
	struct maildrop_reader *r;

	for (size_t k = 0; k < m->nahead; k++)
		if (remote_maildrop_reply(m->helper, m->ahead[k].ticket, &r) == 0)
			maildrop_reader_end(r);
	m->nahead = 0;
}

/* Ask for the messages not deleted after `after` until AHEAD are asked. */
static void ask_ahead(struct maildrop *m, size_t after)
{
	size_t next = m->nahead ? m->ahead[m->nahead - 1].msg + 1 : after + 1;

	for (; m->nahead < AHEAD && next < m->n; next++)
		if (!m->msgs[next].deleted) {
			if (remote_maildrop_request(m->helper, next, &m->ahead[m->nahead].ticket) < 0)
				return;
			m->ahead[m->nahead++].msg = next;
		}
}

/* Under privilege separation: message i from the store helper, with the
 * next ones asked for at once, so the helper decrypts them while this one
 * goes to the client (archivers fetch in order; a guess that misses costs
 * the messages read and dropped). Answers come in the order asked. */
static int open_remote(struct maildrop *m, size_t i, struct maildrop_reader **r)
{
	uint64_t t;
	int rc;

	if (m->nahead > 0 && m->ahead[0].msg == i) {
		t = m->ahead[0].ticket;
		m->nahead--;
		memmove(m->ahead, m->ahead + 1, m->nahead * sizeof *m->ahead);
	} else {
		drop_ahead(m);
		if (remote_maildrop_request(m->helper, i, &t) < 0)
			return -1;
	}
	rc = remote_maildrop_reply(m->helper, t, r);
	if (rc == 0)
		ask_ahead(m, i);
	return rc;
}

int maildrop_open_message(struct maildrop *m, size_t i, struct maildrop_reader **r)
{
	int fd;

	*r = NULL;
	if (i >= m->n || m->msgs[i].deleted) {
		errno = EINVAL;
		return -1;
	}
	if (m->helper >= 0)
		return open_remote(m, i, r);
	if ((fd = open_file(m, &m->files[i])) < 0)
		return -1;
	return store_reader_local(r, fd, &m->id);
}

int maildrop_delete(struct maildrop *m, size_t i)
{
	if (i >= m->n || m->msgs[i].deleted) {
		errno = EINVAL;
		return -1;
	}
	m->msgs[i].deleted = 1;
	return 0;
}

void maildrop_reset(struct maildrop *m)
{
	for (size_t i = 0; i < m->n; i++)
		m->msgs[i].deleted = 0;
}

int maildrop_commit(struct maildrop *m)
{
	char path[PATH_MAX], cur[PATH_MAX];
	int rc = 0, err = 0;

	if (m->helper >= 0) {
		drop_ahead(m);
		return remote_maildrop_commit(m->helper, m->msgs, m->n);
	}
	for (size_t i = 0; i < m->n; i++) {
		if (!m->msgs[i].deleted)
			continue;
		if (path_fmt(path, sizeof path, "%s/%s/%s", m->mb.dir, m->files[i].sub, m->files[i].name) < 0 ||
		    (unlink(path) < 0 && errno != ENOENT)) {
			rc = -1;
			if (!err)
				err = errno;
		}
	}
	if (move_new(m) < 0) {
		rc = -1;
		if (!err)
			err = errno;
	}
	if (path_join(cur, sizeof cur, m->mb.dir, "cur") < 0 || fsync_dir(cur) < 0) {
		rc = -1;
		if (!err)
			err = errno;
	}
	errno = err;
	return rc;
}

void maildrop_close(struct maildrop *m)
{
	if (m == NULL)
		return;
	if (m->helper >= 0) {
		drop_ahead(m);
		remote_call(m->helper, WIRE_MCLOSE, 1);
	}
	for (int k = 0; k < 2; k++)
		if (m->sub_fd[k] >= 0)
			close(m->sub_fd[k]);
	store_lock_release(&m->lock);
	age_identity_wipe(&m->id);
	if (m->files != NULL)
		store_msgfiles_free(m->files, m->n);
	free(m->msgs);
	free(m->uidls);
	secmem_free(m, sizeof *m);
}
