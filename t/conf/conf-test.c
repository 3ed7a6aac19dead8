/* Unit tests for src/conf: defaults, good files, and every kind of bad one
 * naming the file, line and key. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "t/tap.h"
#include "util/log.h"

static const char *write_conf(const char *name, const char *text)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", t_tmpdir(), name);
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		bail("cannot write %s", path);
	return path;
}

static void test_defaults(void)
{
	struct config c;

	ok(config_defaults(&c) == 0, "defaults load");
	is_int(c.smtp.max_message_size, 157286400, "default smtp.max_message_size is 150 MiB");
	is_int(c.smtp.require_tls, 1, "default smtp.require_tls is true");
	is_int(c.smtp.max_recipients, 100, "default smtp.max_recipients");
	is_int(c.pop3.login_failure_delay, 2000, "default pop3.login_failure_delay is 2 s");
	is_int(c.proxy.enabled, 0, "default proxy.enabled is false (default-deny)");
	is_int(c.crypt.scrypt_log_n, 10, "default crypt.scrypt_log_n (generated passwords: 128 bits)");
	is_int(c.crypt.max_unseals, 0, "default crypt.max_unseals: the number of cores");
	is_int(c.pop3.login_timeout, 60, "default pop3.login_timeout is 60 s");
	is_int(c.pop3.max_messages, 1000000, "default pop3.max_messages");
	is_int(c.server.max_connections_per_source, 16, "default server.max_connections_per_source");
	is_int(c.acme.challenge_port, 80, "default acme.challenge_port");
	is_int(c.log_level, LOG_LVL_INFO, "default log_level is info");
	is_int(c.tls.min_version, 12, "default TLS minimum is 1.2");
	ok(c.domain && *c.domain, "default domain is set (host name)");
	config_free(&c);
}

static void test_good(void)
{
	struct config c;
	char err[512];
	const char *p = write_conf("good.conf",
		"domain = \"archive.example\";\n"
		"data_dir = \"/srv/msgw\";\n"
		"log_level = \"debug\";\n"
		"smtp = {\n  max_message_size = 10485760L;\n  require_tls = false;\n"
		"  allowed_networks = [ \"192.0.2.0/24\", \"2001:db8::/32\" ];\n};\n"
		"tls = { min_version = \"1.3\"; };\n"
		"proxy = { allowed_targets = [ \"*.example.com\" ]; };\n");

	if (!ok(config_load(&c, p, err, sizeof err) == 0, "a good file loads"))
		diag("%s", err);
	is_str(c.domain, "archive.example", "domain read");
	is_str(c.data_dir, "/srv/msgw", "data_dir read");
	is_int(c.log_level, LOG_LVL_DEBUG, "log_level read");
	is_int(c.smtp.max_message_size, 10485760, "64-bit integer read");
	is_int(c.smtp.require_tls, 0, "boolean read");
	is_int((long long)c.smtp.n_networks, 2, "networks parsed");
	ok(c.smtp.n_networks == 2 && cidr_match(&c.smtp.networks[1], "2001:db8::1"), "IPv6 network usable");
	is_int(c.tls.min_version, 13, "TLS 1.3 minimum read");
	is_int((long long)c.proxy.allowed_targets.n, 1, "string list read");
	is_int(c.smtp.max_recipients, 100, "unset keys keep their defaults");
	is_str(c.path, p, "the path is remembered");
	config_free(&c);

	p = write_conf("minimal.conf", "domain = \"d.example\";\ndata_dir = \"/var/lib/msgw\";\n");
	ok(config_load(&c, p, err, sizeof err) == 0, "a file with only domain and data_dir loads");
	config_free(&c);
	p = write_conf("empty.conf", "");
	ok(config_load(&c, p, err, sizeof err) == 0, "an empty file loads (all defaults)");
	config_free(&c);
}

static void bad(const char *name, const char *text, const char *want)
{
	struct config c;
	char err[512];
	const char *p = write_conf(name, text);
	char prefix[600];

	ok(config_load(&c, p, err, sizeof err) < 0, "%s: refused", name);
	snprintf(prefix, sizeof prefix, "%s:%s", p, want);
	if (!ok(strncmp(err, prefix, strlen(prefix)) == 0, "%s: message '%s'", name, err))
		diag("wanted prefix: %s", prefix);
}

static void test_bad(void)
{
	struct config c;
	char err[512];

	bad("unknown.conf", "domain = \"x\";\n\nsmtp = {\n  max_recipent = 5;\n};\n",
	    "4: smtp.max_recipent: unknown key");
	bad("unknown-top.conf", "colour = \"blue\";\n", "1: colour: unknown key");
	bad("unknown-section.conf", "smtpd = { a = 1; };\n", "1: smtpd.a: unknown key");
	bad("type.conf", "smtp = {\n require_tls = \"yes\";\n};\n", "2: smtp.require_tls: must be true or false");
	bad("type-int.conf", "smtp = { max_recipients = \"many\"; };\n", "1: smtp.max_recipients: must be an integer");
	bad("range.conf", "\ncrypt = { scrypt_log_n = 40; };\n", "2: crypt.scrypt_log_n: 40 is out of range");
	bad("level.conf", "log_level = \"loud\";\n", "1: log_level: must be one of");
	bad("cidr.conf", "smtp = { allowed_networks = [ \"10.0.0.0/40\" ]; };\n",
	    "1: smtp.allowed_networks: \"10.0.0.0/40\" is not an address");
	bad("target-ca.conf", "proxy = { target_ca_files = [ \"mail.example.com\" ]; };\n",
	    "1: proxy.target_ca_files: \"mail.example.com\" is not PATTERN=/absolute/path/to/ca.pem");
	bad("list.conf", "proxy = { allowed_targets = \"a\"; };\n", "1: proxy.allowed_targets: must be a list");
	bad("relative.conf", "data_dir = \"relative/dir\";\n", "1: data_dir: must be an absolute path");
	bad("empty-domain.conf", "domain = \"\";\n", "1: domain: must not be empty");
	bad("syntax.conf", "domain = \"x\";\nsmtp = { a = ; };\n", "2: syntax error");
	ok(config_load(&c, "/nonexistent/msgw.conf", err, sizeof err) < 0, "a missing file is refused");
	is_str(err, "/nonexistent/msgw.conf: cannot open: No such file or directory", "missing file message");
}

static void test_pick(void)
{
	unsetenv("MSGW_CONFIG");
	is_str(config_pick_path(NULL), MSGW_DEFAULT_CONFIG, "default path without -c or MSGW_CONFIG");
	setenv("MSGW_CONFIG", "/env/msgw.conf", 1);
	is_str(config_pick_path(NULL), "/env/msgw.conf", "MSGW_CONFIG used");
	is_str(config_pick_path("/cli.conf"), "/cli.conf", "-c wins over MSGW_CONFIG");
	unsetenv("MSGW_CONFIG");
}

/* man/msgw.conf.5 documents every key the code knows. */
static void test_man(void)
{
	char path[4096], *text = NULL;
	size_t n = 0, missing = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/../man/msgw.conf.5", t_srcdir());
	if ((f = fopen(path, "r")) == NULL) {
		ok(0, "man/msgw.conf.5 readable");
		return;
	}
	text = calloc(1, 1 << 20);
	n = text ? fread(text, 1, (1 << 20) - 1, f) : 0;
	fclose(f);
	for (size_t i = 0; config_key_name(i); i++) {
		const char *k = config_key_name(i), *dot = strchr(k, '.');
		char want[128];

		/* The page shows keys by section: ".SS section" then ".B name". */
		snprintf(want, sizeof want, ".B %s\n", dot ? dot + 1 : k);
		if (n == 0 || strstr(text, want) == NULL) {
			diag("msgw.conf.5 does not document %s", k);
			missing++;
		}
	}
	ok(missing == 0, "msgw.conf.5 documents every configuration key");
	free(text);
}

int main(void)
{
	plan_lazy();
	test_defaults();
	test_good();
	test_bad();
	test_pick();
	test_man();
	return done_testing();
}
