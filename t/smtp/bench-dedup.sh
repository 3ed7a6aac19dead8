#!/bin/sh
# make bench: msgw-smtp ingest with de-duplication on against off (t/smtp/bench-dedup.py).
exec "${PYTHON3:-python3}" "${MSGW_SRCDIR:-.}/t/smtp/bench-dedup.py" "$@"
