#!/bin/sh
# The store helper's libFuzzer target (configure --enable-fuzzing) for a
# bounded time: frames a compromised parser could send.
. "${MSGW_SRCDIR:-.}/t/lib.sh"
t_tmpdir
mkdir "$T/seeds"
# SMTP role: BEGIN slot 0 for one id, DATA, COMMIT; POP3 role: LOGIN, OPEN.
printf '\000\001\000\000\000\021\000abcdefghijkmn234\002\000\000\000\002\000x\004\000\000\000\001\000' >"$T/seeds/smtp"
printf '\001\006\000\000\000\021abcdefghijkmn234p\007\000\000\000\004\000\000\000\000' >"$T/seeds/pop3"
fuzz_run fuzz-wire "$MSGW_BUILDDIR/t/privsep/fuzz-wire" "$T/seeds" \
	-max_total_time="${MSGW_FUZZ_TIME:-20}" -timeout=10 -max_len=65536
done_testing
