# TAP helpers for shell tests (sourced by t/*.t).
set -u
_t_n=0
_t_failed=0
_t_cleanup=""
MSGW_SRCDIR=${MSGW_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
MSGW_BUILDDIR=${MSGW_BUILDDIR:-$MSGW_SRCDIR}
PATH=$MSGW_BUILDDIR/src:$PATH
export PATH

ok() {   # ok COND-EXIT-STATUS NAME
	_t_n=$((_t_n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $_t_n - $2"; else echo "not ok $_t_n - $2"; _t_failed=$((_t_failed + 1)); fi
}
is() {   # is GOT WANT NAME
	if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; diag "     got: '$1'"; diag "  wanted: '$2'"; fi
}
like() { # like GOT PATTERN NAME
	case $1 in *$2*) ok 0 "$3" ;; *) ok 1 "$3"; diag "     got: '$1'"; diag "  wanted: *$2*" ;; esac
}
skip() { _t_n=$((_t_n + 1)); echo "ok $_t_n - $2 # SKIP $1"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
at_exit() { _t_cleanup="$1; $_t_cleanup"; }
# After a failure (a failed test or a non-zero exit), the tail of every
# log in the test's directory (the servers it ran), before it is removed.
_t_log_tails() {
	[ -n "${T:-}" ] && [ -d "$T" ] || return 0
	for _f in "$T"/*.log "$T"/*/*.log; do
		[ -f "$_f" ] || continue
		diag "--- last lines of ${_f#"$T"/} ---"
		tail -n 25 "$_f" | sed 's/^/# /'
	done
}
_t_exit() {
	_rc=$?
	if [ "$_t_failed" -gt 0 ] || [ "$_rc" -ne 0 ]; then _t_log_tails; fi
	eval "$_t_cleanup"
}
trap _t_exit EXIT
done_testing() {
	echo "1..$_t_n"
	[ "$_t_failed" -eq 0 ]
	exit $?
}
t_tmpdir() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/msgw-t.XXXXXX")
	at_exit "rm -rf '$T'"
}
free_port() {
	"${PYTHON3:-python3}" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() { # wait_port PORT
	"${PYTHON3:-python3}" - "$1" <<'PY'
import socket, sys, time
port = int(sys.argv[1]); end = time.monotonic() + 15
while time.monotonic() < end:
    try:
        socket.create_connection(("127.0.0.1", port), 1).close(); sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY
}
# fuzz_run NAME TARGET SEEDDIR [libFuzzer options...]: run a libFuzzer
# target (built with --enable-fuzzing) within the bounds the options give,
# one TAP line; on a crash, its log tail as diagnostics and the input kept
# in fuzz-crashes/ beside the target. Needs t_tmpdir.
fuzz_run() {
	_name=$1 _target=$2 _seeds=$3
	shift 3
	if [ ! -x "$_target" ]; then
		skip "$_target not built (configure --enable-fuzzing)" "$_name"
		return 0
	fi
	mkdir -p "$T/$_name-corpus" "$T/$_name-artifacts"
	"$_target" "$@" -artifact_prefix="$T/$_name-artifacts/" "$T/$_name-corpus" "$_seeds" \
		> "$T/$_name.log" 2>&1
	_rc=$?
	ok $_rc "$_name: bounded run without a crash ($*)"
	if [ $_rc -ne 0 ]; then
		tail -40 "$T/$_name.log" | sed 's/^/# /'
		_keep=$(dirname "$_target")/fuzz-crashes
		mkdir -p "$_keep" && cp "$T/$_name-artifacts/"* "$_keep/" 2>/dev/null &&
			diag "inputs kept in $_keep"
	else
		diag "$(grep -E '^(Done [0-9]+ runs|#[0-9]+.*DONE)' "$T/$_name.log" | tail -1)"
	fi
}
