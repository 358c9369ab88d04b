# lib.sh — the harness shared by the mlpctl script tests (verbs.sh, usability.sh):
# a private mlpd on a temporary state dir, run/check helpers and a trap clean-up.
# Source it after setting LIB_NAME (the temporary directory's prefix).
set -u

: "${MLPCTL:?set MLPCTL to the mlpctl binary}"
: "${MLPD:?set MLPD to the mlpd binary}"
: "${MLP_WORKER:?set MLP_WORKER to the mlp-worker binary}"
if [ ! -x "$MLPD" ] || [ ! -x "$MLP_WORKER" ]; then
    echo "skip: $MLPD or $MLP_WORKER is not built yet"
    exit 77
fi
command -v python3 >/dev/null || { echo "skip: python3 is needed to check CSV and JSON"; exit 77; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mlpctl-${LIB_NAME:-cli}.XXXXXX")
export MLPD_HOME="$TMP/home" MLPD_DATA="$TMP/data"
unset MLPD_SOCKET XDG_STATE_HOME
SOCK="$MLPD_HOME/mlpd.sock"
DPID=""
failures=0
checks=0

cleanup() {
    if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
        kill "$DPID" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$DPID" 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# run NAME RC ARGS...: run mlpctl, keep stdout/stderr in $TMP/NAME.{out,err}, check the exit code.
run() {
    local name=$1 want=$2
    shift 2
    checks=$((checks + 1))
    "$MLPCTL" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" </dev/null
    local rc=$?
    if [ "$rc" != "$want" ]; then
        fail "$name: mlpctl $* exited $rc, expected $want"
        sed 's/^/    stderr: /' "$TMP/$name.err" >&2
        sed 's/^/    stdout: /' "$TMP/$name.out" | head -20 >&2
    fi
}

# has NAME.{out,err} TEXT: the file holds TEXT (fixed string).
has() {
    checks=$((checks + 1))
    grep -qF -- "$2" "$TMP/$1" || { fail "$1 lacks '$2'"; sed 's/^/    /' "$TMP/$1" | head -20 >&2; }
}

# jcheck NAME EXPR: NAME.out is one JSON document d and the Python expression holds.
jcheck() {
    checks=$((checks + 1))
    python3 - "$TMP/$1.out" "$2" <<'EOF' || fail "$1: JSON check failed: $2"
import json, math, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print("    not one JSON document:", e, file=sys.stderr)
    sys.exit(1)
try:
    ok = eval(sys.argv[2])
except Exception as e:
    print("    error:", repr(e), file=sys.stderr)
    ok = False
if not ok:
    print("    document:", json.dumps(d)[:600], file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
}

start_daemon() {
    "$MLPD" --foreground --worker "$MLP_WORKER" --workers 2 >>"$TMP/mlpd.out" 2>&1 &
    DPID=$!
    for _ in $(seq 1 100); do
        "$MLPCTL" status >/dev/null 2>&1 && return 0
        kill -0 "$DPID" 2>/dev/null || break
        sleep 0.1
    done
    fail "mlpd did not come up"
    sed 's/^/    mlpd: /' "$TMP/mlpd.out" >&2
    exit 1
}

stop_wait() {
    for _ in $(seq 1 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$DPID" 2>/dev/null; then fail "mlpd still running after shutdown"; fi
    wait "$DPID" 2>/dev/null
    DPID=""
}
