#!/bin/sh
# The proxy parsers' libFuzzer target (configure --enable-fuzzing) for a
# bounded number of inputs from a small seed corpus.
b=${MSGW_BUILDDIR:-.}
f=$b/t/proxy/fuzz-proxy
echo 1..1
if [ ! -x "$f" ]; then
	echo "ok 1 # SKIP $f not built (configure --enable-fuzzing)"
	exit 0
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/msgw-fuzz-proxy.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/corpus"
printf '\000alice@example.com%%mail.example.com:587%%abcdefghijklmnop' >"$dir/corpus/login"
printf '\000u%%[2001:db8::1]:995%%ABCDEFGHIJKLMNOP' >"$dir/corpus/login6"
printf '\001AHUlaCVtAHBhIHNz' >"$dir/corpus/plain"
printf '\002Subject: x\r\n\r\n..dot\n.\rx\r\n.\r\nQUIT\r\n' >"$dir/corpus/dot"
if "$f" -runs=200000 -max_len=4096 -max_total_time=30 -artifact_prefix="$dir/" "$dir/corpus" >"$dir/log" 2>&1; then
	grep -E "^Done [0-9]+ runs" "$dir/log" | sed "s/^/# /"
	echo "ok 1 - fuzz-proxy: up to 200000 inputs (30 s at most), no crash"
else
	sed 's/^/# /' "$dir/log" | tail -30
	echo "not ok 1 - fuzz-proxy found a crash"
fi
