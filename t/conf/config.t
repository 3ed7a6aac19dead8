#!/bin/sh
# Programs refuse a bad configuration with one clear message naming the
# file, line and key, and exit 78 (EX_CONFIG).
. "${MSGW_SRCDIR:-.}/t/lib.sh"
t_tmpdir
printf 'domain = "x.example";\nsmtp = {\n  max_recipent = 5;\n};\n' > "$T/unknown.conf"
printf 'smtp = {\n  require_tls = 1;\n};\n' > "$T/type.conf"
printf 'pop3 = {\n  login_failure_delay = -5;\n};\n' > "$T/value.conf"
for p in msgw-smtp msgw-pop3 msgw-mbox msgw-acme; do
	case $p in msgw-mbox) args=list ;; msgw-acme) args=status ;; *) args= ;; esac
	err=$("$p" -c "$T/unknown.conf" $args 2>&1 </dev/null); rc=$?
	is "$rc" 78 "$p: unknown key exits 78"
	is "$err" "$p: $T/unknown.conf:3: smtp.max_recipent: unknown key" "$p: unknown key message"
	err=$("$p" -c "$T/type.conf" $args 2>&1 </dev/null); rc=$?
	is "$rc" 78 "$p: wrong type exits 78"
	is "$err" "$p: $T/type.conf:2: smtp.require_tls: must be true or false" "$p: wrong type message"
	err=$("$p" -c "$T/value.conf" $args 2>&1 </dev/null); rc=$?
	is "$rc" 78 "$p: bad value exits 78"
	is "$err" "$p: $T/value.conf:2: pop3.login_failure_delay: -5 is out of range (0 to 60000)" "$p: bad value message"
	err=$("$p" -c "$T/missing.conf" $args 2>&1 </dev/null); rc=$?
	is "$rc" 78 "$p: missing file exits 78"
	is "$err" "$p: $T/missing.conf: cannot open: No such file or directory" "$p: missing file message"
done
err=$(MSGW_CONFIG="$T/unknown.conf" msgw-smtp 2>&1 </dev/null); rc=$?
is "$rc" 78 "MSGW_CONFIG is honoured"
err=$(msgw-proxy -c "$T/unknown.conf" smtp 2>&1 </dev/null); rc=$?
is "$rc" 78 "msgw-proxy: unknown key exits 78"
err=$(msgw-proxy smtp --foreground -c "$T/missing.conf" 2>&1 </dev/null); rc=$?
is "$rc" 78 "msgw-proxy: options after the service name are parsed (as in its synopsis)"
err=$(msgw-proxy nosuch -c "$T/missing.conf" 2>&1 </dev/null); rc=$?
is "$rc" 64 "msgw-proxy: an unknown service is a usage error"
# default-deny: an enabled proxy must name its upstreams
printf 'domain = "x.example";\nproxy = {\n  enabled = true;\n};\n' > "$T/open.conf"
printf 'proxy = {\n  enabled = true;\n  allowed_targets = [ ];\n};\n' > "$T/empty.conf"
printf 'proxy = {\n  allowed_networks = [ "10.0.0.0/8", "nonsense" ];\n};\n' > "$T/pnet.conf"
printf 'proxy = {\n  enabled = true;\n  allowed_targets = [ "mail.example.org",\n    "relay.example.org:99999" ];\n};\n' > "$T/ptgt.conf"
for p in msgw-smtp msgw-pop3; do
	err=$("$p" -c "$T/open.conf" 2>&1 </dev/null); rc=$?
	is "$rc" 78 "$p: proxy.enabled without allowed_targets exits 78"
	is "$err" "$p: $T/open.conf:3: proxy.allowed_targets: must list at least one upstream server when proxy.enabled is true" \
		"$p: the message names file, line (of proxy.enabled) and key"
done
err=$(msgw-proxy -c "$T/empty.conf" pop3 2>&1 </dev/null); rc=$?
is "$rc" 78 "msgw-proxy: an empty proxy.allowed_targets exits 78"
is "$err" "msgw-proxy: $T/empty.conf:3: proxy.allowed_targets: must list at least one upstream server when proxy.enabled is true" \
	"msgw-proxy: the message names the line of the empty list"
err=$(msgw-smtp -c "$T/pnet.conf" 2>&1 </dev/null); rc=$?
is "$rc" 78 "proxy.allowed_networks: a bad prefix exits 78"
is "$err" "msgw-smtp: $T/pnet.conf:2: proxy.allowed_networks: \"nonsense\" is not an address or address/prefix" \
	"proxy.allowed_networks: the message names the entry"
err=$(msgw-pop3 -c "$T/ptgt.conf" 2>&1 </dev/null); rc=$?
is "$rc" 78 "proxy.allowed_targets: a bad pattern exits 78"
is "$err" "msgw-pop3: $T/ptgt.conf:3: proxy.allowed_targets: \"relay.example.org:99999\" is not HOST, HOST:PORT or HOST:* (IPv6 in brackets with a port)" \
	"proxy.allowed_targets: the message names the entry"
done_testing
