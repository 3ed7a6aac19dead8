/* Reading one stored message for RETR and TOP: from its age file with the
 * mailbox key (no privilege separation, and inside the store helper), or
 * from what the store helper sent: a message under 64 KiB whole in one
 * frame (WIRE_MESSAGE), a larger one as plaintext through a pipe whose end
 * the helper confirms on its socket (WIRE_MSGEND). Either way the
 * caller sees the same thing: bytes, then 0 only once the whole message
 * verified, or -1 with errno (EBADMSG for a damaged file). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/internal.h"
#include "store/remote.h"
#include "store/wire.h"
#include "util/wipe.h"

struct maildrop_reader {
	struct age_decryptor *d; /* local: over fd */
	struct wire_frame *f;    /* a whole message from the helper */
	size_t off;              /* what of f was read */
	int fd;                  /* local: the stored file; remote: the pipe */
	int helper;              /* remote: the store helper's socket, or -1 */
	int ended;               /* remote: WIRE_MSGEND read */
	int err;                 /* the error -1 reported, for maildrop_read_error */
	int age_err;             /* local: the age error behind it, or 0 */
};

static struct maildrop_reader *reader_new(int fd, int helper)
{
	struct maildrop_reader *r = calloc(1, sizeof *r);

	if (r == NULL)
		return NULL;
	r->fd = fd;
	r->helper = helper;
	return r;
}

int store_reader_local(struct maildrop_reader **rp, int fd, const struct age_identity *id)
{
	struct maildrop_reader *r = reader_new(fd, -1);
	int rc;

	*rp = NULL;
	if (r == NULL) {
		close(fd);
		return -1;
	}
	rc = age_decrypt_begin(&r->d, fd, id, 1);
	if (rc != 0) {
		r->d = NULL;
		maildrop_reader_end(r);
		store_age_errno(rc);
		if (errno == EACCES || errno == EINVAL)
			errno = EBADMSG; /* not for this key: a damaged message */
		return -1;
	}
	*rp = r;
	return 0;
}

int store_reader_remote(struct maildrop_reader **rp, int helper, int pipe_fd)
{
	*rp = reader_new(pipe_fd, helper);
	if (*rp == NULL) {
		int saved = errno;
		close(pipe_fd);
		remote_maildrop_end(helper);
		errno = saved;
		return -1;
	}
	return 0;
}

int store_reader_frame(struct maildrop_reader **rp, struct wire_frame *f)
{
	*rp = reader_new(-1, -1);
	if (*rp == NULL) {
		wipe(f->p, f->len);
		free(f);
		return -1;
	}
	(*rp)->f = f;
	return 0;
}

static ssize_t fail(struct maildrop_reader *r, int err, int age_err)
{
	r->err = err ? err : EIO;
	r->age_err = age_err;
	errno = r->err;
	return -1;
}

/* The pipe's end: the helper's verdict on the whole message. */
static ssize_t remote_end(struct maildrop_reader *r)
{
	int err;

	r->ended = 1;
	err = remote_maildrop_end(r->helper);
	return err == 0 ? 0 : fail(r, err, 0);
}

ssize_t maildrop_read(struct maildrop_reader *r, void *buf, size_t n)
{
	if (r->err)
		return fail(r, r->err, r->age_err);
	if (r->d != NULL) {
		ssize_t k = age_decrypt_read(r->d, buf, n);
		if (k >= 0)
			return k;
		return fail(r, k == AGE_ERR_IO ? errno : EBADMSG, (int)k);
	}
	if (r->f != NULL) {
		size_t k = r->f->len - r->off < n ? r->f->len - r->off : n;
		memcpy(buf, r->f->p + r->off, k);
		r->off += k;
		return (ssize_t)k;
	}
	if (r->ended)
		return 0;
	for (;;) {
		ssize_t k = read(r->fd, buf, n);
		if (k > 0)
			return k;
		if (k == 0)
			return remote_end(r);
		if (errno != EINTR)
			return fail(r, errno, 0);
	}
}

const char *maildrop_read_error(const struct maildrop_reader *r)
{
	if (r->age_err != 0 && r->age_err != AGE_ERR_IO)
		return age_strerror(r->age_err);
	return strerror(r->err ? r->err : EIO);
}

void maildrop_reader_end(struct maildrop_reader *r)
{
	if (r == NULL)
		return;
	if (r->d != NULL)
		age_decrypt_end(r->d);
	if (r->f != NULL) {
		wipe(r->f->p, r->f->len);
		free(r->f);
	}
	if (r->fd >= 0)
		close(r->fd); /* a helper still writing gets EPIPE and stops */
	if (r->helper >= 0 && !r->ended)
		(void)remote_maildrop_end(r->helper);
	free(r);
}
