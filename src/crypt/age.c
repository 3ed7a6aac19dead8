/* The age v1 file format: recipient stanzas, the streaming encryptor
 * (STREAM, ChaCha20-Poly1305, 64 KiB chunks) and decryptor. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <scrypt-kdf.h>

#include "crypt/age-internal.h"
#include "util/fdio.h"
#include "util/wipe.h"

#define X25519_LABEL "age-encryption.org/v1/X25519"
#define SCRYPT_LABEL "age-encryption.org/v1/scrypt"
#define SCRYPT_SALT_SIZE 16

const char *age_strerror(int err)
{
	switch (err) {
	case AGE_OK:
		return "success";
	case AGE_ERR_IO:
		return "read or write failed";
	case AGE_ERR_HEADER:
		return "malformed or unsupported age header";
	case AGE_ERR_HMAC:
		return "age header MAC does not verify";
	case AGE_ERR_PAYLOAD:
		return "age payload is corrupt, truncated or followed by trailing data";
	case AGE_ERR_NO_IDENTITY:
		return "no identity matches (wrong key or password)";
	case AGE_ERR_NOMEM:
		return "out of memory";
	case AGE_ERR_ARG:
		return "invalid argument or key";
	case AGE_ERR_WORK_FACTOR:
		return "scrypt work factor above the limit";
	default:
		return "unknown age error";
	}
}

int crypt_random(void *buf, size_t n)
{
	if (n == 0)
		return 0;
	if (gnutls_rnd(GNUTLS_RND_KEY, buf, n) < 0) {
		errno = EIO;
		return AGE_ERR_IO;
	}
	return 0;
}

/* Two pieces in as few writev(2) calls as the kernel allows. */
static int writev_all(int fd, const void *a, size_t alen, const void *b, size_t blen)
{
	struct iovec iov[2];
	ssize_t w;

	iov[0].iov_base = (void *)a;
	iov[0].iov_len = alen;
	iov[1].iov_base = (void *)b;
	iov[1].iov_len = blen;
	while (iov[0].iov_len > 0) {
		w = writev(fd, iov, 2);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return AGE_ERR_IO;
		}
		if ((size_t)w < iov[0].iov_len) {
			iov[0].iov_base = (char *)iov[0].iov_base + w;
			iov[0].iov_len -= (size_t)w;
		} else {
			w -= (ssize_t)iov[0].iov_len;
			iov[0].iov_len = 0;
			return fd_write_all(fd, (const char *)b + w, blen - (size_t)w) < 0 ? AGE_ERR_IO : 0;
		}
	}
	return fd_write_all(fd, b, blen) < 0 ? AGE_ERR_IO : 0;
}

/* STREAM nonce: 11-byte big-endian chunk counter, then the last flag. */
static void stream_nonce(uint8_t nonce[AGE_AEAD_NONCE_SIZE], uint64_t counter, int last)
{
	int i;

	memset(nonce, 0, AGE_AEAD_NONCE_SIZE);
	for (i = 10; i >= 3; i--) {
		nonce[i] = (uint8_t)counter;
		counter >>= 8;
	}
	nonce[11] = last ? 1 : 0;
}

static void payload_key(const uint8_t file_key[AGE_FILE_KEY_SIZE],
                        const uint8_t nonce[AGE_NONCE_SIZE], uint8_t key[32])
{
	age_hkdf(nonce, AGE_NONCE_SIZE, file_key, AGE_FILE_KEY_SIZE, "payload", key);
}

/* --- writing the header ------------------------------------------------ */

static const uint8_t zero_nonce[AGE_AEAD_NONCE_SIZE];

static void wrap_key(const uint8_t key[32], const uint8_t file_key[AGE_FILE_KEY_SIZE],
                     uint8_t body[AGE_WRAPPED_KEY_SIZE])
{
	age_aead_seal(key, zero_nonce, file_key, AGE_FILE_KEY_SIZE, body);
}

/* "-> ARGS" and the body in base64, 64 columns, ending with a short line. */
static int put_stanza(struct buf *b, const char *args, const uint8_t *body, size_t n)
{
	char line[AGE_B64_LINE + 1];
	size_t take;

	if (buf_appendf(b, "-> %s\n", args) < 0)
		return AGE_ERR_NOMEM;
	for (;;) {
		take = n < AGE_B64_LINE_BYTES ? n : AGE_B64_LINE_BYTES;
		age_b64_encode(body, take, line);
		if (buf_appendf(b, "%s\n", line) < 0)
			return AGE_ERR_NOMEM;
		body += take;
		n -= take;
		if (take < AGE_B64_LINE_BYTES)
			return 0;
	}
}

static int put_x25519_stanza(struct buf *b, const struct age_recipient *r,
                             const uint8_t file_key[AGE_FILE_KEY_SIZE])
{
	uint8_t eph[AGE_KEY_SIZE], shared[AGE_KEY_SIZE], salt[2 * AGE_KEY_SIZE], key[32];
	uint8_t body[AGE_WRAPPED_KEY_SIZE];
	char args[8 + 44];
	int rc;

	rc = crypt_random(eph, sizeof eph);
	if (rc < 0)
		goto out;
	age_x25519_base(salt, eph);
	memcpy(salt + AGE_KEY_SIZE, r->pub, AGE_KEY_SIZE);
	if (age_x25519(shared, eph, r->pub) < 0) {
		rc = AGE_ERR_ARG; /* a low-order recipient key */
		goto out;
	}
	age_hkdf(salt, sizeof salt, shared, sizeof shared, X25519_LABEL, key);
	wrap_key(key, file_key, body);
	memcpy(args, "X25519 ", 7);
	age_b64_encode(salt, AGE_KEY_SIZE, args + 7);
	rc = put_stanza(b, args, body, sizeof body);
out:
	wipe(eph, sizeof eph);
	wipe(shared, sizeof shared);
	wipe(key, sizeof key);
	return rc;
}

static int put_scrypt_stanza(struct buf *b, const char *password, size_t plen, int log_n,
                             const uint8_t file_key[AGE_FILE_KEY_SIZE])
{
	uint8_t salt[sizeof SCRYPT_LABEL - 1 + SCRYPT_SALT_SIZE], key[32],
	    body[AGE_WRAPPED_KEY_SIZE];
	char args[7 + 24 + 4 + 1];
	int rc;

	memcpy(salt, SCRYPT_LABEL, sizeof SCRYPT_LABEL - 1);
	rc = crypt_random(salt + sizeof SCRYPT_LABEL - 1, SCRYPT_SALT_SIZE);
	if (rc < 0)
		return rc;
	if (scrypt_kdf((const uint8_t *)password, plen, salt, sizeof salt, (uint64_t)1 << log_n, 8,
	               1, key, sizeof key) != 0)
		return errno == ENOMEM ? AGE_ERR_NOMEM : AGE_ERR_ARG;
	wrap_key(key, file_key, body);
	wipe(key, sizeof key);
	memcpy(args, "scrypt ", 7);
	age_b64_encode(salt + sizeof SCRYPT_LABEL - 1, SCRYPT_SALT_SIZE, args + 7);
	snprintf(args + strlen(args), 5, " %d", log_n);
	return put_stanza(b, args, body, sizeof body);
}

/* "---", the MAC over everything before it, then the payload nonce. */
static int put_mac_and_nonce(struct buf *b, const uint8_t file_key[AGE_FILE_KEY_SIZE],
                             uint8_t nonce[AGE_NONCE_SIZE])
{
	struct hmac_sha256_ctx ctx;
	uint8_t key[32], mac[AGE_MAC_SIZE];
	char line[48];
	int rc;

	if (buf_appends(b, "---") < 0)
		return AGE_ERR_NOMEM;
	age_hkdf(NULL, 0, file_key, AGE_FILE_KEY_SIZE, "header", key);
	hmac_sha256_set_key(&ctx, sizeof key, key);
	hmac_sha256_update(&ctx, b->len, (const uint8_t *)b->data);
	hmac_sha256_digest(&ctx, sizeof mac, mac);
	wipe(&ctx, sizeof ctx);
	wipe(key, sizeof key);
	line[0] = ' ';
	age_b64_encode(mac, sizeof mac, line + 1);
	if (buf_appendf(b, "%s\n", line) < 0)
		return AGE_ERR_NOMEM;
	rc = crypt_random(nonce, AGE_NONCE_SIZE);
	if (rc < 0)
		return rc;
	return buf_append(b, nonce, AGE_NONCE_SIZE) < 0 ? AGE_ERR_NOMEM : 0;
}

/* --- the encryptor ----------------------------------------------------- */

struct age_encryptor {
	int fd;
	int err;          /* sticky: once failed, always failed */
	uint64_t counter; /* chunks sealed so far */
	uint64_t total;   /* bytes written */
	uint8_t key[32];  /* payload key */
	struct buf head; /* header and nonce, sent with the first chunk */
	size_t plen;     /* plaintext held in pbuf */
	uint8_t pbuf[AGE_CHUNK_SIZE];
	uint8_t cbuf[AGE_ENC_CHUNK_SIZE];
};

static void encryptor_free(struct age_encryptor *e)
{
	if (e == NULL)
		return;
	buf_free(&e->head);
	wipe(e->key, sizeof e->key);
	wipe(e->pbuf, sizeof e->pbuf);
	free(e);
}

/* Common start: a file key, stanzas (by the callback), MAC and nonce. */
static int encrypt_begin(struct age_encryptor **ep, int out_fd,
                         int (*stanzas)(struct buf *, const uint8_t *, const void *),
                         const void *arg)
{
	struct age_encryptor *e;
	uint8_t file_key[AGE_FILE_KEY_SIZE], nonce[AGE_NONCE_SIZE];
	int rc;

	*ep = NULL;
	e = malloc(sizeof *e);
	if (e == NULL)
		return AGE_ERR_NOMEM;
	e->fd = out_fd;
	e->err = 0;
	e->counter = e->total = 0;
	e->plen = 0;
	buf_init(&e->head, AGE_HEADER_MAX);
	rc = crypt_random(file_key, sizeof file_key);
	if (rc == 0 && buf_appends(&e->head, AGE_INTRO "\n") < 0)
		rc = AGE_ERR_NOMEM;
	if (rc == 0)
		rc = stanzas(&e->head, file_key, arg);
	if (rc == 0)
		rc = put_mac_and_nonce(&e->head, file_key, nonce);
	if (rc == 0)
		payload_key(file_key, nonce, e->key);
	wipe(file_key, sizeof file_key);
	if (rc < 0) {
		encryptor_free(e);
		return rc;
	}
	*ep = e;
	return 0;
}

struct x25519_args {
	const struct age_recipient *r;
	size_t nr;
};

static int x25519_stanzas(struct buf *b, const uint8_t *file_key, const void *arg)
{
	const struct x25519_args *a = arg;
	size_t i;
	int rc;

	for (i = 0; i < a->nr; i++) {
		rc = put_x25519_stanza(b, &a->r[i], file_key);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int age_encrypt_begin(struct age_encryptor **e, const struct age_recipient *r, size_t nr,
                      int out_fd)
{
	struct x25519_args a = {r, nr};

	if (e == NULL)
		return AGE_ERR_ARG;
	*e = NULL;
	if (r == NULL || nr == 0 || out_fd < 0)
		return AGE_ERR_ARG;
	return encrypt_begin(e, out_fd, x25519_stanzas, &a);
}

struct scrypt_args {
	const char *password;
	size_t plen;
	int log_n;
};

static int scrypt_stanza(struct buf *b, const uint8_t *file_key, const void *arg)
{
	const struct scrypt_args *a = arg;

	return put_scrypt_stanza(b, a->password, a->plen, a->log_n, file_key);
}

int age_encrypt_begin_scrypt(struct age_encryptor **e, const char *password, size_t plen, int log_n,
                             int out_fd)
{
	struct scrypt_args a = {password, plen, log_n};

	if (e == NULL)
		return AGE_ERR_ARG;
	*e = NULL;
	if (password == NULL || out_fd < 0 || log_n < 1)
		return AGE_ERR_ARG;
	if (log_n > AGE_SCRYPT_MAX_LOG_N)
		return AGE_ERR_WORK_FACTOR;
	return encrypt_begin(e, out_fd, scrypt_stanza, &a);
}

/* Seal len bytes of plaintext as the next chunk and write it (with the
 * header, the first time): one system call per chunk. */
static int seal_chunk(struct age_encryptor *e, const uint8_t *p, size_t len, int last)
{
	uint8_t nonce[AGE_AEAD_NONCE_SIZE];
	int rc;

	stream_nonce(nonce, e->counter, last);
	age_aead_seal(e->key, nonce, p, len, e->cbuf);
	if (e->head.len > 0) {
		rc = writev_all(e->fd, e->head.data, e->head.len, e->cbuf, len + AGE_TAG_SIZE);
		e->total += e->head.len;
		buf_free(&e->head);
	} else {
		rc = fd_write_all(e->fd, e->cbuf, len + AGE_TAG_SIZE) < 0 ? AGE_ERR_IO : 0;
	}
	if (rc < 0)
		return e->err = rc;
	e->total += len + AGE_TAG_SIZE;
	e->counter++;
	return 0;
}

int age_encrypt_update(struct age_encryptor *e, const void *p, size_t n)
{
	const uint8_t *c = p;
	size_t take;
	int rc;

	if (e == NULL || (p == NULL && n > 0))
		return AGE_ERR_ARG;
	if (e->err)
		return e->err;
	while (n > 0) {
		/* A held full chunk is not the last one: more data came. */
		if (e->plen == AGE_CHUNK_SIZE) {
			rc = seal_chunk(e, e->pbuf, AGE_CHUNK_SIZE, 0);
			if (rc < 0)
				return rc;
			e->plen = 0;
		}
		/* Whole chunks with more behind them go straight from the
		 * caller's memory, without a copy. */
		if (e->plen == 0 && n > AGE_CHUNK_SIZE) {
			rc = seal_chunk(e, c, AGE_CHUNK_SIZE, 0);
			if (rc < 0)
				return rc;
			c += AGE_CHUNK_SIZE;
			n -= AGE_CHUNK_SIZE;
			continue;
		}
		take = AGE_CHUNK_SIZE - e->plen;
		if (take > n)
			take = n;
		memcpy(e->pbuf + e->plen, c, take);
		e->plen += take;
		c += take;
		n -= take;
	}
	return 0;
}

int age_encrypt_finish(struct age_encryptor *e, uint64_t *total)
{
	int rc;

	if (e == NULL)
		return AGE_ERR_ARG;
	rc = e->err;
	/* The held chunk is the last; it is empty only when all of the
	 * payload is (update never leaves an empty hold after a chunk). */
	if (rc == 0)
		rc = seal_chunk(e, e->pbuf, e->plen, 1);
	if (rc == 0 && total != NULL)
		*total = e->total;
	encryptor_free(e);
	return rc;
}

void age_encrypt_abort(struct age_encryptor *e)
{
	encryptor_free(e);
}

/* --- the decryptor ----------------------------------------------------- */

struct age_decryptor {
	int fd;
	int err;  /* sticky error, reported once pbuf is drained */
	int done; /* the final chunk verified */
	uint64_t counter;
	uint8_t key[32];   /* payload key */
	size_t clen;       /* ciphertext already read into cbuf */
	size_t ppos, plen; /* verified plaintext not yet returned */
	uint8_t cbuf[AGE_ENC_CHUNK_SIZE];
	uint8_t pbuf[AGE_CHUNK_SIZE];
};

void age_decrypt_end(struct age_decryptor *d)
{
	if (d == NULL)
		return;
	wipe(d->key, sizeof d->key);
	wipe(d->pbuf, sizeof d->pbuf);
	free(d);
}

typedef int (*unwrap_fn)(const struct age_header *h, const void *arg, uint8_t *file_key);

static int decrypt_begin(struct age_decryptor **dp, int fd, unwrap_fn unwrap, const void *arg)
{
	struct age_decryptor *d;
	struct age_header h;
	uint8_t file_key[AGE_FILE_KEY_SIZE];
	size_t used = 0, have = 0;
	ssize_t r;
	int rc;

	*dp = NULL;
	if (fd < 0)
		return AGE_ERR_ARG;
	d = malloc(sizeof *d);
	if (d == NULL)
		return AGE_ERR_NOMEM;
	d->fd = fd;
	d->err = d->done = 0;
	d->counter = 0;
	d->clen = d->ppos = d->plen = 0;
	age_header_init(&h);
	/* The header, read in blocks: what follows it stays in cbuf. */
	do {
		r = read(fd, d->cbuf, sizeof d->cbuf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? AGE_ERR_IO : AGE_ERR_HEADER;
			goto fail;
		}
		rc = age_header_feed(&h, d->cbuf, (size_t)r, &used);
		if (rc < 0)
			goto fail;
	} while (rc == 0);
	have = (size_t)r - used;
	rc = unwrap(&h, arg, file_key);
	if (rc == 0)
		rc = age_header_verify_mac(&h, file_key);
	if (rc < 0)
		goto fail;
	/* The payload nonce; missing or short, the header is incomplete. */
	memmove(d->cbuf, d->cbuf + used, have);
	while (have < AGE_NONCE_SIZE) {
		r = fd_read_full(fd, d->cbuf + have, sizeof d->cbuf - have);
		if (r <= 0) {
			rc = r < 0 ? AGE_ERR_IO : AGE_ERR_HEADER;
			goto fail;
		}
		have += (size_t)r;
	}
	payload_key(file_key, d->cbuf, d->key);
	d->clen = have - AGE_NONCE_SIZE;
	memmove(d->cbuf, d->cbuf + AGE_NONCE_SIZE, d->clen);
	wipe(file_key, sizeof file_key);
	age_header_free(&h);
	*dp = d;
	return 0;
fail:
	wipe(file_key, sizeof file_key);
	age_header_free(&h);
	age_decrypt_end(d);
	return rc;
}

struct x25519_ids {
	const struct age_identity *ids;
	size_t n;
};

static int unwrap_x25519(const struct age_header *h, const void *arg, uint8_t *file_key)
{
	const struct x25519_ids *a = arg;

	return age_header_unwrap_x25519(h, a->ids, a->n, file_key);
}

int age_decrypt_begin(struct age_decryptor **d, int in_fd, const struct age_identity *ids,
                      size_t nids)
{
	struct x25519_ids a = {ids, nids};

	if (d == NULL)
		return AGE_ERR_ARG;
	*d = NULL;
	if (ids == NULL || nids == 0)
		return AGE_ERR_ARG;
	return decrypt_begin(d, in_fd, unwrap_x25519, &a);
}

static int unwrap_scrypt(const struct age_header *h, const void *arg, uint8_t *file_key)
{
	const struct scrypt_args *a = arg;

	return age_header_unwrap_scrypt(h, a->password, a->plen, a->log_n, file_key);
}

int age_decrypt_begin_scrypt(struct age_decryptor **d, int in_fd, const char *password, size_t plen,
                             int max_log_n)
{
	struct scrypt_args a = {password, plen, max_log_n};

	if (d == NULL)
		return AGE_ERR_ARG;
	*d = NULL;
	if (password == NULL)
		return AGE_ERR_ARG;
	return decrypt_begin(d, in_fd, unwrap_scrypt, &a);
}

static int open_chunk(struct age_decryptor *d, size_t n, int last)
{
	uint8_t nonce[AGE_AEAD_NONCE_SIZE];

	stream_nonce(nonce, d->counter, last);
	return age_aead_open(d->key, nonce, d->cbuf, n, d->pbuf) == 0;
}

/* Read, verify and decrypt the next chunk into pbuf. */
static int next_chunk(struct age_decryptor *d)
{
	ssize_t r;
	size_t n;
	uint8_t extra;
	int last;

	r = fd_read_full(d->fd, d->cbuf + d->clen, sizeof d->cbuf - d->clen);
	if (r < 0)
		return AGE_ERR_IO;
	n = d->clen + (size_t)r;
	d->clen = 0;
	/* No chunk at all, or the stream ended without a final chunk. */
	if (n < AGE_TAG_SIZE)
		return AGE_ERR_PAYLOAD;
	if (n < sizeof d->cbuf) {
		/* Short: must be the final chunk, and empty only if it is
		 * the only one. */
		if (n == AGE_TAG_SIZE && d->counter > 0)
			return AGE_ERR_PAYLOAD;
		if (!open_chunk(d, n, 1))
			return AGE_ERR_PAYLOAD;
		last = 1;
	} else {
		/* Full: a middle chunk, or else a full final one. */
		last = 0;
		if (!open_chunk(d, n, 0)) {
			if (!open_chunk(d, n, 1))
				return AGE_ERR_PAYLOAD;
			last = 1;
			/* Nothing may follow the final chunk. Its plaintext is
			 * released; the error comes after it. */
			r = fd_read_full(d->fd, &extra, 1);
			if (r != 0)
				d->err = r < 0 ? AGE_ERR_IO : AGE_ERR_PAYLOAD;
		}
	}
	d->counter++;
	d->ppos = 0;
	d->plen = n - AGE_TAG_SIZE;
	d->done = last;
	return 0;
}

ssize_t age_decrypt_read(struct age_decryptor *d, void *buf, size_t n)
{
	uint8_t *out = buf;
	size_t got = 0, take;
	int rc;

	if (d == NULL || (buf == NULL && n > 0))
		return AGE_ERR_ARG;
	if (n > SSIZE_MAX)
		n = SSIZE_MAX;
	while (got < n) {
		if (d->ppos < d->plen) {
			take = d->plen - d->ppos;
			if (take > n - got)
				take = n - got;
			memcpy(out + got, d->pbuf + d->ppos, take);
			d->ppos += take;
			got += take;
			continue;
		}
		if (d->err || d->done)
			break;
		rc = next_chunk(d);
		if (rc < 0) {
			d->err = rc;
			break;
		}
	}
	if (got > 0)
		return (ssize_t)got;
	return d->err;
}
