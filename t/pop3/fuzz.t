#!/bin/sh
# The POP3 codec's libFuzzer target (base64, byte-stuffing) for a bounded
# number of inputs from a small seed corpus (configure --enable-fuzzing).
. "${MSGW_SRCDIR:-.}/t/lib.sh"
t_tmpdir
mkdir "$T/seeds"
printf '\000AHVzZXIAcGFzcw==' >"$T/seeds/b64"
printf '\001Subject: x\r\n\r\n..dot\n.\nbare\r.\r\nend' >"$T/seeds/stuff"
printf '\002\001Subject: x\n\r\n\nl1\r\nl2\n' >"$T/seeds/top"
fuzz_run fuzz-pop3 "$MSGW_BUILDDIR/t/pop3/fuzz-pop3" "$T/seeds" \
	-runs=200000 -max_len=2048 -max_total_time=60
done_testing
