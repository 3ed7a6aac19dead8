/* The C2SP CCTV age vectors (t/crypt/vectors/testdata): one TAP line per
 * vector. Each file is "key: value" lines, a blank line, then the age file
 * (zlib-compressed when "compressed: zlib"; Python's zlib inflates it, so
 * the build needs no zlib). With --corpus DIR, writes the age files into
 * DIR instead, as the fuzz targets' seed corpus. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include "crypt/age.h"
#include "t/tap.h"

#define MAX_KEYS 8

struct vector {
	char name[256];
	char expect[64];
	char payload[65]; /* hex SHA-256, or "" */
	char ids[MAX_KEYS][128];
	char pass[MAX_KEYS][128];
	int nids, npass, armored, compressed;
	const char *body; /* the age file (as stored: maybe compressed) */
	size_t blen;
};

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		p = malloc((size_t)n + 1);
		if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
			free(p);
			p = NULL;
		}
		if (p) {
			p[n] = '\0';
			*len = (size_t)n;
		}
	}
	fclose(f);
	return p;
}

static void copy_value(char *dst, size_t cap, const char *v, size_t n)
{
	if (n >= cap)
		bail("vector value too long");
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static int parse_vector(struct vector *v, const char *data, size_t len)
{
	const char *p = data, *end = data + len, *nl, *colon;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			return -1;
		if (nl == p) { /* blank line: the age file follows */
			v->body = nl + 1;
			v->blen = (size_t)(end - v->body);
			return 0;
		}
		colon = memchr(p, ':', (size_t)(nl - p));
		if (colon == NULL || colon + 1 >= nl || colon[1] != ' ')
			return -1;
		const char *val = colon + 2;
		size_t klen = (size_t)(colon - p), vlen = (size_t)(nl - val);
#define KEY(k) (klen == strlen(k) && memcmp(p, k, klen) == 0)
		if (KEY("expect"))
			copy_value(v->expect, sizeof v->expect, val, vlen);
		else if (KEY("payload"))
			copy_value(v->payload, sizeof v->payload, val, vlen);
		else if (KEY("identity") && v->nids < MAX_KEYS)
			copy_value(v->ids[v->nids++], sizeof v->ids[0], val, vlen);
		else if (KEY("passphrase") && v->npass < MAX_KEYS)
			copy_value(v->pass[v->npass++], sizeof v->pass[0], val, vlen);
		else if (KEY("armored"))
			v->armored = vlen == 3 && memcmp(val, "yes", 3) == 0;
		else if (KEY("compressed"))
			v->compressed = 1;
#undef KEY
		p = nl + 1;
	}
	return -1;
}

/* An fd holding the age file: a memfd, or Python's inflate of the body. */
static int age_fd(const struct vector *v, const char *path)
{
	int fd;

	if (v->compressed) {
		const char *py = getenv("PYTHON3");
		char out[4200], cmd[9000];

		snprintf(out, sizeof out, "%s/inflated", t_tmpdir());
		snprintf(cmd, sizeof cmd,
		         "'%s' -c 'import sys,zlib; d=open(sys.argv[1],\"rb\").read(); "
		         "sys.stdout.buffer.write(zlib.decompress(d[d.index(b\"\\n\\n\")+2:]))' "
		         "'%s' > '%s'",
		         py && *py ? py : "python3", path, out);
		if (system(cmd) != 0)
			bail("could not inflate %s with Python", path);
		fd = open(out, O_RDONLY | O_CLOEXEC);
		unlink(out);
		return fd;
	}
	fd = memfd_create("vector", MFD_CLOEXEC);
	if (fd < 0 || write(fd, v->body, v->blen) != (ssize_t)v->blen ||
	    lseek(fd, 0, SEEK_SET) != 0)
		bail("memfd: %s", strerror(errno));
	return fd;
}

static const char *classify(int rc)
{
	switch (rc) {
	case AGE_OK:
		return "success";
	case AGE_ERR_HEADER:
	case AGE_ERR_WORK_FACTOR:
		return "header failure";
	case AGE_ERR_HMAC:
		return "HMAC failure";
	case AGE_ERR_NO_IDENTITY:
		return "no match";
	case AGE_ERR_PAYLOAD:
		return "payload failure";
	default:
		return age_strerror(rc);
	}
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static void run_vector(const char *path, struct vector *v)
{
	struct age_identity ids[MAX_KEYS];
	struct age_decryptor *d = NULL;
	struct sha256_ctx sha;
	uint8_t digest[SHA256_DIGEST_SIZE];
	char got_hash[65];
	static uint8_t buf[100000];
	ssize_t r;
	int fd, rc = AGE_ERR_NO_IDENTITY, i;
	const char *got;

	if (strncmp(v->name, "hybrid", 6) == 0 || (v->nids > 0 && strstr(v->ids[0], "-PQ-"))) {
		skip("ML-KEM-768 hybrid recipients need ML-KEM, which Nettle 3.8 lacks", "%s",
		     v->name);
		return;
	}
	if (v->armored || strncmp(v->name, "armor", 5) == 0) {
		skip("ASCII armor is not implemented: msgw reads and writes binary age files", "%s",
		     v->name);
		return;
	}
	for (i = 0; i < v->nids; i++)
		if (age_identity_parse(v->ids[i], &ids[i]) != 0) {
			ok(0, "%s: identity %s parses", v->name, v->ids[i]);
			return;
		}
	fd = age_fd(v, path);
	if (fd < 0)
		bail("%s: %s", path, strerror(errno));
	if (v->nids > 0) {
		rc = age_decrypt_begin(&d, fd, ids, (size_t)v->nids);
	} else if (v->npass == 0) {
		/* No key at all: the header must fail before any is needed. */
		if (age_identity_generate(&ids[0]) != 0)
			bail("age_identity_generate failed");
		rc = age_decrypt_begin(&d, fd, ids, 1);
		age_identity_wipe(&ids[0]);
	} else {
		/* Each passphrase in turn, as age tries each identity. */
		for (i = 0; i < v->npass; i++) {
			if (lseek(fd, 0, SEEK_SET) != 0)
				bail("lseek: %s", strerror(errno));
			rc = age_decrypt_begin_scrypt(&d, fd, v->pass[i], strlen(v->pass[i]),
			                              AGE_SCRYPT_MAX_LOG_N);
			if (rc != AGE_ERR_NO_IDENTITY)
				break;
		}
	}
	sha256_init(&sha);
	if (rc == 0) {
		while ((r = age_decrypt_read(d, buf, sizeof buf)) > 0)
			sha256_update(&sha, (size_t)r, buf);
		rc = (int)r;
		age_decrypt_end(d);
	}
	close(fd);
	sha256_digest(&sha, sizeof digest, digest);
	hex(digest, sizeof digest, got_hash);
	for (i = 0; i < v->nids; i++)
		age_identity_wipe(&ids[i]);
	got = classify(rc);
	if (strcmp(got, v->expect) != 0) {
		ok(0, "%s: %s", v->name, v->expect);
		diag("got %s (%s)", got, age_strerror(rc));
		return;
	}
	/* Whatever was released, even before a payload failure, must match. */
	if ((rc == 0 || rc == AGE_ERR_PAYLOAD) && v->payload[0] &&
	    strcmp(got_hash, v->payload) != 0) {
		ok(0, "%s: %s, released plaintext has the payload hash", v->name, v->expect);
		diag("sha256 %s, wanted %s", got_hash, v->payload);
		return;
	}
	ok(1, "%s: %s%s", v->name, v->expect,
	   (rc == 0 || rc == AGE_ERR_PAYLOAD) && v->payload[0] ? ", payload hash matches" : "");
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void write_seed(const char *dir, const char *path, struct vector *v)
{
	char out[4200];
	int in, fd;
	ssize_t r;
	char buf[65536];

	in = age_fd(v, path);
	snprintf(out, sizeof out, "%s/%s", dir, v->name);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (in < 0 || fd < 0)
		bail("%s: %s", out, strerror(errno));
	while ((r = read(in, buf, sizeof buf)) > 0)
		if (write(fd, buf, (size_t)r) != r)
			bail("%s: %s", out, strerror(errno));
	close(in);
	close(fd);
}

int main(int argc, char **argv)
{
	char dir[4096], path[4400];
	char **names = NULL;
	size_t n = 0, i, len;
	struct dirent *de;
	const char *corpus = NULL;
	DIR *dh;

	if (argc == 3 && strcmp(argv[1], "--corpus") == 0)
		corpus = argv[2];
	snprintf(dir, sizeof dir, "%s/crypt/vectors/testdata", t_srcdir());
	dh = opendir(dir);
	if (dh == NULL)
		bail("%s: %s", dir, strerror(errno));
	while ((de = readdir(dh)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		names = realloc(names, (n + 1) * sizeof *names);
		if (names == NULL || (names[n] = strdup(de->d_name)) == NULL)
			bail("out of memory");
		n++;
	}
	closedir(dh);
	if (n == 0)
		bail("no vectors in %s", dir);
	qsort(names, n, sizeof *names, cmp_names);
	if (!corpus)
		plan((int)n);
	for (i = 0; i < n; i++) {
		struct vector v;
		char *data;

		memset(&v, 0, sizeof v);
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		snprintf(v.name, sizeof v.name, "%s", names[i]);
		data = slurp(path, &len);
		if (data == NULL)
			bail("%s: %s", path, strerror(errno));
		if (parse_vector(&v, data, len) < 0 || v.expect[0] == '\0') {
			if (!corpus)
				ok(0, "%s: the vector file parses", v.name);
		} else if (corpus) {
			write_seed(corpus, path, &v);
		} else {
			run_vector(path, &v);
		}
		free(data);
		free(names[i]);
	}
	free(names);
	return corpus ? 0 : done_testing();
}
