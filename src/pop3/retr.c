/* RETR and TOP: a message streams from the store (maildrop_read: its age
 * file, or the store helper's pipe) to the client chunk by verified chunk, with bare LF turned into CRLF and leading dots
 * doubled (RFC 1939 section 3), in constant memory whatever its size. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/pop3.h"
#include "pop3/reply.h"
#include "util/log.h"

/* Plaintext decrypted before "+OK" is sent: a message up to this size is
 * verified whole before the client sees a byte of it, so a damaged one
 * gets a clean -ERR. A larger message that fails past this point can only
 * be cut off (the connection closes without the final ".", so no client
 * takes it for complete). */
#define PREFETCH_SIZE (1024 * 1024)
#define READ_SIZE (64 * 1024)

static int emit_stream(void *ctx, const void *p, size_t n)
{
	return stream_write(ctx, p, n);
}

static void log_damaged(struct pop3 *p, size_t idx, const char *why)
{
	const struct maildrop_msg *m = maildrop_get(p->md, idx);

	log_error("event=decrypt_failed mailbox=%s msg=%zu uidl=%s error=\"%s\"", p->mailbox,
		  idx + 1, m->uidl, why);
}

/* Fill the prefetch buffer: its length, or -1 after logging. *eof is set
 * when the whole message (final chunk verified) is in it. */
static long prefetch(struct pop3 *p, struct maildrop_reader *d, size_t idx, int *eof)
{
	size_t have = 0;

	*eof = 0;
	while (have < PREFETCH_SIZE) {
		size_t want = PREFETCH_SIZE - have < READ_SIZE ? PREFETCH_SIZE - have : READ_SIZE;
		ssize_t r = maildrop_read(d, p->prefetch + have, want);

		if (r < 0) {
			log_damaged(p, idx, maildrop_read_error(d));
			return -1;
		}
		if (r == 0) {
			*eof = 1;
			break;
		}
		have += (size_t)r;
	}
	return (long)have;
}

/* After "+OK": the rest of the message, the end marker. -1 ends the
 * session (p->end says why). */
static int stream_rest(struct pop3 *p, struct maildrop_reader *d, size_t idx,
		       struct pop3_stuffer *f, size_t have, int eof)
{
	if (pop3_stuff(f, p->prefetch, have, emit_stream, p->s) < 0)
		goto io;
	while (!eof && !f->done) {
		ssize_t r = maildrop_read(d, p->prefetch, READ_SIZE);

		if (r < 0) {
			log_damaged(p, idx, maildrop_read_error(d));
			p->end = POP3_END_DAMAGED;
			return -1;
		}
		if (r == 0)
			break;
		if (pop3_stuff(f, p->prefetch, (size_t)r, emit_stream, p->s) < 0)
			goto io;
	}
	if (pop3_stuff_end(f, emit_stream, p->s) < 0)
		goto io;
	p->bytes += f->out_bytes;
	return 0;
io:
	p->end = POP3_END_IO;
	return -1;
}

static int send_message(struct pop3 *p, size_t idx, int top, uint64_t lines)
{
	struct maildrop_reader *d = NULL;
	struct pop3_stuffer f;
	int eof, rc = 0;
	long have;

	if (p->prefetch == NULL && (p->prefetch = malloc(PREFETCH_SIZE)) == NULL) {
		log_error("event=retr error=\"out of memory\"");
		return pop3_reply(p->s, P3_NO_MEMORY);
	}
	if (maildrop_open_message(p->md, idx, &d) < 0) {
		log_damaged(p, idx, strerror(errno));
		return pop3_reply_num(p->s, P3_UNREADABLE, idx + 1);
	}
	if ((have = prefetch(p, d, idx, &eof)) < 0) {
		rc = pop3_reply_num(p->s, P3_UNDECRYPTABLE, idx + 1);
		goto out;
	}
	pop3_stuffer_init(&f, top, lines);
	if (pop3_reply_num(p->s, P3_OCTETS, maildrop_get(p->md, idx)->size) < 0 ||
	    stream_rest(p, d, idx, &f, (size_t)have, eof) < 0) {
		if (p->end == POP3_END_NONE)
			p->end = POP3_END_IO;
		rc = -1;
		goto out;
	}
	if (!top)
		p->retrieved++;
	log_debug("event=%s mailbox=%s msg=%zu bytes=%llu", top ? "top" : "retr", p->mailbox,
		  idx + 1, (unsigned long long)f.out_bytes);
out:
	maildrop_reader_end(d);
	return rc;
}

int pop3_cmd_retr(struct pop3 *p, char *args)
{
	size_t idx;

	if (pop3_msgno(p, args, &idx) < 0)
		return 0;
	return send_message(p, idx, 0, 0);
}

int pop3_cmd_top(struct pop3 *p, char *args)
{
	char *sp = strchr(args, ' ');
	uint64_t lines;
	size_t idx;

	if (sp == NULL || pop3_parse_uint(sp + 1, UINT64_MAX, &lines) < 0) {
		p->errors++;
		return pop3_reply(p->s, P3_TOP_USAGE);
	}
	*sp = '\0';
	if (pop3_msgno(p, args, &idx) < 0)
		return 0;
	return send_message(p, idx, 1, lines);
}
