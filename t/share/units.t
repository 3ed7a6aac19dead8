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
done_testing
