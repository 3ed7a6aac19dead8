/* The store helper's trust boundary: the wire decoders refuse every frame
 * outside its type's bounds, and the helper refuses requests its role or
 * state does not allow (and ends), while answering allowed ones. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "privsep/privsep.h"
#include "store/wire.h"
#include "t/tap.h"

static void hdr(uint8_t h[WIRE_HDR], uint8_t type, uint32_t len)
{
	h[0] = type;
	h[1] = (uint8_t)(len >> 24), h[2] = (uint8_t)(len >> 16), h[3] = (uint8_t)(len >> 8),
	h[4] = (uint8_t)len;
}

static int header_ok(uint8_t type, uint32_t len)
{
	uint8_t h[WIRE_HDR], t;
	uint32_t l;

	hdr(h, type, len);
	return wire_parse_header(h, &t, &l) == 0;
}

static void headers(void)
{
	ok(header_ok(WIRE_BEGIN, 1 + MAILBOX_ID_LEN), "BEGIN: slot and one id");
	ok(!header_ok(WIRE_BEGIN, MAILBOX_ID_LEN), "BEGIN without its slot byte refused");
	ok(!header_ok(WIRE_BEGIN, 2 + MAILBOX_ID_LEN), "BEGIN with a partial id refused");
	ok(!header_ok(WIRE_BEGIN, 1 + (WIRE_MAX_RCPT + 1) * MAILBOX_ID_LEN),
	   "BEGIN past the recipient cap refused");
	ok(header_ok(WIRE_DATA, WIRE_MAX_PAYLOAD), "DATA of 64 KiB");
	ok(!header_ok(WIRE_DATA, WIRE_MAX_PAYLOAD + 1), "DATA past 64 KiB refused");
	ok(!header_ok(WIRE_DATA, 1), "DATA with no byte after the slot refused");
	ok(!header_ok(WIRE_DATA, 0xffffffffu), "a 4 GiB length refused before any read");
	ok(!header_ok(WIRE_COMMIT, 2), "COMMIT with a payload refused");
	ok(!header_ok(WIRE_LOGIN, MAILBOX_ID_LEN), "LOGIN without a password refused");
	ok(!header_ok(WIRE_LOGIN, MAILBOX_ID_LEN + WIRE_MAX_PASSWORD + 1),
	   "LOGIN with an overlong password refused");
	ok(!header_ok(WIRE_OPEN, 36) && !header_ok(WIRE_OPEN, 3), "OPEN of the wrong size refused");
	ok(header_ok(WIRE_MSGEND, 4) && !header_ok(WIRE_MSGEND, 5),
	   "MSGEND carries exactly one errno");
	ok(!header_ok(0, 0) && !header_ok(14, 4) && !header_ok(255, 0), "unknown types refused");
	ok(!header_ok(WIRE_SEEN_ADD, MAILBOX_ID_LEN + 31), "SEEN_ADD with a short key refused");
}

static void decoders(void)
{
	char ids[WIRE_MAX_RCPT][MAILBOX_ID_LEN + 1], id[MAILBOX_ID_LEN + 1], key[WIRE_SEEN_KEY + 1];
	char uidl[WIRE_UIDL_MAX + 1];
	uint8_t p[64];
	const uint8_t *pw;
	size_t n, plen, off = 0;
	uint64_t size;
	unsigned slot;

	memcpy(p, "abcdefghijkmn234", 16);
	ok(wire_parse_ids(p, 16, ids, &n) == 0 && n == 1 && strcmp(ids[0], "abcdefghijkmn234") == 0,
	   "ids: a valid id");
	memcpy(p, "abcdefghijkmn23/", 16);
	errno = 0;
	ok(wire_parse_ids(p, 16, ids, &n) < 0 && errno == EPROTO,
	   "ids: a '/' in an id refused (EPROTO)");
	memcpy(p, "ABCDEFGHIJKMN234", 16);
	ok(wire_parse_ids(p, 16, ids, &n) < 0, "ids: upper case refused");
	p[0] = WIRE_SLOTS;
	ok(wire_parse_slot(p, 1, &slot) < 0, "slot past the last refused");
	memcpy(p, "abcdefghijkmn234", 16);
	p[16] = 'x';
	ok(wire_parse_login(p, 17, id, &pw, &plen) == 0 && plen == 1 && pw[0] == 'x',
	   "login: id and password");
	memcpy(p, "abcdefghijkmn234", 16);
	memset(p + 16, 'A', 32);
	ok(wire_parse_seen(p, 48, id, key) < 0, "seen: a key that is not lowercase hex refused");
	memset(p, 0, 9);
	p[7] = 5;
	p[8] = 3;
	memcpy(p + 9, "a b", 3);
	ok(wire_parse_entry(p, 12, &off, &size, uidl) < 0, "list: a UIDL with a space refused");
	p[8] = 71;
	off = 0;
	ok(wire_parse_entry(p, 12, &off, &size, uidl) < 0, "list: a UIDL longer than 70 refused");
	p[8] = 3;
	memcpy(p + 9, "abc", 3);
	off = 0;
	ok(wire_parse_entry(p, 11, &off, &size, uidl) < 0, "list: an entry past the frame refused");
	off = 0;
	ok(wire_parse_entry(p, 12, &off, &size, uidl) == 0 && size == 5 &&
	       strcmp(uidl, "abc") == 0 && off == 12,
	   "list: a valid entry");
}

/* Frames into a helper of role; returns its exit and the first status. */
static int run_helper(enum privsep_role role, const uint8_t *frames, size_t n, uint32_t *status)
{
	struct config cfg;
	struct wire_frame *f = malloc(sizeof *f);
	int sv[2], rc;

	memset(&cfg, 0, sizeof cfg);
	cfg.data_dir = (char *)t_tmpdir();
	if (f == NULL || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 ||
	    write(sv[0], frames, n) != (ssize_t)n)
		bail("socketpair: %s", strerror(errno));
	shutdown(sv[0], SHUT_WR);
	rc = privsep_helper(sv[1], &cfg, role);
	close(sv[1]);
	*status = 0xffffffffu;
	if (wire_recv(sv[0], f, NULL) == 0 && f->type == WIRE_STATUS)
		wire_parse_u32(f->p, f->len, status);
	close(sv[0]);
	free(f);
	return rc;
}

static size_t frame(uint8_t *out, uint8_t type, const void *p, uint32_t len)
{
	hdr(out, type, len);
	memcpy(out + WIRE_HDR, p, len);
	return WIRE_HDR + len;
}

static void helper(void)
{
	uint8_t buf[256], slot_data[2] = {0, 'x'};
	uint8_t login[17] = "abcdefghijkmn234p", begin[17] = "\0abcdefghijkmn234",
	        open_req[4] = {0};
	uint32_t st;
	size_t n;

	n = frame(buf, WIRE_DATA, slot_data, 2);
	is_int(run_helper(PRIVSEP_SMTP, buf, n, &st), -1, "helper: DATA without BEGIN refused");
	n = frame(buf, WIRE_LOGIN, login, 17);
	is_int(run_helper(PRIVSEP_SMTP, buf, n, &st), -1, "helper: LOGIN refused to the SMTP role");
	n = frame(buf, WIRE_MCOMMIT, "", 0);
	is_int(run_helper(PRIVSEP_POP3, buf, n, &st), -1,
	       "helper: MCOMMIT before a log-in refused");
	n = frame(buf, WIRE_STATUS, "\0\0\0\0", 4);
	is_int(run_helper(PRIVSEP_POP3, buf, n, &st), -1,
	       "helper: a reply type as a request refused");
	n = frame(buf, WIRE_MSGEND, "\0\0\0\0", 4);
	is_int(run_helper(PRIVSEP_POP3, buf, n, &st), -1, "helper: MSGEND as a request refused");
	n = frame(buf, WIRE_MESSAGE, "forged", 6);
	is_int(run_helper(PRIVSEP_SMTP, buf, n, &st), -1, "helper: MESSAGE as a request refused");
	n = frame(buf, WIRE_COMMITTED, "\0\0\0\0\0\0\0\0\0", 9);
	is_int(run_helper(PRIVSEP_SMTP, buf, n, &st), -1, "helper: COMMITTED as a request refused");
	n = frame(buf, WIRE_BEGIN, begin, 17);
	ok(run_helper(PRIVSEP_SMTP, buf, n, &st) == 0 && st == ENOENT,
	   "helper: BEGIN for an unknown mailbox answered ENOENT, the session goes on");
	n = frame(buf, WIRE_LOGIN, login, 17);
	ok(run_helper(PRIVSEP_POP3, buf, n, &st) == 0 && st == ENOENT,
	   "helper: LOGIN to an unknown mailbox answered ENOENT");
	n = frame(buf, WIRE_LOGIN, login, 17);
	n += frame(buf + n, WIRE_OPEN, open_req, sizeof open_req);
	is_int(run_helper(PRIVSEP_POP3, buf, n, &st), -1,
	       "helper: OPEN after a failed log-in refused");
	hdr(buf, WIRE_DATA, 0x7fffffff);
	is_int(run_helper(PRIVSEP_SMTP, buf, WIRE_HDR, &st), -1,
	       "helper: a huge length refused from the header");
	memcpy(buf, "\001\0\0\0\021\0abc", 9);
	is_int(run_helper(PRIVSEP_SMTP, buf, 9, &st), -1, "helper: a frame cut short refused");
}

int main(void)
{
	plan_lazy();
	headers();
	decoders();
	helper();
	return done_testing();
}
