/* libFuzzer target: the whole decryptor (header, unwrapping, MAC, nonce,
 * STREAM) on arbitrary input, with the CCTV vectors' identities and
 * password, so that the seed corpus (the vectors) reaches the payload. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "crypt/age.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const vec_ids[] = {
    "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0",
    "AGE-SECRET-KEY-143WN7DCXU4G8R5AXQSSYD9AEPYDNT3HXSLWSPK36CDU6E8M59SSSAGZ3KG",
};

static void drain(struct age_decryptor *d)
{
	static uint8_t buf[40000];
	ssize_t r;

	while ((r = age_decrypt_read(d, buf, sizeof buf)) > 0)
		;
	age_decrypt_end(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct age_identity ids[2];
	static int fd = -1;
	struct age_decryptor *d;

	if (fd < 0) {
		fd = memfd_create("fuzz", MFD_CLOEXEC);
		if (fd < 0 || age_identity_parse(vec_ids[0], &ids[0]) != 0 ||
		    age_identity_parse(vec_ids[1], &ids[1]) != 0)
			abort();
	}
	if (ftruncate(fd, 0) < 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	lseek(fd, 0, SEEK_SET);
	if (age_decrypt_begin(&d, fd, ids, 2) == 0)
		drain(d);
	lseek(fd, 0, SEEK_SET);
	/* The vectors use log N 10; a limit of 10 keeps scrypt runs short. */
	if (age_decrypt_begin_scrypt(&d, fd, "password", 8, 10) == 0)
		drain(d);
	return 0;
}
