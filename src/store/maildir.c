/* Maildir names and scans. msgw's names are
 *   <time>.R<16 hex>P<pid>.<host>,S=<file bytes>,W=<message bytes>[:2,FLAGS]
 * The part before the first ',' is unique and is the POP3 UIDL; the sizes
 * let POP3 answer LIST/STAT without decrypting anything. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypt/age.h"
#include "store/admin.h"
#include "store/internal.h"
#include "util/path.h"

int store_age_errno(int age_err)
{
	switch (age_err) {
	case AGE_ERR_IO:
		if (errno == 0)
			errno = EIO;
		break;
	case AGE_ERR_NOMEM: errno = ENOMEM; break;
	case AGE_ERR_NO_IDENTITY: errno = EACCES; break;
	case AGE_ERR_ARG: errno = EINVAL; break;
	default: errno = EBADMSG; break;
	}
	return -1;
}

int store_mkdir(const char *path)
{
	struct stat sb;

	if (mkdir(path, STORE_MODE_TRAVERSE) == 0)
		return chmod(path, STORE_MODE_TRAVERSE);   /* whatever the umask */
	if (errno == EEXIST && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return 0;
	if (errno == EEXIST)
		errno = ENOTDIR;
	return -1;
}

void maildir_host(char clean[STORE_HOST_MAX])
{
	char host[64];
	size_t i, o = 0;

	if (gethostname(host, sizeof host) < 0 || host[0] == '\0')
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	/* Only characters that are harmless in a name and a UIDL. */
	for (i = 0; host[i] && o < STORE_HOST_MAX - 1; i++) {
		char c = host[i];
		clean[o++] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			      c == '-' || c == '.') ? c : '_';
	}
	clean[o] = '\0';
}

int maildir_unique(char *out, size_t size)
{
	unsigned char r[8];
	char clean[STORE_HOST_MAX];

	if (crypt_random(r, sizeof r) != 0)
		return store_age_errno(AGE_ERR_IO);
	maildir_host(clean);
	return path_fmt(out, size, "%lld.R%02x%02x%02x%02x%02x%02x%02x%02xP%ld.%s",
			(long long)time(NULL), r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7],
			(long)getpid(), clean);
}

static int parse_u64(const char *p, uint64_t *v)
{
	uint64_t n = 0;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (UINT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (*p != '\0' && *p != ',' && *p != ':')
		return -1;
	*v = n;
	return 0;
}

int maildir_parse(const char *name, size_t *uidl_len, uint64_t *s, uint64_t *w, time_t *t,
		  int *sized)
{
	const char *comma, *colon, *p;
	uint64_t tv = 0;
	int have_s = 0, have_w = 0;
	size_t len;

	if (name[0] == '.' || name[0] == '\0')
		return -1;
	colon = strchr(name, ':');
	comma = strchr(name, ',');
	len = comma && (!colon || comma < colon) ? (size_t)(comma - name)
		: colon ? (size_t)(colon - name) : strlen(name);
	if (len == 0)
		return -1;
	*s = *w = 0;
	for (p = comma; p && (!colon || p < colon); p = strchr(p + 1, ',')) {
		if (colon && p > colon)
			break;
		if (strncmp(p, ",S=", 3) == 0 && parse_u64(p + 3, s) == 0)
			have_s = 1;
		else if (strncmp(p, ",W=", 3) == 0 && parse_u64(p + 3, w) == 0)
			have_w = 1;
	}
	for (p = name; *p >= '0' && *p <= '9' && tv < (1ULL << 40); p++)
		tv = tv * 10 + (uint64_t)(*p - '0');
	*uidl_len = len;
	*t = (time_t)tv;
	*sized = have_s && have_w;
	return 0;
}

void maildir_clean_tmp(const char *dir, time_t max_age, size_t limit)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	time_t now = time(NULL);
	size_t seen = 0;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL && seen++ < limit) {
		struct stat sb;
		if (e->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !S_ISDIR(sb.st_mode) && sb.st_mtime + max_age < now)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

/* Call fn for each message name in <mbdir>/<sub>. */
static int scan(const struct mailbox *mb, const char *sub,
		int (*fn)(void *arg, const char *sub, const char *name), void *arg)
{
	char path[PATH_MAX];
	DIR *d;
	struct dirent *e;
	int rc = 0, saved;

	if (path_join(path, sizeof path, mb->dir, sub) < 0)
		return -1;
	d = opendir(path);
	if (d == NULL)
		return -1;
	for (;;) {
		errno = 0;
		e = readdir(d);
		if (e == NULL) {
			rc = errno ? -1 : 0;
			break;
		}
		if (e->d_name[0] == '.')
			continue;
		if (fn(arg, sub, e->d_name) < 0) {
			rc = -1;
			break;
		}
	}
	saved = errno;
	closedir(d);
	errno = saved;
	return rc;
}

static int stats_one(void *arg, const char *sub, const char *name)
{
	struct mailbox_stats *s = arg;
	size_t ul;
	uint64_t sz, w;
	time_t t;
	int sized;

	(void)sub;
	if (maildir_parse(name, &ul, &sz, &w, &t, &sized) < 0)
		return 0;
	s->messages++;
	s->bytes += sz;
	if (t > 0 && (s->oldest == 0 || t < s->oldest))
		s->oldest = t;
	if (t > s->newest)
		s->newest = t;
	return 0;
}

int store_mailbox_stats(const struct mailbox *mb, struct mailbox_stats *s)
{
	memset(s, 0, sizeof *s);
	if (scan(mb, "new", stats_one, s) < 0 || scan(mb, "cur", stats_one, s) < 0)
		return -1;
	return 0;
}

struct files {
	struct store_msgfile *v;
	size_t n, cap, max;
	int keep_oldest;      /* past max: keep the oldest max (a heap), count the rest */
	size_t left_out;
};

static int files_cmp(const void *a, const void *b);

/* v[0..n) as a max-heap under files_cmp: v[0] is the newest kept. */
static void sift_down(struct store_msgfile *v, size_t n, size_t i)
{
	for (size_t k = 0; k < 64; k++) {   /* a heap of 2^64 is out of reach */
		size_t l = 2 * i + 1, r = l + 1, top = i;

		if (l < n && files_cmp(&v[l], &v[top]) > 0)
			top = l;
		if (r < n && files_cmp(&v[r], &v[top]) > 0)
			top = r;
		if (top == i)
			return;
		struct store_msgfile t = v[i];
		v[i] = v[top];
		v[top] = t;
		i = top;
	}
}

/* The listing is full: name goes in for the newest kept one when it is
 * older; either way one message is left out. */
static int files_replace_newest(struct files *f, const char *sub, const char *name)
{
	struct store_msgfile m;
	char *copy;

	memset(&m, 0, sizeof m);
	if (maildir_parse(name, &m.uidl_len, &m.size, &m.msize, &m.time, &m.sized) < 0)
		return 0;
	if (f->left_out++ == 0)    /* the first overflow: make the heap */
		for (size_t i = f->n / 2; i-- > 0;)
			sift_down(f->v, f->n, i);
	snprintf(m.sub, sizeof m.sub, "%s", sub);
	m.name = (char *)name;
	if (files_cmp(&m, &f->v[0]) >= 0)
		return 0;
	if ((copy = strdup(name)) == NULL)
		return -1;
	free(f->v[0].name);
	m.name = copy;
	f->v[0] = m;
	sift_down(f->v, f->n, 0);
	return 0;
}

static int files_one(void *arg, const char *sub, const char *name)
{
	struct files *f = arg;
	struct store_msgfile *m;

	if (f->n == f->max) {
		if (f->keep_oldest)
			return files_replace_newest(f, sub, name);
		errno = E2BIG;
		return -1;
	}
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		struct store_msgfile *v = reallocarray(f->v, cap, sizeof *v);
		if (v == NULL)
			return -1;
		f->v = v;
		f->cap = cap;
	}
	m = &f->v[f->n];
	memset(m, 0, sizeof *m);
	snprintf(m->sub, sizeof m->sub, "%s", sub);
	if (maildir_parse(name, &m->uidl_len, &m->size, &m->msize, &m->time, &m->sized) < 0)
		return 0;
	m->name = strdup(name);
	if (m->name == NULL)
		return -1;
	f->n++;
	return 0;
}

static int files_cmp(const void *a, const void *b)
{
	const struct store_msgfile *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return strcmp(x->name, y->name);
}

void store_msgfiles_free(struct store_msgfile *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

static int collect(const struct mailbox *mb, struct files *f, struct store_msgfile **v, size_t *n)
{
	int saved;

	if (scan(mb, "new", files_one, f) < 0 || scan(mb, "cur", files_one, f) < 0) {
		saved = errno;
		store_msgfiles_free(f->v, f->n);
		errno = saved;
		return -1;
	}
	if (f->n > 1)
		qsort(f->v, f->n, sizeof *f->v, files_cmp);
	*v = f->v;
	*n = f->n;
	return 0;
}

int store_mailbox_oldest(const struct mailbox *mb, size_t max, struct store_msgfile **v,
			 size_t *n, size_t *left_out)
{
	struct files f = { NULL, 0, 0, max, 1, 0 };
	int rc = collect(mb, &f, v, n);

	*left_out = f.left_out;
	return rc;
}

int store_mailbox_files(const struct mailbox *mb, size_t max, struct store_msgfile **v, size_t *n)
{
	struct files f = { NULL, 0, 0, max, 0, 0 };

	return collect(mb, &f, v, n);
}
