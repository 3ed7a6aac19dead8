#!/bin/sh
# Run the SMTP parsers' libFuzzer target for a bounded number of inputs
# from a small seed corpus (configure --enable-fuzzing).
b=${MSGW_BUILDDIR:-.}
f=$b/t/smtp/fuzz-smtp
echo 1..1
if [ ! -x "$f" ]; then
	echo "ok 1 # SKIP $f not built (configure --enable-fuzzing)"
	exit 0
fi
dir=$(mktemp -d -p "${TMPDIR:-/tmp}") || exit 1
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/corpus"
printf '\000MAIL FROM:<a@b.example> SIZE=100 BODY=8BITMIME SMTPUTF8\r\n' >"$dir/corpus/mail"
printf '\000RCPT TO:<@r.example:abcdefghijklmnop+tag@mail.test>\r\n' >"$dir/corpus/rcpt"
printf '\000BDAT 1000 LAST\r\n' >"$dir/corpus/bdat"
printf '\001Subject: x\r\n\r\n..dot\n.\nbare\r.\r\nend\r\n.\r\nQUIT\r\n' >"$dir/corpus/data"
if "$f" -runs=200000 -max_len=2048 -max_total_time=60 -artifact_prefix="$dir/" "$dir/corpus" >"$dir/log" 2>&1; then
	echo "ok 1 - fuzz-smtp: 200000 inputs, no crash"
else
	sed 's/^/# /' "$dir/log" | tail -30
	echo "not ok 1 - fuzz-smtp found a crash"
fi
