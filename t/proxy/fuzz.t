#!/bin/sh
# The proxy parsers' libFuzzer target (configure --enable-fuzzing) for a
# bounded number of inputs from a small seed corpus.
. "${MSGW_SRCDIR:-.}/t/lib.sh"
t_tmpdir
mkdir "$T/seeds"
printf '\000alice@example.com%%mail.example.com:587%%abcdefghijklmnop' >"$T/seeds/login"
printf '\000u%%[2001:db8::1]:995%%ABCDEFGHIJKLMNOP' >"$T/seeds/login6"
printf '\001AHUlaCVtAHBhIHNz' >"$T/seeds/plain"
printf '\002Subject: x\r\n\r\n..dot\n.\rx\r\n.\r\nQUIT\r\n' >"$T/seeds/dot"
printf '\003Subject: x\r\n\r\n.a\n.\nMAIL FROM:<x>\r\n..\r\n.\r\nQUIT\r\n' >"$T/seeds/data"
fuzz_run fuzz-proxy "$MSGW_BUILDDIR/t/proxy/fuzz-proxy" "$T/seeds" \
	-runs=200000 -max_len=4096 -max_total_time=30
done_testing
