#!/bin/sh
# Run the POP3 codec's libFuzzer target (base64, byte-stuffing) for a
# bounded number of inputs from a small seed corpus (configure
# --enable-fuzzing).
b=${MSGW_BUILDDIR:-.}
f=$b/t/pop3/fuzz-pop3
echo 1..1
if [ ! -x "$f" ]; then
	echo "ok 1 # SKIP $f not built (configure --enable-fuzzing)"
	exit 0
fi
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/corpus"
printf '\000AHVzZXIAcGFzcw==' >"$dir/corpus/b64"
printf '\001Subject: x\r\n\r\n..dot\n.\nbare\r.\r\nend' >"$dir/corpus/stuff"
printf '\002\001Subject: x\n\r\n\nl1\r\nl2\n' >"$dir/corpus/top"
if "$f" -runs=200000 -max_len=2048 -max_total_time=60 -artifact_prefix="$dir/" "$dir/corpus" >"$dir/log" 2>&1; then
	echo "ok 1 - fuzz-pop3: 200000 inputs, no crash"
else
	sed 's/^/# /' "$dir/log" | tail -30
	echo "not ok 1 - fuzz-pop3 found a crash"
fi
