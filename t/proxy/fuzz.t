#!/bin/sh
# The proxy parsers' libFuzzer target (configure --enable-fuzzing) for a
# bounded number of inputs from a small seed corpus.
. "${MSGW_SRCDIR:-.}/t/lib.sh"
f=${MSGW_BUILDDIR:-.}/t/proxy/fuzz-proxy
if [ ! -x "$f" ]; then
	skip "$f not built (configure --enable-fuzzing)" "fuzz-proxy"
	done_testing
fi
t_tmpdir
mkdir "$T/corpus"
printf '\000alice@example.com%%mail.example.com:587%%abcdefghijklmnop' >"$T/corpus/login"
printf '\000u%%[2001:db8::1]:995%%ABCDEFGHIJKLMNOP' >"$T/corpus/login6"
printf '\001AHUlaCVtAHBhIHNz' >"$T/corpus/plain"
printf '\002Subject: x\r\n\r\n..dot\n.\rx\r\n.\r\nQUIT\r\n' >"$T/corpus/dot"
"$f" -runs=200000 -max_len=4096 -max_total_time=30 -artifact_prefix="$T/" "$T/corpus" >"$T/log" 2>&1
rc=$?
ok $rc "fuzz-proxy: up to 200000 inputs (30 s at most), no crash"
if [ $rc -ne 0 ]; then
	tail -30 "$T/log" | sed 's/^/# /'
else
	grep -E '^Done [0-9]+ runs' "$T/log" | sed 's/^/# /'
fi
done_testing
