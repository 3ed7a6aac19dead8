#!/bin/sh
# The libFuzzer target for what msgw-acme reads from outside (built with
# --enable-fuzzing) for a bounded time (MSGW_FUZZ_TIME seconds, default 10),
# seeded with certificates made by openssl. A crash, a leak or a sanitizer
# report fails the test; the input is kept in t/acme/fuzz-crashes/.
. "${MSGW_SRCDIR:-.}/t/lib.sh"
t_tmpdir
B=$MSGW_BUILDDIR/t/acme
secs=${MSGW_FUZZ_TIME:-10}
mkdir "$T/seeds"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ca.key" \
	-out "$T/seeds/ca.pem" -days 3 -subj "/CN=fuzz CA" 2>/dev/null
printf 'subjectAltName=DNS:a.example,IP:192.0.2.1,IP:2001:db8::1\nauthorityKeyIdentifier=keyid\n' > "$T/ext"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/leaf.key" \
	-out "$T/leaf.csr" -subj "/CN=a.example" 2>/dev/null
openssl x509 -req -in "$T/leaf.csr" -CA "$T/seeds/ca.pem" -CAkey "$T/ca.key" -set_serial 0x80ff \
	-days 2 -extfile "$T/ext" -out "$T/leaf.pem" 2>/dev/null
cat "$T/leaf.pem" "$T/seeds/ca.pem" > "$T/seeds/chain.pem"
printf '2026-02-03T04:05:06.5+01:00' > "$T/seeds/time"
printf 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE' > "$T/seeds/id"
ok $? "seed corpus written"
fuzz_run fuzz-cert "$B/fuzz-cert" "$T/seeds" \
	-max_total_time="$secs" -timeout=10 -max_len=20000 -rss_limit_mb=2048
done_testing
