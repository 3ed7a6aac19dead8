#!/bin/sh
# Regenerates the vector list at the end of t/crypt/local.mk (automake
# takes no wildcard in EXTRA_DIST). Run from the top of the source tree.
set -e
mk=t/crypt/local.mk
sed '/^EXTRA_DIST += t\/crypt\/vectors\/README.md/,$d' "$mk" > "$mk.tmp"
{
	printf 'EXTRA_DIST += t/crypt/vectors/README.md t/crypt/vectors/SOURCE'
	for f in t/crypt/vectors/testdata/*; do
		printf ' \\\n\t%s' "$f"
	done
	printf '\n'
} >> "$mk.tmp"
mv "$mk.tmp" "$mk"
