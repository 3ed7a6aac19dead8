#!/bin/sh
# make bench: msgw-pop3 against Dovecot (see bench.py).
exec "${PYTHON3:-python3}" "$MSGW_SRCDIR/t/pop3/bench.py"
