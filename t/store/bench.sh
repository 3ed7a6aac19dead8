#!/bin/sh
# make bench: store delivery against plain Maildir writes, maildrop listing.
b=${MSGW_BUILDDIR:-.}
exec "$b/t/store/store-bench" 200 20000 "${TMPDIR:-/tmp}"
