/* A connection's byte stream over a pair of fds (inetd: 0 and 1), plain or
 * TLS, with bounded buffers and a deadline on every read and write.
 * Output is buffered and flushed before any read that would block, so
 * pipelined replies go out together (RFC 2920) without an explicit flush. */
#ifndef MSGW_NET_STREAM_H
#define MSGW_NET_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define STREAM_BUFSIZE 16384

enum stream_err { STREAM_OK = 0, STREAM_EOF, STREAM_TIMEOUT, STREAM_IO, STREAM_TLS };

enum line_result { LINE_OK = 0, LINE_TOO_LONG, LINE_EOF, LINE_ERROR };

struct tls_conn;

/* Opaque: its fields are src/net's alone (net/stream-internal.h). */
struct stream;

/* A stream on the heap over rfd and wfd, which it makes non-blocking
 * (timeouts are then enforced by poll); NULL with errno when out of memory.
 * stream_free wipes both buffers and frees it (TLS state included, without
 * close_notify: call stream_shutdown first for that); the fds stay open.
 * NULL is a no-op. */
struct stream *stream_new(int rfd, int wfd, int timeout_ms);
void stream_free(struct stream *s);
void stream_set_timeout(struct stream *s, int timeout_ms);
/* The whole session ends seconds from now, whatever the per-op timeout. */
void stream_set_session_limit(struct stream *s, int seconds);
long long stream_now_ms(void);
/* The session also ends seconds from now unless stream_login_done is
 * called first: the log-in deadline, however active the client is. */
void stream_set_login_limit(struct stream *s, int seconds);
void stream_login_done(struct stream *s);
/* The earliest deadline in force (monotonic ms), 0 when none. */
long long stream_deadline(const struct stream *s);

/* One line ending in LF, kept with its terminator, NUL-terminated, at most
 * max-1 bytes. LINE_TOO_LONG: the line was longer; all of it up to and
 * including its LF has been consumed and dropped (*len is then 0). A final
 * unterminated line at EOF is LINE_EOF. */
enum line_result stream_getline(struct stream *s, char *line, size_t max, size_t *len);
/* Up to n bytes: >0, 0 at EOF, -1 on error (stream_error, stream_strerror). */
ssize_t stream_read(struct stream *s, void *buf, size_t n);
/* Exactly n bytes, or -1 (EOF before n is an error). */
/* The error of the last failed operation (STREAM_OK while all is well). */
enum stream_err stream_error(const struct stream *s);
/* Forget a read timeout so the stream can still say goodbye. */
void stream_clear_error(struct stream *s);
/* Milliseconds left until the nearer of the session and log-in deadlines;
 * -1 when there is none. */
long long stream_time_left(const struct stream *s);
/* Wipe the input already consumed (credentials read) and everything that
 * was written (credentials sent): what stays in the buffers after use. */
void stream_wipe_consumed(struct stream *s);
/* All of the read buffer but its unread (pipelined) part: the consumed
 * input and the free space past what is buffered. */
void stream_wipe_input(struct stream *s);
void stream_wipe_output(struct stream *s);
/* The fd writes go to (for socket options). */
int stream_wfd(const struct stream *s);
/* Strip the line end (CR and LF) off a line stream_getline read. */
void chomp(char *line, size_t *len);
/* The buffered input without copying it, refilling (with the timeout)
 * when empty: the count available at *p, 0 at EOF, -1 on error. The bytes
 * stay in the stream until stream_consume(n) (n at most that count). */
ssize_t stream_peek(struct stream *s, const unsigned char **p);
void stream_consume(struct stream *s, size_t n);
int stream_read_exact(struct stream *s, void *buf, size_t n);

/* Buffered output; 0 or -1. */
int stream_write(struct stream *s, const void *p, size_t n);
int stream_puts(struct stream *s, const char *str);
int stream_printf(struct stream *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int stream_flush(struct stream *s);

/* Bytes read from the peer but not yet consumed. */
size_t stream_pending(const struct stream *s);
/* Drop them (before a TLS handshake, so nothing can be injected). */
void stream_discard_pending(struct stream *s);
/* Wait up to timeout_ms for input without consuming it: 1 ready, 0 not. */
int stream_input_ready(struct stream *s, int timeout_ms);

const char *stream_strerror(const struct stream *s);
/* TLS close_notify (if TLS) and release of the TLS state; fds stay open. */
void stream_shutdown(struct stream *s);

/* For net/tls.c: raw transport with the stream's deadlines. */
ssize_t stream_raw_read(struct stream *s, void *buf, size_t n);
ssize_t stream_raw_write(struct stream *s, const void *buf, size_t n);
void stream_set_error(struct stream *s, enum stream_err e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
