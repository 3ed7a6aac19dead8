/* Unit tests of the proxy's parsers: log-in names, allow-list patterns,
 * base64 and SASL PLAIN, the dot-terminated body relay (fed one byte per
 * read as well as all at once) and the seen-UIDL index. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf/conf.h"
#include "proxy/handoff.h"
#include "proxy/proxy.h"
#include "t/tap.h"
#include "util/buf.h"

static void test_login(void)
{
	struct proxy_target t;
	const char *why;

	ok(proxy_login_parse("alice@example.com%mail.example.com%abcdefghijklmnop", &t, &why) ==
	           0 &&
	       strcmp(t.user, "alice@example.com") == 0 &&
	       strcmp(t.host, "mail.example.com") == 0 && t.port[0] == '\0' &&
	       strcmp(t.mailbox, "abcdefghijklmnop") == 0,
	   "user@domain%%server%%mailbox");
	ok(proxy_login_parse("a%b@c%smtp.example.com:587%ABCDEFGHIJKLMNOP", &t, &why) == 0 &&
	       strcmp(t.user, "a%b@c") == 0 && strcmp(t.port, "587") == 0 &&
	       strcmp(t.mailbox, "abcdefghijklmnop") == 0,
	   "split on the last two %%; port; mailbox id case-folded");
	ok(proxy_login_parse("u%[2001:db8::1]:995%abcdefghijklmnop", &t, &why) == 0 &&
	       strcmp(t.host, "2001:db8::1") == 0 && strcmp(t.port, "995") == 0,
	   "[IPv6]:port target");
	ok(proxy_login_parse("u%127.0.0.1%abcdefghijklmnop", &t, &why) == 0 &&
	       strcmp(t.host, "127.0.0.1") == 0,
	   "IPv4 target");
	ok(proxy_login_parse("u%host%abc", &t, &why) < 0, "short mailbox id refused");
	ok(proxy_login_parse("u%host%abcdefghijklmno1", &t, &why) < 0,
	   "mailbox id outside base32 refused");
	ok(proxy_login_parse("host%abcdefghijklmnop", &t, &why) < 0, "one %% is not enough");
	ok(proxy_login_parse("%host%abcdefghijklmnop", &t, &why) < 0, "empty remote user refused");
	ok(proxy_login_parse("u%%abcdefghijklmnop", &t, &why) < 0, "empty target refused");
	ok(proxy_login_parse("u%host:0%abcdefghijklmnop", &t, &why) < 0, "port 0 refused");
	ok(proxy_login_parse("u%host:70000%abcdefghijklmnop", &t, &why) < 0,
	   "port above 65535 refused");
	ok(proxy_login_parse("u%ho/st%abcdefghijklmnop", &t, &why) < 0,
	   "bad host character refused");
	ok(proxy_login_parse("u%[::1%abcdefghijklmnop", &t, &why) < 0, "unclosed bracket refused");
	ok(proxy_login_parse("u\r\n%host%abcdefghijklmnop", &t, &why) < 0,
	   "control characters refused");
	ok(proxy_login_wanted("a%b") && !proxy_login_wanted("abcdefghijklmnop"),
	   "proxy_login_wanted");
	ok(upstream_implicit("465", 0) && upstream_implicit("995", 0) &&
	       upstream_implicit("587", 1) && !upstream_implicit("587", 0) &&
	       !upstream_implicit("110", 0),
	   "implicit TLS upstream: on 465/995, or when the client came on implicit TLS");
}

static enum proxy_match smtp_match(const struct strlist *l, const char *host, const char *port)
{
	return proxy_target_match(l, host, port, proxy_smtp.std_ports);
}

static void test_allowed(void)
{
	char *v[] = {"*.example.com", "mail.example.org", "192.0.2.7", "relay.test:2525",
	             "any.test:*", "[2001:db8::1]:*", "10.1.2.3"};
	struct strlist none = {NULL, 0}, l = {v, 7};

	ok(smtp_match(&none, "anything.test", "25") == MATCH_NONE, "empty list allows nothing");
	ok(smtp_match(&l, "smtp.example.com", "587") == MATCH_WILDCARD &&
	       smtp_match(&l, "a.b.EXAMPLE.com", "25") == MATCH_WILDCARD,
	   "*.example.com matches names below it, any case, as a wildcard");
	ok(!smtp_match(&l, "example.com", "25"), "*.example.com does not match the apex");
	ok(!smtp_match(&l, "evilexample.com", "25"), "no match across a label boundary");
	ok(smtp_match(&l, "Mail.Example.Org", "465") == MATCH_LITERAL &&
	       !smtp_match(&l, "x.mail.example.org", "465"),
	   "exact names match exactly, literally");
	ok(smtp_match(&l, "192.0.2.7", "25") && !smtp_match(&l, "192.0.2.70", "25"), "addresses");
	ok(!smtp_match(&l, "smtp.example.com", "22") && !smtp_match(&l, "mail.example.org", "110") &&
	       !smtp_match(&l, "192.0.2.7", "8080"),
	   "a pattern without a port admits only the standard ports");
	ok(smtp_match(&l, "relay.test", "2525") && !smtp_match(&l, "relay.test", "25") &&
	       !smtp_match(&l, "relay.test", "2526"),
	   "host:port admits that port only");
	ok(smtp_match(&l, "any.test", "22") && smtp_match(&l, "2001:db8::1", "9999"),
	   "host:* and [v6]:* admit any port");
	ok(proxy_target_match(&l, "mail.example.org", "995", proxy_pop3.std_ports) &&
	       !proxy_target_match(&l, "mail.example.org", "587", proxy_pop3.std_ports),
	   "the standard ports are the protocol's");
	ok(proxy_pattern_valid("host:25") && proxy_pattern_valid("[::1]:*") && !proxy_pattern_valid("h:0") &&
	       !proxy_pattern_valid("a b") && !proxy_pattern_valid("x.*.com") &&
	       !proxy_pattern_valid("host:") && !proxy_pattern_valid("[::1") &&
	       !proxy_pattern_valid("host:2x"),
	   "pattern syntax");
}

static int special(const char *addr)
{
	struct sockaddr_in s4 = {.sin_family = AF_INET};
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};

	if (inet_pton(AF_INET, addr, &s4.sin_addr) == 1)
		return proxy_addr_special((struct sockaddr *)&s4);
	if (inet_pton(AF_INET6, addr, &s6.sin6_addr) == 1)
		return proxy_addr_special((struct sockaddr *)&s6);
	bail("bad test address %s", addr);
}

static int listed(const struct strlist *l, const char *addr, const char *port)
{
	struct sockaddr_in s4 = {.sin_family = AF_INET};
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};

	if (inet_pton(AF_INET, addr, &s4.sin_addr) == 1)
		return proxy_addr_listed(l, (struct sockaddr *)&s4, port, proxy_smtp.std_ports);
	if (inet_pton(AF_INET6, addr, &s6.sin6_addr) == 1)
		return proxy_addr_listed(l, (struct sockaddr *)&s6, port, proxy_smtp.std_ports);
	bail("bad test address %s", addr);
}

static void test_special(void)
{
	const char *bad[] = {"127.0.0.1", "127.255.0.9", "10.0.0.1", "172.16.0.1", "172.31.255.1",
	                     "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1",
	                     "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "fd12::1",
	                     "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1",
	                     "fec0::1"};
	const char *good[] = {"192.0.2.7", "198.51.100.1", "8.8.8.8", "172.32.0.1", "100.128.0.1",
	                      "2001:db8::1", "2a00:1450::1", "::ffff:8.8.8.8"};
	char *v[] = {"127.0.0.1:*", "[::1]:2525", "10.0.0.1"};
	struct strlist l = {v, 3};
	size_t i;
	int all = 1;

	for (i = 0; i < sizeof bad / sizeof *bad; i++)
		if (!special(bad[i])) {
			diag("not special: %s", bad[i]);
			all = 0;
		}
	ok(all, "loopback, private, CGNAT, link-local, ULA, multicast, unspecified, mapped: special");
	for (all = 1, i = 0; i < sizeof good / sizeof *good; i++)
		if (special(good[i])) {
			diag("special: %s", good[i]);
			all = 0;
		}
	ok(all, "public addresses are not special");
	ok(listed(&l, "127.0.0.1", "2525") && listed(&l, "::ffff:127.0.0.1", "25"),
	   "an address listed literally (any port with :*)");
	ok(listed(&l, "::1", "2525") && !listed(&l, "::1", "25"), "[v6]:port: that port only");
	ok(listed(&l, "10.0.0.1", "587") && !listed(&l, "10.0.0.1", "2525"),
	   "an address without a port: standard ports only");
	ok(!listed(&l, "127.0.0.2", "25") && !listed(&l, "10.0.0.2", "25"), "other addresses not");
}

static void test_target_ca(void)
{
	char *v[] = {"*.corp.example=/etc/msgw/corp-ca.pem", "192.0.2.7=/etc/msgw/pin.pem"};
	struct strlist none = {NULL, 0}, l = {v, 2};
	const char *ca;

	ok(proxy_target_ca(&none, "mail.corp.example") == NULL, "target CA: none configured");
	ca = proxy_target_ca(&l, "mail.corp.example");
	ok(ca && strcmp(ca, "/etc/msgw/corp-ca.pem") == 0, "target CA: a pattern names the CA file");
	ca = proxy_target_ca(&l, "192.0.2.7");
	ok(ca && strcmp(ca, "/etc/msgw/pin.pem") == 0, "target CA: an address names its own");
	ok(proxy_target_ca(&l, "corp.example") == NULL && proxy_target_ca(&l, "192.0.2.70") == NULL,
	   "target CA: other targets keep the general trust");
}

static void test_sasl(void)
{
	unsigned char dec[256];
	char enc[256];
	size_t n, plen;
	const char *u, *p;

	ok(b64_encode("\0u%h%m\0pa ss", 12, enc, sizeof enc) == 0, "encode");
	is_str(enc, "AHUlaCVtAHBhIHNz", "base64 of a PLAIN message");
	ok(b64_decode(enc, strlen(enc), dec, sizeof dec, &n) == 0 && n == 12, "decode");
	ok(sasl_plain_split(dec, n, &u, &p, &plen) == 0 && strcmp(u, "u%h%m") == 0 && plen == 5 &&
	       memcmp(p, "pa ss", 5) == 0,
	   "PLAIN split");
	ok(b64_decode("AHUAcA==", 8, dec, sizeof dec, &n) == 0 && n == 4, "padding");
	ok(b64_decode("AHUAcA=", 7, dec, sizeof dec, &n) < 0, "bad length refused");
	ok(b64_decode("AH=AcA==", 8, dec, sizeof dec, &n) < 0, "padding in the middle refused");
	ok(b64_decode("AH*AcA==", 8, dec, sizeof dec, &n) < 0, "bad character refused");
	ok(b64_decode("AAAAAAAA", 8, dec, 6, &n) < 0, "output bound kept");
	memcpy(dec, "other\0u\0pw", 10);
	dec[10] = 0;
	ok(sasl_plain_split(dec, 10, &u, &p, &plen) < 0, "authzid for someone else refused");
	memcpy(dec, "u\0u\0pw", 6);
	dec[6] = 0;
	ok(sasl_plain_split(dec, 6, &u, &p, &plen) == 0, "authzid equal to authcid accepted");
	memcpy(dec, "\0u", 2);
	dec[2] = 0;
	ok(sasl_plain_split(dec, 2, &u, &p, &plen) < 0, "missing password refused");
}

static int sink_buf(void *ctx, const void *p, size_t n)
{
	return buf_append(ctx, p, n);
}

/* Relay input through a pipe, written all at once or one byte per write
 * (a child paces the bytes so the reader sees tiny reads). */
static void relay_case(const char *name, const char *in, size_t inlen, enum data_mode mode,
                       const char *fwd, const char *tee, const char *rest)
{
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		struct stream *s;
		struct buf f, c;
		struct body_result r;
		int pfd[2];
		pid_t pid;
		char line[256];
		size_t n;

		if (pipe(pfd) < 0)
			bail("pipe: %s", strerror(errno));
		pid = fork();
		if (pid == 0) {
			close(pfd[0]);
			for (size_t i = 0; i < inlen;) {
				size_t k = bytewise ? 1 : inlen;
				if (write(pfd[1], in + i, k) != (ssize_t)k)
					_exit(1);
				i += k;
				if (bytewise)
					usleep(300);
			}
			_exit(0);
		}
		close(pfd[1]);
		if ((s = stream_new(pfd[0], pfd[0], 5000)) == NULL)
			bail("stream_new: %s", strerror(errno));
		buf_init(&f, 0);
		buf_init(&c, 0);
		body_relay(s, mode, sink_buf, &f, sink_buf, &c, &r);
		ok(!r.in_err && !r.fwd_err && !r.tee_err, "%s%s: relayed", name,
		   bytewise ? " (bytewise)" : "");
		is_mem(f.data, f.len, fwd, strlen(fwd), "%s%s: forwarded bytes", name,
		       bytewise ? " (bytewise)" : "");
		is_mem(c.data, c.len, tee, strlen(tee), "%s%s: content", name,
		       bytewise ? " (bytewise)" : "");
		if (rest) {
			enum line_result lr = stream_getline(s, line, sizeof line, &n);
			ok((lr == LINE_OK || lr == LINE_EOF) && strcmp(line, rest) == 0,
			   "%s%s: input after the terminator left in the stream", name,
			   bytewise ? " (bytewise)" : "");
		}
		waitpid(pid, NULL, 0);
		close(pfd[0]);
		buf_free(&f);
		buf_free(&c);
		stream_free(s);
	}
}

static void test_dot(void)
{
	static const char a[] = "Subject: x\r\n\r\nbody\r\n.\r\n";
	static const char b[] = "..dot\r\n.\r\n";
	static const char c[] = ".\rx\r\n.x\r\n.\r\n";
	static const char d[] = "lf\n.\n";
	static const char e[] = "a\r\n.\r\nQUIT\r\n";
	static const char f[] = ".\r\n";
	static const char g[] = "x\n.\nMAIL FROM:<a>\r\n..y\r\n.\r\n";

	/* forwarded: the content stuffed again, without the final dot */
	relay_case("plain", a, sizeof a - 1, DATA_UPSTREAM, "Subject: x\r\n\r\nbody\r\n",
	           "Subject: x\r\n\r\nbody\r\n", NULL);
	relay_case("stuffed dot", b, sizeof b - 1, DATA_UPSTREAM, "..dot\r\n", ".dot\r\n", NULL);
	relay_case("dot CR not the end", c, sizeof c - 1, DATA_UPSTREAM, "\rx\r\nx\r\n",
	           "\rx\r\nx\r\n", NULL);
	relay_case("upstream: a bare LF ends a line", d, sizeof d - 1, DATA_UPSTREAM, "lf\n", "lf\n",
	           NULL);
	relay_case("pipelined after the end", e, sizeof e - 1, DATA_STRICT, "a\r\n", "a\r\n",
	           "QUIT\r\n");
	relay_case("empty", f, sizeof f - 1, DATA_STRICT, "", "", NULL);
	relay_case("strict: a bare-LF dot is content, re-stuffed", g, sizeof g - 1, DATA_STRICT,
	           "x\n..\nMAIL FROM:<a>\r\n..y\r\n", "x\n.\nMAIL FROM:<a>\r\n.y\r\n", NULL);
}

static void test_dot_eof(void)
{
	struct stream *s;
	struct buf f;
	struct body_result r;
	int pfd[2];

	if (pipe(pfd) < 0)
		bail("pipe");
	if (write(pfd[1], "no end\r\n", 8) != 8)
		bail("write");
	close(pfd[1]);
	if ((s = stream_new(pfd[0], pfd[0], 5000)) == NULL)
		bail("stream_new: %s", strerror(errno));
	buf_init(&f, 0);
	body_relay(s, DATA_UPSTREAM, sink_buf, &f, NULL, NULL, &r);
	ok(r.in_err, "EOF before the terminator is an input error");
	buf_free(&f);
	close(pfd[0]);
	stream_free(s);
}

static void test_seen(void)
{
	const char *dir = t_tmpdir();
	char k1[SEEN_KEY_LEN + 1], k2[SEEN_KEY_LEN + 1], k3[SEEN_KEY_LEN + 1], path[512];
	char other[256], rec[SEEN_KEY_LEN + 2], line[SEEN_KEY_LEN + 2];
	struct stat st;
	FILE *fp, *in;

	seen_key("alice%mail.example.com", "UID1", k1);
	seen_key("bob%mail.example.com", "UID1", k2);
	seen_key("alice%mail.example.com", "UID1", k3);
	ok(strcmp(k1, k3) == 0 && strcmp(k1, k2) != 0,
	   "digest: same account+UIDL same digest, other account other digest");
	seen_key("alice%mail.example.co", "mUID1", k3);
	ok(strcmp(k1, k3) != 0, "digest: account and UIDL are not simply concatenated");
	is_int(seen_file_has(dir, k1), 0, "no index yet: not seen");
	ok(seen_file_add(dir, k1) == 0, "add");
	is_int(seen_file_has(dir, k1), 1, "seen after add");
	is_int(seen_file_has(dir, k2), 0, "other digest not seen");
	snprintf(path, sizeof path, "%s/proxy-seen.key", dir);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == 32,
	   "the secret: 32 bytes, mode 0600");

	/* Planted records: the bare digest, and the record another mailbox
	 * (another secret) keeps for the same message. Neither matches. */
	snprintf(other, sizeof other, "%s/other", dir);
	if (mkdir(other, 0700) < 0)
		bail("mkdir %s: %s", other, strerror(errno));
	ok(seen_file_add(other, k2) == 0 && seen_file_has(other, k2) == 1, "another mailbox records k2");
	snprintf(path, sizeof path, "%s/proxy-seen", other);
	if ((in = fopen(path, "r")) == NULL || fgets(line, sizeof line, in) == NULL)
		bail("%s: %s", path, strerror(errno));
	fclose(in);
	snprintf(path, sizeof path, "%s/proxy-seen", dir);
	if ((fp = fopen(path, "a")) == NULL)
		bail("%s: %s", path, strerror(errno));
	fprintf(fp, "%s%s\n", line, k2);
	fclose(fp);
	is_int(seen_file_has(dir, k2), 0,
	       "planted records (the digest, another secret's record) suppress no copy");

	/* a full index: the next add keeps the newest half */
	if (unlink(path) < 0)
		bail("unlink %s: %s", path, strerror(errno));
	for (int i = 0; i < SEEN_MAX_RECORDS; i++) {
		char u[32];
		snprintf(u, sizeof u, "U%d", i);
		seen_key("acct", u, rec);
		if (seen_file_add(dir, rec) < 0)
			bail("seen_file_add %d: %s", i, strerror(errno));
	}
	ok(seen_file_add(dir, k2) == 0, "add to a full index");
	ok(stat(path, &st) == 0 &&
	       st.st_size == (off_t)(SEEN_MAX_RECORDS / 2 + 1) * (SEEN_KEY_LEN + 1),
	   "pruned to half plus the new record");
	seen_key("acct", "U0", rec);
	is_int(seen_file_has(dir, rec), 0, "oldest record dropped");
	seen_key("acct", "U49999", rec);
	is_int(seen_file_has(dir, rec), 1, "newest old record kept");
	is_int(seen_file_has(dir, k2), 1, "new record present");
}

/* The hand-off refuses, before anything else, when the proxy is off or
 * the client is not on TLS (a caller bug must not relay a credential sent
 * in clear). */
static void handoff_case(int enabled, int pop3, const char *want, const char *name)
{
	struct frontend fe;
	struct stream *s;
	char got[256] = "";
	int sv[2], rc;
	ssize_t n;

	memset(&fe, 0, sizeof fe);
	if (config_defaults(&fe.app.cfg) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		bail("set-up: %s", strerror(errno));
	fe.app.cfg.proxy.enabled = enabled;
	if ((s = stream_new(sv[0], sv[0], 2000)) == NULL)
		bail("stream_new: %s", strerror(errno));
	fe.app.cfg.pop3.login_failure_delay = 0;
	rc = pop3 ? proxy_pop3_takeover(s, &fe, "192.0.2.1", "u%127.0.0.1%abcdefghijklmnop", "pw",
	                                2, PROXY_POP3_USER_PASS)
	          : proxy_smtp_takeover(s, &fe, "192.0.2.1", "u%127.0.0.1%abcdefghijklmnop", "pw", 2);
	(void)stream_flush(s);
	n = read(sv[1], got, sizeof got - 1);
	got[n > 0 ? n : 0] = '\0';
	got[strcspn(got, "\r\n")] = '\0';
	ok(rc == PROXY_REFUSED && strncmp(got, want, strlen(want)) == 0, "%s (%s)", name, got);
	close(sv[0]);
	close(sv[1]);
	config_free(&fe.app.cfg);
	stream_free(s);
}

static void test_handoff(void)
{
	handoff_case(0, 0, "535 5.7.8", "SMTP hand-off with the proxy disabled");
	handoff_case(1, 0, "530 5.7.0", "SMTP hand-off of a client not on TLS");
	handoff_case(0, 1, "-ERR [AUTH] Authentication failed", "POP3 hand-off with the proxy disabled");
	handoff_case(1, 1, "-ERR [PRIVACY]", "POP3 hand-off of a client not on TLS");
}

int main(void)
{
	plan_lazy();
	test_login();
	test_allowed();
	test_special();
	test_target_ca();
	test_sasl();
	test_dot();
	test_dot_eof();
	test_seen();
	test_handoff();
	return done_testing();
}
