#!/bin/sh
# make bench: msgw-smtp storing on GlusterFS beside local disk (t/store/gluster-bench.py).
exec "${PYTHON3:-python3}" "${MSGW_SRCDIR:-.}/t/store/gluster-bench.py" "$@"
