# Shared helpers of the shell reliability tests (sourced).  Programs come from
# the environment meson sets (MLPD, MLP_WORKER, MLPCLIENT_DIR); run by hand they
# default to build-reliability/.  Every test calls rel_init, which makes a
# temporary dir and a trap that kills the daemon and removes everything.
REL_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REL_ROOT=$(cd "$REL_HERE/../.." && pwd)
REL_BUILD=${MLP_BUILD:-$REL_ROOT/build-reliability}
MLPD=${MLPD:-$REL_BUILD/daemon/mlpd}
MLP_WORKER=${MLP_WORKER:-$REL_BUILD/worker/mlp-worker}
MLPCTL=${MLPCTL:-$REL_BUILD/cli/mlpctl}
MLPCLIENT_DIR=${MLPCLIENT_DIR:-$REL_ROOT/tests/integration}
WRAPPER=$REL_HERE/worker-wrapper.sh
export MLP_REAL_WORKER=$MLP_WORKER
unset MLPD_SOCKET
fails=0
DPID=

pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
# check DESCRIPTION COMMAND...: run the command, count a failure when it fails.
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
finish() { echo "$fails failure(s)"; [ "$fails" = 0 ]; exit $?; }

rel_cleanup_extra() { :; }
rel_cleanup() {
    [ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
    rel_cleanup_extra
    [ -n "${T:-}" ] && rm -rf "$T"
}
rel_init() {
    T=$(mktemp -d /tmp/mlprel-XXXXXX)
    trap rel_cleanup EXIT
    trap 'exit 1' INT TERM
}

# start_daemon HOME [flags...]: mlpd --foreground on HOME; output in HOME.out.
start_daemon() {
    local home=$1; shift
    SOCK=$home/mlpd.sock
    "$MLPD" --foreground --state_dir "$home" --workers 2 --kill_grace 0.2 "$@" \
        >>"$home.out" 2>&1 &
    DPID=$!
    for _ in $(seq 300); do
        kill -0 "$DPID" 2>/dev/null || { DPID=; return 1; }
        call '{"op":"status"}' 2>/dev/null | grep -q '"ok": true' && return 0
        sleep 0.05
    done
    return 1
}
stop_daemon() {
    [ -z "$DPID" ] && return 0
    call '{"op":"shutdown","now":true}' >/dev/null 2>&1
    local rc=0
    wait "$DPID" || rc=$?
    DPID=
    return $rc
}
# call JSON: one request on $SOCK, the response line on stdout.
call() { python3 "$MLPCLIENT_DIR/mlpclient.py" "$SOCK" "$1"; }
# field JSON-RESPONSE JQ-FILTER
field() { jq -r "$2" <<<"$1"; }
# sql DB QUERY: read-only query on a database.
sql() { sqlite3 -readonly "$1" "$2"; }
# The exactly-once checks of rlib.check_store, via the python helper.
check_store() { # DB-HOME SWEEP-IDS(comma) [expect_done=1]
    PYTHONDONTWRITEBYTECODE=1 python3 - "$1" "$2" "${3:-1}" <<'PY'
import os, sys
sys.path.insert(0, os.environ["REL_HERE"])
import rlib
d = rlib.Daemon.__new__(rlib.Daemon)
d.db = os.path.join(sys.argv[1], "mlpd.db")
rlib.check_store(d, [int(x) for x in sys.argv[2].split(",")], sys.argv[3] == "1")
sys.exit(rlib.report())
PY
}
export REL_HERE
