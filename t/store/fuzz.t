#!/bin/sh
# The store's libFuzzer target (Maildir names, mailbox.conf, the text
# check, the dedup window) for a bounded number of inputs (configure --enable-fuzzing).
. "${MSGW_SRCDIR:-.}/t/lib.sh"
t_tmpdir
mkdir "$T/seeds"
printf '\0001700000000.R0123456789abcdefP42.host,S=120,W=99:2,S' >"$T/seeds/name"
printf '\001Journal \342\234\223 box' >"$T/seeds/text"
printf '\003msgw-lock1 gw-a.example 4242 77 0123456789abcdef 60\n' >"$T/seeds/lock"
printf '\002id = "abcdefghijkmn234";\nname = "n";\ndescription = "";\nstatus = "active";\ncreated = 1L;\nallowed_networks = [ "192.0.2.0/24" ];\n' >"$T/seeds/conf"
printf '\002id = "abcdefghijkmn234";\nname = "n";\nstatus = "active";\nescrow_recipient = "none";\ndedup_window = 604800L;\n' >"$T/seeds/conf-dedup"
printf '\0047d' >"$T/seeds/window"
# -detect_leaks=0: libconfig 1.5 leaks a string buffer on some syntax
# errors (strbuf_append); the store's own leaks are caught by store-test
# and the end-to-end tests under LeakSanitizer.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
export ASAN_OPTIONS
fuzz_run fuzz-store "$MSGW_BUILDDIR/t/store/fuzz-store" "$T/seeds" \
	-runs=30000 -max_len=2048 -max_total_time=60 -detect_leaks=0
done_testing
