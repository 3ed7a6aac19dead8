#!/bin/sh
# make bench: 1 MiB messages through the recording proxy vs straight to the
# same Postfix/Dovecot upstream (t/proxy/bench.py prints the ratios).
exec "${PYTHON3:-python3}" "${MSGW_SRCDIR:-.}/t/proxy/bench.py"
