#!/bin/sh
# Every program: --help (usage on stdout, exit 0), --version, and an
# unknown flag (usage on stderr, exit 64).
. "${MSGW_SRCDIR:-.}/t/lib.sh"
for p in msgw-smtp msgw-pop3 msgw-proxy msgw-mbox msgw-acme; do
	out=$("$MSGW_BUILDDIR/src/$p" --help 2>/dev/null); rc=$?
	is "$rc" 0 "$p --help exits 0"
	like "$out" "Usage: $p" "$p --help prints usage on stdout"
	out=$("$MSGW_BUILDDIR/src/$p" --version 2>/dev/null); rc=$?
	is "$rc" 0 "$p --version exits 0"
	like "$out" "$p (msgw)" "$p --version names the program"
	err=$("$MSGW_BUILDDIR/src/$p" --no-such-flag 2>&1 >/dev/null); rc=$?
	is "$rc" 64 "$p with an unknown flag exits 64 (EX_USAGE)"
	like "$err" "Usage: $p" "$p with an unknown flag prints usage on stderr"
done
done_testing
