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
done_testing
