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
	mkdir "$T/$f" "$T/$f-artifacts"
	"$B/fuzz-$f" -max_total_time="$secs" -timeout=10 -max_len=200000 -rss_limit_mb=2048 \
		-artifact_prefix="$T/$f-artifacts/" "$T/$f" "$T/seeds" > "$T/$f.log" 2>&1
	rc=$?
	ok $rc "fuzz-$f runs ${secs}s without a crash"
	if [ $rc -ne 0 ]; then
		tail -40 "$T/$f.log" | sed 's/^/# /'
		mkdir -p "$B/fuzz-crashes" && cp "$T/$f-artifacts/"* "$B/fuzz-crashes/" 2>/dev/null &&
			diag "inputs kept in $B/fuzz-crashes"
	else
		diag "$(grep -E '^#[0-9]+.*DONE' "$T/$f.log" | tail -1)"
	fi
done
done_testing
