/* libFuzzer target for the trust boundary of privilege separation: the
 * store helper reading frames a compromised parser writes. The first byte
 * picks the role; the rest goes down a socketpair to privsep_helper over
 * an empty store, so every decoder and every state check is reached. It
 * must never crash, leak or hang, whatever the bytes. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "privsep/privsep.h"
#include "store/wire.h"

#define FUZZ_MAX 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An empty store: nothing there to find, nothing made. */
	static char dir[] = "/nonexistent/msgw-fuzz-wire";
	struct config cfg;
	int sv[2], buf = 4 * FUZZ_MAX;

	if (size < 1 || size > FUZZ_MAX)
		return 0;
	memset(&cfg, 0, sizeof cfg);
	cfg.data_dir = dir;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		abort();
	/* All of it fits in the buffer: the helper runs in this thread. */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
	if (write(sv[0], data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	shutdown(sv[0], SHUT_WR);
	(void)privsep_helper(sv[1], &cfg, data[0] & 1 ? PRIVSEP_POP3 : PRIVSEP_SMTP);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
