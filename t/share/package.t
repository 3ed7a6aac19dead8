#!/bin/sh
# The Debian package, as an administrator gets it: built with
# dpkg-buildpackage from a clean clone of this checkout's HEAD, checked
# with lintian (no error), installed into this machine with apt, then
# checked (users, data_dir modes, units, conffile, certificate, nothing
# enabled, msgw-mbox status runs), removed (data kept) and purged (what it
# removes is said). The machine is left as it was: users the package
# created are deleted again at the end.
. "${MSGW_SRCDIR:-.}/t/lib.sh"
t_tmpdir
start=$(date +%s)

why_skip() {
	[ -z "${MSGW_PACKAGE_BUILD:-}" ] || { echo "inside the package's own build"; return; }
	[ "$(id -u)" = 0 ] || { echo "needs root (installs a package)"; return; }
	[ -d "$MSGW_SRCDIR/.git" ] || [ -f "$MSGW_SRCDIR/.git" ] || { echo "not a git checkout"; return; }
	for c in git dpkg-buildpackage lintian apt-get systemd-analyze; do
		command -v "$c" >/dev/null || { echo "$c missing"; return; }
	done
	dpkg-query -W -f '${Status}' msgw 2>/dev/null | grep -q 'installed' &&
		{ echo "msgw is installed on this machine"; return; }
	for p in /etc/msgw /var/lib/msgw; do
		[ -e "$p" ] && { echo "$p exists: the test would not leave the machine as it was"; return; }
	done
}
reason=$(why_skip)
if [ -n "$reason" ]; then
	skip "$reason" "Debian package"
	done_testing
fi

USERS="msgw msgw-smtp msgw-pop3"
new_users=""
for u in $USERS; do
	getent passwd "$u" >/dev/null || new_users="$new_users $u"
done
# Deleted at the end only if the package made them (their GECOS is the
# one in share/msgw.sysusers), not if anything else did meanwhile.
package_made() {
	gecos=$(getent passwd "$1" | cut -d: -f5)
	[ -n "$gecos" ] && grep -q "^u $1 .*\"$gecos\"" "$MSGW_SRCDIR/share/msgw.sysusers"
}
apt_get() {
	DEBIAN_FRONTEND=noninteractive timeout 1200 apt-get -q -y -o DPkg::Lock::Timeout=900 "$@"
}
restore_machine() {
	if dpkg-query -W -f '${Status}' msgw 2>/dev/null | grep -q 'installed\|config-files'; then
		apt_get purge msgw >/dev/null 2>&1
	fi
	rm -rf /var/lib/msgw
	for u in $new_users; do
		package_made "$u" || continue
		userdel "$u"
		getent group "$u" >/dev/null && groupdel "$u"
	done
}
at_exit restore_machine

# Build from a clean clone of HEAD: only what is committed goes in.
git clone -q "$MSGW_SRCDIR" "$T/src"
ok $? "clean clone of HEAD"
# Not the make variables of the make check running this test (its TESTS=
# would reach the package's own make check), and never this test again.
(cd "$T/src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES MSGW_PACKAGE_BUILD=1 \
	timeout 1200 dpkg-buildpackage -us -uc -b) > "$T/build.log" 2>&1
ok $? "dpkg-buildpackage -us -uc -b builds the package" || tail -30 "$T/build.log" | sed 's/^/# /'
deb=$(ls "$T"/msgw_*.deb 2>/dev/null | head -1)
[ -n "$deb" ]; ok $? "a msgw_*.deb was made"
[ -n "$deb" ] || done_testing
diag "built in $(($(date +%s) - start)) s"

lintian --fail-on error "$deb" > "$T/lintian.log" 2>&1
ok $? "lintian reports no error" || sed 's/^/# /' "$T/lintian.log"
grep '^E:' "$T/lintian.log" | sed 's/^/# /'

apt_get install "$deb" > "$T/install.log" 2>&1
ok $? "apt-get install ./msgw_*.deb" || tail -30 "$T/install.log" | sed 's/^/# /'

# Users: no login shell, no home.
for u in $USERS; do
	ent=$(getent passwd "$u")
	ok $? "user $u exists"
	shell=$(echo "$ent" | cut -d: -f7)
	like "$shell" nologin "user $u has no login shell"
	getent group "$u" >/dev/null
	ok $? "group $u exists"
done

# data_dir: only msgw enters it and lists the mailboxes.
is "$(stat -c '%a %U:%G' /var/lib/msgw 2>&1)" "711 msgw:msgw" "data_dir /var/lib/msgw is 0711 msgw:msgw (msgw-store(5))"
is "$(stat -c '%a %U:%G' /var/lib/msgw/mailboxes 2>&1)" "711 msgw:msgw" "mailboxes/ is 0711 msgw:msgw"

# The configuration is a conffile; a certificate was made for it.
like "$(dpkg-query -W -f '${Conffiles}' msgw)" "/etc/msgw/msgw.conf" "/etc/msgw/msgw.conf is a conffile"
cmp -s /etc/msgw/msgw.conf "$MSGW_SRCDIR/share/msgw.conf.example"
ok $? "/etc/msgw/msgw.conf is the example configuration"
msgw-acme -c /etc/msgw/msgw.conf status > "$T/acme.txt" 2>&1
ok $? "msgw-acme status: the self-signed certificate made at installation is valid" ||
	sed 's/^/# /' "$T/acme.txt"
is "$(stat -c '%a %U:%G' /etc/msgw/tls/key.pem 2>&1)" "600 root:root" "the key is root's only (read before the front ends drop)"

# Units: every one in share/ installed, each verified, none enabled.
for f in "$MSGW_SRCDIR"/share/*.socket "$MSGW_SRCDIR"/share/*.timer "$MSGW_SRCDIR"/share/*.service.in; do
	u=$(basename "$f" .in)
	[ -f "/lib/systemd/system/$u" ]; ok $? "unit $u installed"
done
for u in /lib/systemd/system/msgw-*.socket /lib/systemd/system/msgw-*.timer; do
	out=$(systemd-analyze verify --man=no "$u" 2>&1)
	is "$out" "" "systemd-analyze verify $(basename "$u") has nothing to say"
done
enabled=$(find /etc/systemd/system -name 'msgw-*' 2>/dev/null)
is "$enabled" "" "no msgw unit is enabled: no port opens until the administrator chooses"
# (other tests may run their own msgw servers from the build tree)
running=$(for e in /proc/[0-9]*/exe; do readlink "$e" 2>/dev/null; done | grep '^/usr/sbin/msgw-')
is "$running" "" "no installed msgw program runs"

# The administrator's first command works on the installed configuration.
out=$(msgw-mbox -c /etc/msgw/msgw.conf status 2>&1)
rc=$?
[ $rc -le 2 ]; ok $? "msgw-mbox -c /etc/msgw/msgw.conf status runs (exit $rc)"
like "$out" "MSGW " "status prints its one-line summary"
diag "$out"
like "$out" "data_dir /var/lib/msgw writable" "status finds data_dir writable"

# A mailbox, made as the store's user: removing keeps it, purging too.
# As msgw-setup(7) says: root runs msgw-mbox, which works as data_dir's owner.
msgw-mbox -c /etc/msgw/msgw.conf create keep --json > "$T/create.json" 2>&1
ok $? "msgw-mbox create as root" || sed 's/^/# /' "$T/create.json"
is "$(stat -c '%U:%G' /var/lib/msgw/mailboxes/* 2>&1)" "msgw:msgw" "the new mailbox belongs to msgw"
apt_get remove msgw > "$T/remove.log" 2>&1
ok $? "apt-get remove msgw"
[ ! -e /usr/sbin/msgw-smtp ]; ok $? "removing removes the programs"
[ -f /etc/msgw/msgw.conf ] && [ -n "$(ls -A /var/lib/msgw/mailboxes)" ]
ok $? "removing keeps the configuration and the data"
apt_get purge msgw > "$T/purge.log" 2>&1
ok $? "apt-get purge msgw"
like "$(cat "$T/purge.log")" "kept /var/lib/msgw: it still holds mailboxes" "purging names the data it keeps"
like "$(cat "$T/purge.log")" "removed /etc/msgw/tls/key.pem" "purging says it removes the certificate"
[ ! -e /etc/msgw ]; ok $? "purging removes /etc/msgw"

# Once the mailboxes are gone, purging removes data_dir and says so.
rm -rf /var/lib/msgw/mailboxes/*
apt_get install "$deb" > "$T/install2.log" 2>&1
ok $? "installs again over the kept data_dir"
apt_get purge msgw > "$T/purge2.log" 2>&1
like "$(cat "$T/purge2.log")" "removed /var/lib/msgw (no mailbox in it)" "purging an empty data_dir says it removes it"
[ ! -e /var/lib/msgw ] && [ ! -e /etc/msgw ]; ok $? "nothing of msgw is left in /etc or /var/lib"

diag "package test took $(($(date +%s) - start)) s"
done_testing
