/* libFuzzer target for src/pop3/codec.c, the code between stored bytes or
 * client bytes and the wire: base64 of AUTH PLAIN responses, and the
 * byte-stuffer, which must give the same output whether a message comes at
 * once or byte by byte (decryption hands it over in any chunking), emit
 * only CRLF line ends and end with "CRLF.CRLF". The first byte picks. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/pop3.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int emit_buf(void *ctx, const void *p, size_t n)
{
	return buf_append(ctx, p, n);
}

static void stuff(const uint8_t *in, size_t n, int top, uint64_t lines, size_t step,
		  struct buf *out)
{
	struct pop3_stuffer f;

	pop3_stuffer_init(&f, top, lines);
	for (size_t i = 0; i < n; i += step)
		if (pop3_stuff(&f, in + i, n - i < step ? n - i : step, emit_buf, out) < 0)
			abort();
	if (pop3_stuff_end(&f, emit_buf, out) < 0)
		abort();
}

static void fuzz_stuffer(const uint8_t *data, size_t size, int top)
{
	struct buf whole, bytes;
	uint64_t lines = 0;

	if (top) {
		if (size < 1)
			return;
		lines = data[0];
		data++;
		size--;
	}
	buf_init(&whole, 0);
	buf_init(&bytes, 0);
	stuff(data, size, top, lines, size ? size : 1, &whole);
	stuff(data, size, top, lines, 1, &bytes);
	if (whole.len != bytes.len || memcmp(whole.data, bytes.data, whole.len) != 0)
		abort();
	if (whole.len < 3 || memcmp(whole.data + whole.len - 3, ".\r\n", 3) != 0)
		abort();
	if (whole.len > 3 && (whole.len < 5 || memcmp(whole.data + whole.len - 5, "\r\n", 2) != 0))
		abort();
	for (size_t i = 0; i < whole.len; i++)
		if (whole.data[i] == '\n' && (i == 0 || whole.data[i - 1] != '\r'))
			abort();
	buf_free(&whole);
	buf_free(&bytes);
}

static void fuzz_base64(const uint8_t *data, size_t size)
{
	unsigned char out[POP3_LINE_MAX];
	long n = pop3_base64_decode((const char *)data, size, out, sizeof out);

	if (n > (long)sizeof out || (n >= 0 && (size_t)n > size))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0: fuzz_base64(data + 1, size - 1); break;
	case 1: fuzz_stuffer(data + 1, size - 1, 0); break;
	default: fuzz_stuffer(data + 1, size - 1, 1); break;
	}
	return 0;
}
