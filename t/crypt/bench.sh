#!/bin/sh
# make bench: age encryption and decryption throughput of a 100 MiB file,
# msgw (t/crypt/agetool) against the stock age tool on the same file in the
# same run (median of MSGW_BENCH_RUNS runs, default 5, the two tools
# alternating), and against the raw ChaCha20-Poly1305 msgw uses, in memory
# (t/crypt/chacha-bench; Nettle's shown for reference). Targets:
# msgw/age >= 1; raw/msgw <= 2.
set -eu
B=${MSGW_BUILDDIR:-.}/t/crypt
tool=$B/agetool
runs=${MSGW_BENCH_RUNS:-5}
mib=100
command -v age >/dev/null || { echo "bench: the age package is not installed"; exit 1; }
D=$(mktemp -d "${TMPDIR:-/tmp}/msgw-bench.XXXXXX")   # a fresh directory
trap 'rm -rf "$D"' EXIT INT TERM

head -c $((mib * 1048576)) /dev/urandom > "$D/plain"
age-keygen -o "$D/key" 2>/dev/null
R=$(age-keygen -y "$D/key")
age -e -r "$R" -o "$D/input.age" "$D/plain"   # what both tools decrypt

us() { # us CMD...: wall time in microseconds
	s=$(date +%s%N)
	"$@" > /dev/null
	e=$(date +%s%N)
	echo $(((e - s) / 1000))
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

me= ae= md= ad=
i=0
while [ $i -lt "$runs" ]; do
	rm -f "$D"/*.out "$D/m.age" "$D/a.age"
	if [ $((i % 2)) -eq 0 ]; then
		me="$me $(us "$tool" encrypt -r "$R" -o "$D/m.age" "$D/plain")"
		ae="$ae $(us age -e -r "$R" -o "$D/a.age" "$D/plain")"
		md="$md $(us "$tool" decrypt -i "$D/key" -o "$D/m.out" "$D/input.age")"
		ad="$ad $(us age -d -i "$D/key" -o "$D/a.out" "$D/input.age")"
	else
		ae="$ae $(us age -e -r "$R" -o "$D/a.age" "$D/plain")"
		me="$me $(us "$tool" encrypt -r "$R" -o "$D/m.age" "$D/plain")"
		ad="$ad $(us age -d -i "$D/key" -o "$D/a.out" "$D/input.age")"
		md="$md $(us "$tool" decrypt -i "$D/key" -o "$D/m.out" "$D/input.age")"
	fi
	cmp -s "$D/m.out" "$D/plain" || { echo "bench: msgw decrypted something else"; exit 1; }
	age -d -i "$D/key" "$D/m.age" | cmp -s - "$D/plain" || { echo "bench: age cannot read msgw's file"; exit 1; }
	i=$((i + 1))
done
raw=$("$B/chacha-bench")

echo "$mib MiB file, median of $runs runs, MiB/s (higher is better)"
awk -v mib="$mib" -v me="$(echo "$me" | median)" -v ae="$(echo "$ae" | median)" \
    -v md="$(echo "$md" | median)" -v ad="$(echo "$ad" | median)" -v raw="$raw" '
BEGIN {
	split(raw, r, " "); re = r[2]; rd = r[4]; ne = r[6]; nd = r[8]
	e = mib / (me / 1e6); ea = mib / (ae / 1e6)
	d = mib / (md / 1e6); da = mib / (ad / 1e6)
	printf "  encrypt: msgw %6.0f   age %6.0f   msgw/age %.2f   raw aead %6.0f   raw/msgw %.2f\n", e, ea, e / ea, re, re / e
	printf "  decrypt: msgw %6.0f   age %6.0f   msgw/age %.2f   raw aead %6.0f   raw/msgw %.2f\n", d, da, d / da, rd, rd / d
	printf "  (Nettle 3.8 ChaCha20-Poly1305 for reference: encrypt %.0f, decrypt %.0f)\n", ne, nd
	printf "  targets: msgw/age >= 1.00, raw/msgw <= 2.00\n"
}'
