#!/bin/sh
# The libFuzzer targets (built with --enable-fuzzing), each for a bounded
# time (MSGW_FUZZ_TIME seconds, default 20), seeded with the CCTV vectors.
# A crash, a leak or a sanitizer report fails the test; the input that
# caused it is copied to t/crypt/fuzz-crashes/ of the build tree.
. "${MSGW_SRCDIR:-.}/t/lib.sh"
t_tmpdir
B=$MSGW_BUILDDIR/t/crypt
secs=${MSGW_FUZZ_TIME:-20}
mkdir "$T/seeds"
"$B/age-vectors-test" --corpus "$T/seeds"
ok $? "seed corpus written from the vectors ($(ls "$T/seeds" | wc -l) files)"
for f in header decrypt; do
	fuzz_run "fuzz-$f" "$B/fuzz-$f" "$T/seeds" \
		-max_total_time="$secs" -timeout=10 -max_len=200000 -rss_limit_mb=2048
done
done_testing
