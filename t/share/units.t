#!/bin/sh
# The systemd units in share/: each template fills in to a unit that
# systemd-analyze accepts with nothing to say, every socket has its
# service, and every ExecStart is a command line the program accepts.
. "${MSGW_SRCDIR:-.}/t/lib.sh"
t_tmpdir
S=$MSGW_SRCDIR/share
for f in "$S"/*.in; do
	sed -e "s|@sbindir@|$MSGW_BUILDDIR/src|g" -e 's|@localstatedir@|/var|g' \
		-e 's|@sysconfdir@|/etc|g' "$f" > "$T/$(basename "$f" .in)"
done
cp "$S"/*.socket "$S"/*.timer "$T"/
for u in "$T"/*.socket "$T"/*.timer; do
	name=$(basename "$u")
	out=$(cd "$T" && systemd-analyze verify --man=no "./$name" 2>&1)
	is "$out" "" "$name: systemd-analyze verify has nothing to say"
done
for s in "$T"/*.socket; do
	name=$(basename "$s" .socket)
	[ -f "$T/$name@.service" ]; ok $? "$name.socket has $name@.service (Accept=yes)"
	grep -q '^Accept=yes' "$s"; ok $? "$name.socket: one service per connection"
done
# The check below must be able to fail: a bad service name or option
# with --help is refused.
msgw-proxy smpt --help >/dev/null 2>&1
is "$?" 64 "msgw-proxy smpt --help: an unknown service is refused (64)"
msgw-smtp --no-such-option --help >/dev/null 2>&1
is "$?" 64 "msgw-smtp --no-such-option --help: an unknown option is refused (64)"
# Users as msgw(7), SECURITY, says: the front ends start as root only to
# split (CAP_SETUID CAP_SETGID), msgw-acme runs as root; none keeps a core.
unit_key() { sed -n "s/^$2=//p" "$1" | tail -n 1; }
for svc in "$T"/*.service; do
	name=$(basename "$svc")
	is "$(unit_key "$svc" User)" root "$name: User=root (splits into msgw and the parser's user)"
	is "$(unit_key "$svc" Group)" root "$name: Group=root"
	is "$(unit_key "$svc" LimitCORE)" 0 "$name: LimitCORE=0"
	is "$(unit_key "$svc" NoNewPrivileges)" yes "$name: NoNewPrivileges=yes"
	case $name in
	*acme* | *metrics*) ;;   # root tasks, not network parsers: their own sets
	*) is "$(unit_key "$svc" CapabilityBoundingSet)" "CAP_SETUID CAP_SETGID" \
		"$name: only the capabilities to drop to the users" ;;
	esac
done
for svc in "$T"/*.service; do
	exec_line=$(sed -n 's/^ExecStart=//p' "$svc")
	# the same words with --help: accepted options and service name
	# shellcheck disable=SC2086
	$exec_line --help >/dev/null 2>&1
	ok $? "$(basename "$svc"): ExecStart is a valid command line ($exec_line)"
	case $svc in *acme* | *metrics*) continue ;; esac
	grep -q '^StandardInput=socket' "$svc"; ok $? "$(basename "$svc"): the connection is fds 0/1"
	grep -q '^StandardError=journal' "$svc"; ok $? "$(basename "$svc"): logs go to the journal, not the client"
done
# The users and data_dir shipped for systemd-sysusers and tmpfiles.
for u in msgw msgw-smtp msgw-pop3; do
	grep -Eq "^u $u +- " "$S/msgw.sysusers"; ok $? "msgw.sysusers creates the user $u"
done
grep -Eq '^u [^ ]+ .* / /usr/sbin/nologin$' "$S/msgw.sysusers"; ok $? "msgw.sysusers: no home, no login shell"
is "$(grep -Ec '^u ' "$S/msgw.sysusers")" 3 "msgw.sysusers: three users, nothing else"
grep -Eq '^d @localstatedir@/lib/msgw +0711 msgw msgw' "$S/msgw.tmpfiles.in"; ok $? "msgw.tmpfiles: data_dir 0711 msgw:msgw"
grep -Eq '^d @localstatedir@/lib/msgw/mailboxes +0711 msgw msgw' "$S/msgw.tmpfiles.in"
ok $? "msgw.tmpfiles: mailboxes/ 0711 msgw:msgw"
done_testing
