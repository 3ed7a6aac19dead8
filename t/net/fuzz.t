#!/bin/sh
# The ClientHello server_name reader's libFuzzer target for a bounded number
# of inputs, seeded with the real ClientHellos of t/net/hello (configure
# --enable-fuzzing).
. "${MSGW_SRCDIR:-.}/t/lib.sh"
t_tmpdir
mkdir "$T/seeds"
for f in "$MSGW_SRCDIR"/t/net/hello/*.hex; do
	"${PYTHON3:-python3}" -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(open(sys.argv[1]).read()))' \
		"$f" >"$T/seeds/$(basename "$f" .hex)"
done
fuzz_run fuzz-sni "$MSGW_BUILDDIR/t/net/fuzz-sni" "$T/seeds" \
	-runs=300000 -max_len=4096 -max_total_time=60
done_testing
