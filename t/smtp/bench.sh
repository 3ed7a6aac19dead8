#!/bin/sh
# make bench: msgw-smtp against Postfix delivering to a Maildir (t/smtp/bench.py).
exec "${PYTHON3:-python3}" "${MSGW_SRCDIR:-.}/t/smtp/bench.py" "$@"
