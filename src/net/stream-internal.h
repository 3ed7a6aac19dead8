/* The fields of struct stream: for src/net/stream.c and src/net/tls.c
 * only. Everything else holds a struct stream * from stream_new and goes
 * through net/stream.h, so outside src/net the type stays incomplete and
 * a field access does not compile. */
#ifndef MSGW_NET_STREAM_INTERNAL_H
#define MSGW_NET_STREAM_INTERNAL_H

#ifndef MSGW_NET_STREAM_IMPL
#error "net/stream-internal.h is for src/net/stream.c and src/net/tls.c only"
#endif

#include "net/stream.h"

struct stream {
	int rfd, wfd;
	struct tls_conn *tls;      /* NULL while plaintext */
	int timeout_ms;            /* for each read or write */
	long long deadline_ms;     /* absolute (monotonic) end of session; 0 = none */
	long long login_deadline_ms; /* earlier end until the log-in succeeds; 0 = none */
	enum stream_err err;
	char errmsg[160];
	uint64_t bytes_in, bytes_out;
	size_t rpos, rlen, wlen;
	unsigned char rbuf[STREAM_BUFSIZE];
	unsigned char wbuf[STREAM_BUFSIZE];
};

#endif
