#!/bin/sh
# The SMTP parsers' libFuzzer target for a bounded number of inputs from a
# small seed corpus (configure --enable-fuzzing).
. "${MSGW_SRCDIR:-.}/t/lib.sh"
t_tmpdir
mkdir "$T/seeds"
printf '\000MAIL FROM:<a@b.example> SIZE=100 BODY=8BITMIME SMTPUTF8\r\n' >"$T/seeds/mail"
printf '\000RCPT TO:<@r.example:abcdefghijklmnop+tag@mail.test>\r\n' >"$T/seeds/rcpt"
printf '\000BDAT 1000 LAST\r\n' >"$T/seeds/bdat"
printf '\001Subject: x\r\n\r\n..dot\n.\nbare\r.\r\nend\r\n.\r\nQUIT\r\n' >"$T/seeds/data"
fuzz_run fuzz-smtp "$MSGW_BUILDDIR/t/smtp/fuzz-smtp" "$T/seeds" \
	-runs=200000 -max_len=2048 -max_total_time=60
done_testing
