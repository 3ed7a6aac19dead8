/* Unit tests of src/crypt: strict base64, Bech32 keys, identity files,
 * the streaming encryptor and decryptor (sizes, pieces, tampering, pipes),
 * scrypt, sealing, and the error paths. The CCTV vectors are in
 * age-vectors-test; interop with the stock age tool in interop.t. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypt/age-internal.h"
#include "crypt/age.h"
#include "t/tap.h"

/* The CCTV vectors' identity and its recipient (age-keygen -y). */
#define VEC_IDENTITY "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0"
#define VEC_RECIPIENT "age1xmwwc06ly3ee5rytxm9mflaz2u56jjj36s0mypdrwsvlul66mv4q47ryef"
#define LOW_LOG_N 4

static uint8_t *pattern(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	size_t i;
	uint32_t x = 2463534242u;

	if (p == NULL)
		bail("out of memory");
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
	return p;
}

static int memfd(void)
{
	int fd = memfd_create("age", MFD_CLOEXEC);

	if (fd < 0)
		bail("memfd_create: %s", strerror(errno));
	return fd;
}

static size_t fd_size(int fd)
{
	off_t n = lseek(fd, 0, SEEK_END);

	lseek(fd, 0, SEEK_SET);
	return (size_t)n;
}

static uint8_t *fd_bytes(int fd, size_t *n)
{
	uint8_t *p;

	*n = fd_size(fd);
	p = malloc(*n + 1);
	if (p == NULL || pread(fd, p, *n, 0) != (ssize_t)*n)
		bail("pread: %s", strerror(errno));
	return p;
}

static int bytes_fd(const uint8_t *p, size_t n)
{
	int fd = memfd();

	if (n && write(fd, p, n) != (ssize_t)n)
		bail("write: %s", strerror(errno));
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* Encrypt n bytes in pieces of `piece` bytes to a fresh memfd. */
static int encrypt_to_fd(const struct age_recipient *r, size_t nr, const uint8_t *p, size_t n,
                         size_t piece, uint64_t *total)
{
	struct age_encryptor *e;
	int fd = memfd(), rc;
	size_t off, take;

	rc = age_encrypt_begin(&e, r, nr, fd);
	if (rc < 0)
		bail("age_encrypt_begin: %s", age_strerror(rc));
	for (off = 0; off < n; off += take) {
		take = n - off < piece ? n - off : piece;
		rc = age_encrypt_update(e, p + off, take);
		if (rc < 0)
			bail("age_encrypt_update: %s", age_strerror(rc));
	}
	rc = age_encrypt_finish(e, total);
	if (rc < 0)
		bail("age_encrypt_finish: %s", age_strerror(rc));
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* Decrypt all of fd with reads of `piece` bytes; returns the final status
 * and the released plaintext. */
static int decrypt_all(int fd, const struct age_identity *ids, size_t nids, size_t piece,
                       uint8_t **out, size_t *outlen)
{
	struct age_decryptor *d;
	struct buf b;
	uint8_t *tmp = malloc(piece);
	ssize_t r;
	int rc;

	buf_init(&b, 0);
	*out = NULL;
	*outlen = 0;
	rc = age_decrypt_begin(&d, fd, ids, nids);
	if (rc == 0) {
		while ((r = age_decrypt_read(d, tmp, piece)) > 0)
			if (buf_append(&b, tmp, (size_t)r) < 0)
				bail("out of memory");
		rc = (int)r;
		/* The end, or the error, stays put. */
		if (age_decrypt_read(d, tmp, piece) != r)
			rc = -100;
		age_decrypt_end(d);
	}
	free(tmp);
	*out = (uint8_t *)b.data;
	*outlen = b.len;
	return rc;
}

static size_t header_len(const uint8_t *p, size_t n)
{
	const uint8_t *m = memmem(p, n, "\n--- ", 5);
	const uint8_t *nl = m ? memchr(m + 1, '\n', n - (size_t)(m + 1 - p)) : NULL;

	return nl ? (size_t)(nl + 1 - p) : 0;
}

static void test_base64(void)
{
	uint8_t out[64];
	size_t n;
	char enc[80];

	ok(age_b64_decode("", 0, out, sizeof out, &n) == 0 && n == 0,
	   "b64: empty decodes to nothing");
	ok(age_b64_decode("AA", 2, out, sizeof out, &n) == 0 && n == 1 && out[0] == 0, "b64: AA");
	ok(age_b64_decode("AB", 2, out, sizeof out, &n) < 0, "b64: stray trailing bits refused");
	ok(age_b64_decode("AA==", 4, out, sizeof out, &n) < 0, "b64: padding refused");
	ok(age_b64_decode("A", 1, out, sizeof out, &n) < 0, "b64: length %% 4 == 1 refused");
	ok(age_b64_decode("AAAAA", 5, out, sizeof out, &n) < 0, "b64: length 5 refused");
	ok(age_b64_decode("AA A", 4, out, sizeof out, &n) < 0, "b64: space refused");
	ok(age_b64_decode("AA\nA", 4, out, sizeof out, &n) < 0, "b64: newline refused");
	ok(age_b64_decode("AA-_", 4, out, sizeof out, &n) < 0, "b64: URL alphabet refused");
	ok(age_b64_decode("AAAA", 4, out, 2, &n) < 0, "b64: output larger than the room refused");
	n = age_b64_encode((const uint8_t *)"hello", 5, enc);
	is_str(enc, "aGVsbG8", "b64: encodes without padding");
	ok(n == 7 && age_b64_decode(enc, n, out, sizeof out, &n) == 0 && n == 5 &&
	       memcmp(out, "hello", 5) == 0,
	   "b64: round trip");
}

static void test_keys(void)
{
	struct age_identity id, id2;
	struct age_recipient r, r2;
	char s[AGE_IDENTITY_STRLEN], rs[AGE_RECIPIENT_STRLEN], bad[AGE_IDENTITY_STRLEN];
	size_t i;

	ok(age_identity_parse(VEC_IDENTITY, &id) == 0, "identity parses");
	age_identity_recipient(&id, &r);
	age_recipient_format(&r, rs);
	is_str(rs, VEC_RECIPIENT, "its recipient is what age-keygen -y says");
	age_identity_format(&id, s);
	is_str(s, VEC_IDENTITY, "identity formats back to the same string");
	ok(age_recipient_parse(VEC_RECIPIENT, &r2) == 0 && memcmp(r.pub, r2.pub, 32) == 0,
	   "recipient parses back");
	is_int(strlen(rs) + 1, AGE_RECIPIENT_STRLEN, "AGE_RECIPIENT_STRLEN fits exactly");
	is_int(strlen(s) + 1, AGE_IDENTITY_STRLEN, "AGE_IDENTITY_STRLEN fits exactly");

	for (i = 0; i < sizeof bad - 1; i++)
		bad[i] =
		    (char)(VEC_IDENTITY[i] >= 'A' && VEC_IDENTITY[i] <= 'Z' ? VEC_IDENTITY[i] + 32
		                                                            : VEC_IDENTITY[i]);
	bad[sizeof bad - 1] = '\0';
	ok(age_identity_parse(bad, &id2) == AGE_ERR_ARG, "lower-case identity refused");
	memcpy(bad, VEC_IDENTITY, sizeof bad);
	bad[40] = bad[40] == 'Q' ? 'P' : 'Q';
	ok(age_identity_parse(bad, &id2) == AGE_ERR_ARG, "identity with a bad checksum refused");
	memcpy(bad, VEC_IDENTITY, sizeof bad);
	bad[30] = (char)(bad[30] + 32);
	ok(age_identity_parse(bad, &id2) == AGE_ERR_ARG, "mixed-case identity refused");
	ok(age_identity_parse(VEC_RECIPIENT, &id2) == AGE_ERR_ARG, "recipient is no identity");
	ok(age_recipient_parse(VEC_IDENTITY, &r2) == AGE_ERR_ARG, "identity is no recipient");
	memcpy(bad, VEC_RECIPIENT, sizeof VEC_RECIPIENT);
	for (i = 0; bad[i]; i++)
		if (bad[i] >= 'a' && bad[i] <= 'z')
			bad[i] = (char)(bad[i] - 32);
	ok(age_recipient_parse(bad, &r2) == AGE_ERR_ARG, "upper-case recipient refused");
	ok(age_recipient_parse("age1", &r2) == AGE_ERR_ARG, "truncated recipient refused");
	ok(age_recipient_parse(VEC_RECIPIENT "q", &r2) == AGE_ERR_ARG, "long recipient refused");
	ok(age_recipient_parse(NULL, &r2) == AGE_ERR_ARG, "NULL recipient refused");

	ok(age_identity_generate(&id2) == 0, "identity generates");
	age_identity_format(&id2, s);
	ok(age_identity_parse(s, &id) == 0 && memcmp(&id, &id2, sizeof id) == 0,
	   "generated identity round-trips");
	age_identity_wipe(&id);
	age_identity_wipe(&id2);
	for (i = 0; i < sizeof id.secret && id.secret[i] == 0; i++)
		;
	ok(i == sizeof id.secret, "age_identity_wipe zeroes the secret");
}

static void test_identity_file(void)
{
	struct age_identity id, id2;
	struct buf b;
	const char *want = "# created: 2009-02-13T23:31:30Z\n"
	                   "# public key: " VEC_RECIPIENT "\n" VEC_IDENTITY "\n";
	const char *crlf = "# a comment\r\n\r\n" VEC_IDENTITY "\r\n\n# trailer\n";
	const char *two = VEC_IDENTITY "\n" VEC_IDENTITY "\n";
	const char *none = "# nothing here\n\n";
	const char *bare = VEC_IDENTITY;
	const char *junk = "# x\nnot-a-key\n";

	age_identity_parse(VEC_IDENTITY, &id);
	buf_init(&b, 0);
	ok(age_identity_file_write(&id, 1234567890, &b) == 0, "identity file written");
	is_str(b.data, want, "identity file as age-keygen writes it");
	ok(age_identity_file_parse(b.data, b.len, &id2) == 0 && memcmp(&id, &id2, sizeof id) == 0,
	   "identity file parses back");
	buf_wipe_free(&b);
	ok(age_identity_file_parse(crlf, strlen(crlf), &id2) == 0 &&
	       memcmp(&id, &id2, sizeof id) == 0,
	   "comments, blank lines and CRLF are skipped");
	ok(age_identity_file_parse(bare, strlen(bare), &id2) == 0,
	   "a key without a newline parses");
	ok(age_identity_file_parse(two, strlen(two), &id2) == AGE_ERR_ARG, "two keys refused");
	ok(age_identity_file_parse(none, strlen(none), &id2) == AGE_ERR_ARG, "no key refused");
	ok(age_identity_file_parse(junk, strlen(junk), &id2) == AGE_ERR_ARG, "junk refused");
	age_identity_wipe(&id);
}

static void test_round_trips(void)
{
	static const size_t sizes[] = {0, 1, 65535, 65536, 65537, 131072, 131073, 3 * 65536 + 5};
	static const size_t pieces[] = {1, 4093, 65536, 65537, 200000, 1 << 20};
	struct age_identity id;
	struct age_recipient r;
	uint8_t *p = pattern(3 * 65536 + 5), *out, *c;
	uint64_t total;
	size_t i, j, outlen, clen, hl, chunks;
	int fd, rc;

	age_identity_parse(VEC_IDENTITY, &id);
	age_identity_recipient(&id, &r);
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t n = sizes[i];
		for (j = 0; j < sizeof pieces / sizeof pieces[0]; j++) {
			if (n <= 1 && j > 0)
				break;
			if (n < 65537 && pieces[j] == 1 && n > 1)
				continue; /* byte-wise only for the larger sizes, once */
			fd = encrypt_to_fd(&r, 1, p, n, pieces[j], &total);
			c = fd_bytes(fd, &clen);
			hl = header_len(c, clen);
			chunks = n == 0 ? 1 : (n + AGE_CHUNK_SIZE - 1) / AGE_CHUNK_SIZE;
			rc = decrypt_all(fd, &id, 1, pieces[(j + 2) % 6], &out, &outlen);
			ok(rc == 0 && outlen == n && (n == 0 || memcmp(out, p, n) == 0) &&
			       total == clen &&
			       clen == hl + AGE_NONCE_SIZE + n + chunks * AGE_TAG_SIZE,
			   "%zu bytes in pieces of %zu: %zu chunk(s), decrypts", n, pieces[j],
			   chunks);
			free(out);
			free(c);
			close(fd);
		}
	}
	age_identity_wipe(&id);
	free(p);
}

static void test_header_shape(void)
{
	struct age_identity ids[3];
	struct age_recipient r[3];
	uint8_t *c, *out;
	size_t clen, outlen, i;
	int fd, rc;

	for (i = 0; i < 3; i++) {
		age_identity_generate(&ids[i]);
		age_identity_recipient(&ids[i], &r[i]);
	}
	fd = encrypt_to_fd(r, 3, (const uint8_t *)"hi", 2, 2, NULL);
	c = fd_bytes(fd, &clen);
	ok(clen > 22 && memcmp(c, "age-encryption.org/v1\n-> X25519 ", 32) == 0,
	   "header starts with the version line and an X25519 stanza");
	ok(memmem(c, clen, "\n-> X25519 ", 11) != NULL && header_len(c, clen) > 0,
	   "header ends with the MAC line");
	rc = decrypt_all(fd, &ids[2], 1, 100, &out, &outlen);
	ok(rc == 0 && outlen == 2 && memcmp(out, "hi", 2) == 0,
	   "third of three recipients decrypts");
	free(out);
	lseek(fd, 0, SEEK_SET);
	rc = decrypt_all(fd, &ids[1], 2, 100, &out, &outlen);
	ok(rc == 0, "two identities, the first matching, decrypt");
	free(out);
	close(fd);
	free(c);
	/* A body of exactly 48 bytes ends with an empty line: the parser must
	 * take what the writer writes (checked with a grease-like stanza). */
	{
		struct age_header h;
		const char *t =
		    "age-encryption.org/v1\n-> grease x\n"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n\n"
		    "--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\nrest";
		size_t used;

		age_header_init(&h);
		rc = age_header_feed(&h, (const uint8_t *)t, strlen(t), &used);
		ok(rc == 1 && used == strlen(t) - 4 && h.nst == 1 && h.st[0].body_len == 48,
		   "header parser: 48-byte body with its empty final line");
		age_header_free(&h);
	}
	for (i = 0; i < 3; i++)
		age_identity_wipe(&ids[i]);
}

static void flip(int fd, size_t off)
{
	uint8_t b;

	if (pread(fd, &b, 1, (off_t)off) != 1)
		bail("pread");
	b ^= 0x01;
	if (pwrite(fd, &b, 1, (off_t)off) != 1)
		bail("pwrite");
	lseek(fd, 0, SEEK_SET);
}

static void test_tampering(void)
{
	struct age_identity id, other;
	struct age_recipient r;
	size_t n = 2 * AGE_CHUNK_SIZE + 100, clen, hl, outlen;
	uint8_t *p = pattern(n), *c, *out;
	int fd, rc;

	age_identity_generate(&id);
	age_identity_generate(&other);
	age_identity_recipient(&id, &r);
	fd = encrypt_to_fd(&r, 1, p, n, n, NULL);
	c = fd_bytes(fd, &clen);
	hl = header_len(c, clen);
	close(fd);

	fd = bytes_fd(c, clen);
	rc = decrypt_all(fd, &other, 1, 65536, &out, &outlen);
	is_int(rc, AGE_ERR_NO_IDENTITY, "wrong identity: no matching identity");
	free(out);
	close(fd);

	/* The last base64 character of the MAC, flipped between two
	 * canonical characters: the MAC no longer verifies. */
	fd = bytes_fd(c, clen);
	{
		char ch = (char)c[hl - 3];
		ch = ch == 'A' ? 'B' : 'A';
		if (pwrite(fd, &ch, 1, (off_t)(hl - 3)) != 1)
			bail("pwrite");
		lseek(fd, 0, SEEK_SET);
	}
	rc = decrypt_all(fd, &id, 1, 65536, &out, &outlen);
	is_int(rc, AGE_ERR_HMAC, "changed MAC: HMAC failure");
	free(out);
	close(fd);

	fd = bytes_fd(c, clen);
	flip(fd, 3);
	rc = decrypt_all(fd, &id, 1, 65536, &out, &outlen);
	is_int(rc, AGE_ERR_HEADER, "changed version line: header failure");
	free(out);
	close(fd);

	fd = bytes_fd(c, clen);
	flip(fd, hl + 2); /* the payload nonce */
	rc = decrypt_all(fd, &id, 1, 65536, &out, &outlen);
	ok(rc == AGE_ERR_PAYLOAD && outlen == 0,
	   "changed payload nonce: payload failure, nothing released");
	free(out);
	close(fd);

	fd = bytes_fd(c, clen);
	flip(fd, hl + AGE_NONCE_SIZE + AGE_ENC_CHUNK_SIZE + 7); /* second chunk */
	rc = decrypt_all(fd, &id, 1, 1000, &out, &outlen);
	ok(rc == AGE_ERR_PAYLOAD && outlen == AGE_CHUNK_SIZE && memcmp(out, p, outlen) == 0,
	   "changed second chunk: payload failure after exactly the first chunk");
	free(out);
	close(fd);

	fd = bytes_fd(c, hl + AGE_NONCE_SIZE + 2 * AGE_ENC_CHUNK_SIZE);
	rc = decrypt_all(fd, &id, 1, 65536, &out, &outlen);
	ok(rc == AGE_ERR_PAYLOAD && outlen == 2 * AGE_CHUNK_SIZE,
	   "truncated at a chunk boundary: payload failure after two chunks");
	free(out);
	close(fd);

	fd = bytes_fd(c, clen - 1);
	rc = decrypt_all(fd, &id, 1, 65536, &out, &outlen);
	ok(rc == AGE_ERR_PAYLOAD && outlen == 2 * AGE_CHUNK_SIZE, "last byte cut: payload failure");
	free(out);
	close(fd);

	fd = bytes_fd(c, clen);
	if (pwrite(fd, "x", 1, (off_t)clen) != 1)
		bail("pwrite");
	rc = decrypt_all(fd, &id, 1, 65536, &out, &outlen);
	is_int(rc, AGE_ERR_PAYLOAD, "a byte appended: payload failure");
	free(out);
	close(fd);

	fd = bytes_fd(c, hl + 5);
	rc = decrypt_all(fd, &id, 1, 65536, &out, &outlen);
	is_int(rc, AGE_ERR_HEADER, "short payload nonce: header failure");
	free(out);
	close(fd);

	fd = bytes_fd(c, hl - 10);
	rc = decrypt_all(fd, &id, 1, 65536, &out, &outlen);
	is_int(rc, AGE_ERR_HEADER, "header cut short: header failure");
	free(out);
	close(fd);

	fd = bytes_fd((const uint8_t *)"", 0);
	rc = decrypt_all(fd, &id, 1, 65536, &out, &outlen);
	is_int(rc, AGE_ERR_HEADER, "empty file: header failure");
	free(out);
	close(fd);

	free(c);
	free(p);
	age_identity_wipe(&id);
	age_identity_wipe(&other);
}

/* A payload of exactly one chunk is one full-size final chunk: the
 * decryptor tries it as a middle chunk first, then as the final one. */
static void test_full_final_chunk(void)
{
	struct age_identity id;
	struct age_recipient r;
	uint8_t *p = pattern(AGE_CHUNK_SIZE), *out;
	size_t outlen;
	int fd, rc;

	age_identity_generate(&id);
	age_identity_recipient(&id, &r);
	fd = encrypt_to_fd(&r, 1, p, AGE_CHUNK_SIZE, AGE_CHUNK_SIZE, NULL);
	rc = decrypt_all(fd, &id, 1, 7, &out, &outlen);
	ok(rc == 0 && outlen == AGE_CHUNK_SIZE && memcmp(out, p, outlen) == 0,
	   "one full final chunk decrypts, in reads of 7 bytes");
	free(out);
	close(fd);
	free(p);
	age_identity_wipe(&id);
}

/* Decrypt through a pipe fed in odd pieces by a child: short reads. */
static void test_pipe(void)
{
	struct age_identity id;
	struct age_recipient r;
	size_t n = 200000, clen, outlen, off;
	uint8_t *p = pattern(n), *c, *out;
	int fd, pfd[2], rc, status;
	pid_t pid;

	age_identity_generate(&id);
	age_identity_recipient(&id, &r);
	fd = encrypt_to_fd(&r, 1, p, n, 65536, NULL);
	c = fd_bytes(fd, &clen);
	close(fd);
	if (pipe(pfd) < 0)
		bail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		bail("fork: %s", strerror(errno));
	if (pid == 0) {
		close(pfd[0]);
		for (off = 0; off < clen; off += 997) {
			size_t take = clen - off < 997 ? clen - off : 997;
			if (write(pfd[1], c + off, take) != (ssize_t)take)
				_exit(1);
		}
		free(c);
		free(p);
		_exit(0);
	}
	close(pfd[1]);
	rc = decrypt_all(pfd[0], &id, 1, 5000, &out, &outlen);
	close(pfd[0]);
	waitpid(pid, &status, 0);
	ok(rc == 0 && outlen == n && memcmp(out, p, n) == 0,
	   "decrypts from a pipe fed in 997-byte writes");
	free(out);
	free(c);
	free(p);
	age_identity_wipe(&id);
}

static void test_scrypt(void)
{
	struct age_encryptor *e;
	struct age_decryptor *d;
	struct age_identity id;
	uint8_t buf[64];
	int fd, rc;
	ssize_t r;

	fd = memfd();
	rc = age_encrypt_begin_scrypt(&e, "secret", 6, LOW_LOG_N, fd);
	ok(rc == 0, "scrypt encryptor begins");
	age_encrypt_update(e, "payload", 7);
	ok(age_encrypt_finish(e, NULL) == 0, "scrypt encryptor finishes");
	lseek(fd, 0, SEEK_SET);
	rc = age_decrypt_begin_scrypt(&d, fd, "secret", 6, LOW_LOG_N);
	r = rc == 0 ? age_decrypt_read(d, buf, sizeof buf) : rc;
	ok(r == 7 && memcmp(buf, "payload", 7) == 0 && age_decrypt_read(d, buf, sizeof buf) == 0,
	   "scrypt file decrypts with its password");
	age_decrypt_end(d);
	lseek(fd, 0, SEEK_SET);
	is_int(age_decrypt_begin_scrypt(&d, fd, "secreT", 6, LOW_LOG_N), AGE_ERR_NO_IDENTITY,
	       "wrong password: no matching identity");
	lseek(fd, 0, SEEK_SET);
	is_int(age_decrypt_begin_scrypt(&d, fd, "secret", 6, LOW_LOG_N - 1), AGE_ERR_WORK_FACTOR,
	       "work factor above the caller's limit refused");
	lseek(fd, 0, SEEK_SET);
	age_identity_generate(&id);
	is_int(age_decrypt_begin(&d, fd, &id, 1), AGE_ERR_NO_IDENTITY,
	       "an X25519 identity does not open an scrypt file");
	age_identity_wipe(&id);
	close(fd);
	is_int(age_encrypt_begin_scrypt(&e, "x", 1, AGE_SCRYPT_MAX_LOG_N + 1, 1),
	       AGE_ERR_WORK_FACTOR, "encrypting with log N above 22 refused");
	is_int(age_encrypt_begin_scrypt(&e, "x", 1, 0, 1), AGE_ERR_ARG, "log N 0 refused");
}

static void test_seal(void)
{
	struct age_identity id, id2;
	struct age_decryptor *d;
	char text[512];
	size_t len = 0;
	ssize_t r;
	int fd, rc;

	age_identity_generate(&id);
	fd = memfd();
	rc = age_identity_seal(&id, 0, "pw", 2, LOW_LOG_N, fd);
	ok(rc == 0, "identity sealed");
	lseek(fd, 0, SEEK_SET);
	rc = age_decrypt_begin_scrypt(&d, fd, "pw", 2, LOW_LOG_N);
	if (rc == 0) {
		while ((r = age_decrypt_read(d, text + len, sizeof text - 1 - len)) > 0)
			len += (size_t)r;
		age_decrypt_end(d);
	}
	text[len] = '\0';
	ok(strncmp(text, "# created: 1970-01-01T00:00:00Z\n# public key: age1", 50) == 0,
	   "sealed text is an age-keygen identity file");
	lseek(fd, 0, SEEK_SET);
	rc = age_identity_unseal(fd, "pw", 2, LOW_LOG_N, &id2);
	ok(rc == 0 && memcmp(&id, &id2, sizeof id) == 0, "identity unseals");
	lseek(fd, 0, SEEK_SET);
	is_int(age_identity_unseal(fd, "pW", 2, LOW_LOG_N, &id2), AGE_ERR_NO_IDENTITY,
	       "unseal with a wrong password: no matching identity");
	close(fd);

	/* The old default work factor, once. */
	fd = memfd();
	rc = age_identity_seal(&id, 0, "pw", 2, 16, fd);
	is_int(age_scrypt_work_factor(fd), 16, "the work factor is read from the stanza");
	lseek(fd, 0, SEEK_SET);
	rc = rc ? rc : age_identity_unseal(fd, "pw", 2, AGE_SCRYPT_MAX_LOG_N, &id2);
	ok(rc == 0 && memcmp(&id, &id2, sizeof id) == 0, "seal and unseal at log N 16");
	lseek(fd, 0, SEEK_SET);
	is_int(age_identity_unseal(fd, "pw", 2, 15, &id2), AGE_ERR_WORK_FACTOR,
	       "unseal refuses log N above its limit");
	close(fd);
	age_identity_wipe(&id);
	age_identity_wipe(&id2);
}

static void test_errors(void)
{
	struct age_encryptor *e;
	struct age_decryptor *d;
	struct age_identity id;
	struct age_recipient zero = {{0}}, r;
	uint8_t *p = pattern(300000);
	int fd, rc;

	ok(age_strerror(AGE_ERR_HMAC) != NULL && strstr(age_strerror(AGE_ERR_HMAC), "MAC") != NULL,
	   "age_strerror names the HMAC failure");
	ok(strstr(age_strerror(AGE_ERR_HEADER), "header") &&
	       strstr(age_strerror(AGE_ERR_PAYLOAD), "payload") &&
	       strstr(age_strerror(AGE_ERR_NO_IDENTITY), "identity"),
	   "age_strerror names header, payload and identity failures");
	is_int(age_encrypt_begin(&e, &zero, 1, 1), AGE_ERR_ARG,
	       "a low-order recipient key refused");
	ok(e == NULL, "and no encryptor is left");
	is_int(age_encrypt_begin(&e, &zero, 0, 1), AGE_ERR_ARG, "no recipients refused");
	is_int(age_decrypt_begin(&d, 0, &id, 0), AGE_ERR_ARG, "no identities refused");

	age_identity_generate(&id);
	age_identity_recipient(&id, &r);
	fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		skip("no /dev/full", "write errors reported");
	} else {
		rc = age_encrypt_begin(&e, &r, 1, fd);
		if (rc == 0)
			rc = age_encrypt_update(e, p, 300000);
		ok(rc == AGE_ERR_IO && errno == ENOSPC,
		   "a full disk is AGE_ERR_IO with errno ENOSPC");
		is_int(age_encrypt_update(e, p, 1), AGE_ERR_IO, "the write error sticks");
		is_int(age_encrypt_finish(e, NULL), AGE_ERR_IO, "and finish reports it");
		close(fd);
	}
	fd = memfd();
	age_encrypt_begin(&e, &r, 1, fd);
	age_encrypt_update(e, p, 1000);
	age_encrypt_abort(e);
	ok(1, "abort frees an unfinished encryptor");
	close(fd);
	age_identity_wipe(&id);
	free(p);
}

/* age_scrypt_work_factor reads only canonical headers. */
static void test_work_factor(void)
{
	static const struct {
		const char *text;
		int want;
	} v[] = {
		{ "age-encryption.org/v1\n-> scrypt c2FsdHNhbHRzYWx0c2FsdA 10\nX\n", 10 },
		{ "age-encryption.org/v1\n-> scrypt c2FsdHNhbHRzYWx0c2FsdA 1\n", 1 },
		{ "age-encryption.org/v1\n-> scrypt c2FsdHNhbHRzYWx0c2FsdA 010\n", AGE_ERR_HEADER },
		{ "age-encryption.org/v1\n-> scrypt c2FsdHNhbHRzYWx0c2FsdA 0\n", AGE_ERR_HEADER },
		{ "age-encryption.org/v1\n-> scrypt c2FsdHNhbHRzYWx0c2FsdA -3\n", AGE_ERR_HEADER },
		{ "age-encryption.org/v1\n-> scrypt c2FsdHNhbHRzYWx0c2FsdA 99999999999\n", AGE_ERR_HEADER },
		{ "age-encryption.org/v1\n-> scrypt c2FsdHNhbHRzYWx0c2FsdA 12", AGE_ERR_HEADER },
		{ "age-encryption.org/v1\n-> X25519 abc 12\n", AGE_ERR_HEADER },
		{ "-> scrypt c2FsdHNhbHRzYWx0c2FsdA 12\n", AGE_ERR_HEADER },
		{ "", AGE_ERR_HEADER },
	};

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		int fd = bytes_fd((const uint8_t *)v[i].text, strlen(v[i].text));

		is_int(age_scrypt_work_factor(fd), v[i].want, "work factor of header %zu", i);
		close(fd);
	}
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	plan_lazy();
	test_base64();
	test_keys();
	test_identity_file();
	test_round_trips();
	test_header_shape();
	test_tampering();
	test_full_final_chunk();
	test_pipe();
	test_scrypt();
	test_seal();
	test_work_factor();
	test_errors();
	return done_testing();
}
