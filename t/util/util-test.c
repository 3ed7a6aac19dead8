/* Unit tests for src/util: buffers, paths, address prefixes, log quoting. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "t/tap.h"
#include "util/buf.h"
#include "util/cidr.h"
#include "util/log.h"
#include "util/path.h"

static void test_buf(void)
{
	struct buf b;

	buf_init(&b, 10);
	ok(buf_append(&b, "hello", 5) == 0, "buf: append within the cap");
	ok(buf_appendf(&b, "%d", 1234) == 0, "buf: appendf within the cap");
	is_str(b.data, "hello1234", "buf: contents and NUL terminator");
	errno = 0;
	ok(buf_append(&b, "xy", 2) < 0 && errno == EMSGSIZE, "buf: growth past the cap fails with EMSGSIZE");
	is_int((long long)b.len, 9, "buf: a failed append leaves the buffer unchanged");
	ok(buf_append(&b, "x", 1) == 0 && b.len == 10, "buf: exactly the cap is allowed");
	buf_reset(&b);
	is_int((long long)b.len, 0, "buf: reset");
	buf_wipe_free(&b);
	ok(b.data == NULL, "buf: wipe_free releases");
	buf_init(&b, 0);
	ok(buf_reserve(&b, (size_t)-1) < 0 && errno == EMSGSIZE, "buf: a size overflow is refused");
	buf_free(&b);
}

static void test_path(void)
{
	char p[16], big[4096];
	char *data;
	size_t len;

	ok(path_join(p, sizeof p, "/a/", "/b") == 0, "path: join");
	is_str(p, "/a/b", "path: one separator");
	errno = 0;
	ok(path_join(p, sizeof p, "/very/long/dir", "name") < 0 && errno == ENAMETOOLONG,
	   "path: truncation fails with ENAMETOOLONG");
	is_str(p, "", "path: a truncated result is not left behind");
	ok(path_fmt(p, sizeof p, "%s", "123456789012345") == 0, "path: exactly fits");
	ok(path_fmt(p, sizeof p, "%s", "1234567890123456") < 0, "path: one byte over fails");

	snprintf(big, sizeof big, "%s/f", t_tmpdir());
	ok(write_file_atomic(big, "abc\n", 4, 0600) == 0, "path: atomic write");
	ok(read_file_bounded(big, 100, &data, &len) == 0 && len == 4 && memcmp(data, "abc\n", 4) == 0,
	   "path: bounded read gives the contents");
	free(data);
	errno = 0;
	ok(read_file_bounded(big, 3, &data, &len) < 0 && errno == EFBIG, "path: a file over the bound is refused");
	{
		struct stat st;
		ok(stat(big, &st) == 0 && (st.st_mode & 0777) == 0600, "path: atomic write sets the mode");
	}
}

static void test_cidr(void)
{
	struct cidr c;

	ok(cidr_parse("192.0.2.0/24", &c) == 0, "cidr: IPv4 prefix parses");
	ok(cidr_match(&c, "192.0.2.77"), "cidr: address inside matches");
	ok(!cidr_match(&c, "192.0.3.1"), "cidr: address outside does not");
	ok(cidr_match(&c, "::ffff:192.0.2.9"), "cidr: IPv4-mapped IPv6 matches the IPv4 prefix");
	ok(cidr_parse("2001:db8::/32", &c) == 0, "cidr: IPv6 prefix parses");
	ok(cidr_match(&c, "2001:db8:1::5"), "cidr: IPv6 inside matches");
	ok(!cidr_match(&c, "2001:db9::1"), "cidr: IPv6 outside does not");
	ok(!cidr_match(&c, "192.0.2.1"), "cidr: IPv4 never matches an IPv6 prefix");
	ok(cidr_parse("127.0.0.1", &c) == 0 && c.prefix == 32, "cidr: a bare address is a /32");
	ok(cidr_parse("10.0.0.0/33", &c) < 0, "cidr: prefix too long is refused");
	ok(cidr_parse("10.0.0.0/", &c) < 0, "cidr: empty prefix is refused");
	ok(cidr_parse("example.com/8", &c) < 0, "cidr: a name is refused");
	ok(cidr_parse("0.0.0.0/0", &c) == 0 && cidr_match(&c, "203.0.113.5"), "cidr: /0 matches all IPv4");
	ok(cidr_parse("10.1.2.3/13", &c) == 0 && cidr_match(&c, "10.7.255.255") && !cidr_match(&c, "10.8.0.0"),
	   "cidr: prefix not on a byte boundary");
}

static void test_log_q(void)
{
	char out[32];

	is_str(log_q(out, sizeof out, "plain"), "plain", "log_q: plain value unchanged");
	is_str(log_q(out, sizeof out, "a b"), "\"a b\"", "log_q: space quoted");
	is_str(log_q(out, sizeof out, "x\"y\n"), "\"x\\\"y\\x0a\"", "log_q: quote and newline escaped");
	is_str(log_q(out, sizeof out, ""), "\"\"", "log_q: empty value quoted");
	ok(strlen(log_q(out, sizeof out, "a very long value with spaces that does not fit")) < sizeof out,
	   "log_q: long value truncated to fit");
	is_int(log_level_parse("debug"), LOG_LVL_DEBUG, "log: level names parse");
	is_int(log_level_parse("verbose"), -1, "log: unknown level refused");
}

int main(void)
{
	plan_lazy();
	test_buf();
	test_path();
	test_cidr();
	test_log_q();
	return done_testing();
}
