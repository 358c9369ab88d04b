#!/bin/bash
# bench/service.sh — the daemon's costs, measured on real mlpd/mlpctl/mlp-worker
# processes in private state dirs (nothing touches ~/.local/state/mlpd).
#
#   bench/service.sh [--quick]
#
#  (a) per-trial overhead: a sweep of 500 trivial trials (xor, n 64, hidden [4],
#      1 epoch) on 2 workers: trials/s, wall time per trial per slot, minus the
#      time of the same worker run alone (the spawn + spec + result + commit cost)
#  (b) idle CPU: the daemon's utime+stime (/proc/<pid>/stat) over 30 s with
#      nothing to do (expected ≈ 0: no polling)
#  (c) submit: wall time of `mlpctl submit` of a 50,000-trial grid and of a
#      100,000-trial grid (sweeps paused at once), the daemon's VmRSS after each
#  (d) `best` latency on a sweep of 100,000 recorded trials: the 100,000-trial sweep
#      of (c) is given results directly with sqlite3 in a COPY of the database while
#      no daemon runs, then a daemon on the copy answers `mlpctl best` (first call
#      and median of 5)
#  (e) spawn → first epoch line of a worker (fashion-mnist, train_size 100,
#      1 epoch, dataset cache warm), with the epoch's own "seconds" subtracted —
#      the worker does not report its first batch, so this is an upper bound on
#      spawn → first training batch that still includes the epoch's evaluation
#  (f) throughput on configs/demo.json with workers × threads = 2×1 and 1×2
# --quick: 100 trivial trials, 5 s idle, 5,000/10,000-trial grids, (f) skipped.
# Writes the "service" section of bench/RESULTS.md.  Needs build-bench/ with
# mlpd, mlpctl and mlp-worker (bench/run.sh builds it) and the sqlite3 CLI.
set -u
QUICK=0
case "${1:-}" in --quick) QUICK=1 ;; "") ;; *) echo "usage: bench/service.sh [--quick]" >&2; exit 2 ;; esac

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BENCH_BUILD:-$ROOT/build-bench}
PY=${PYTHON:-/usr/bin/python3}
MLPD="$BUILD/daemon/mlpd"
MLPCTL="$BUILD/cli/mlpctl"
WORKER="$BUILD/worker/mlp-worker"
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$ROOT" >/dev/null || exit 1
if ! ninja -C "$BUILD" -j1 daemon/mlpd cli/mlpctl worker/mlp-worker >/tmp/mlpsvc-ninja.$$.log 2>&1; then
    tail -5 /tmp/mlpsvc-ninja.$$.log >&2
    [ -x "$MLPD" ] && [ -x "$MLPCTL" ] && [ -x "$WORKER" ] \
        || { echo "bench/service.sh: building mlpd, mlpctl, mlp-worker failed" >&2; rm -f /tmp/mlpsvc-ninja.$$.log; exit 1; }
    echo "bench/service.sh: the build failed; measuring the binaries already in $BUILD" >&2
fi
rm -f /tmp/mlpsvc-ninja.$$.log
command -v sqlite3 >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q sqlite3 >/dev/null 2>&1 \
    || { echo "bench/service.sh: needs the sqlite3 CLI" >&2; exit 1; }

if [ $QUICK = 1 ]; then NTRIV=100; IDLE=5; G1=(50 10 10); G2=(50 20 10)
else NTRIV=500; IDLE=30; G1=(50 100 10); G2=(50 200 10); fi
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
OUT=$(mktemp -d /tmp/mlpsvc.XXXXXX)
export MLPD_DATA="$OUT/data"   # one dataset cache for every daemon of this run
mkdir -p "$MLPD_DATA"
DPID=""
cleanup() {
    if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then kill "$DPID"; wait "$DPID" 2>/dev/null; fi
    rm -rf "$OUT"
}
trap cleanup EXIT
TCK=$(getconf CLK_TCK)
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f\n", b - a }'; }
calc() { awk "BEGIN { printf \"%.4f\\n\", $1 }"; }
ctl() { "$MLPCTL" --socket "$SOCK" "$@"; }

start_daemon() {   # start_daemon STATE_DIR WORKERS THREADS
    export MLPD_HOME="$1"
    SOCK="$1/mlpd.sock"
    mkdir -p "$1"
    "$MLPD" --foreground --workers "$2" --threads "$3" --worker "$WORKER" \
        >>"$OUT/mlpd.out" 2>&1 &
    DPID=$!
    for _ in $(seq 1 100); do
        ctl status >/dev/null 2>&1 && return 0
        kill -0 "$DPID" 2>/dev/null || break
        sleep 0.1
    done
    echo "bench/service.sh: mlpd did not come up; its output:" >&2
    tail -20 "$OUT/mlpd.out" >&2
    exit 1
}
stop_daemon() {
    ctl shutdown --now >/dev/null 2>&1 || kill "$DPID" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$DPID" 2>/dev/null && kill -9 "$DPID"
    wait "$DPID" 2>/dev/null
    DPID=""
}
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
grid() {   # grid NAME N_LR N_L2 SEEDS DATASET_JSON EXTRA_BASE_JSON > file
    "$PY" -c '
import json, sys
name, nlr, nl2, seeds, ds, extra = sys.argv[1:]
base = {"hidden": [4], "epochs": 1}
base.update(json.loads(extra))
g = {"lr": [round(0.001 * (i + 1), 6) for i in range(int(nlr))]}
if int(nl2) > 1:
    g["l2"] = [round(1e-6 * i, 9) for i in range(int(nl2))]
print(json.dumps({"name": name, "dataset": json.loads(ds), "seeds": int(seeds),
                  "base": base, "grid": g}))' "$@"
}
XOR='{"name":"xor","n":64}'
REPORT="$OUT/report.md"
say() { echo "$*" | tee -a "$REPORT"; }

# ---- (a) per-trial overhead ---------------------------------------------------
start_daemon "$OUT/s1" 2 1
grid trivial "$NTRIV" 1 1 "$XOR" '{}' >"$OUT/trivial.json"
t0=$(now)
ctl submit "$OUT/trivial.json" >/dev/null || { echo "submit failed" >&2; exit 1; }
ctl wait trivial >/dev/null
t1=$(now)
A_WALL=$(elapsed "$t0" "$t1")
A_DONE=$(ctl --json status 2>/dev/null | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["trials"]["done"])' 2>/dev/null || echo "?")
# the same worker alone, 20 times in a row
echo '{"dataset":{"name":"xor","n":64},"seed":1,"params":{"hidden":[4],"epochs":1,"lr":0.001}}' >"$OUT/triv.spec"
t0=$(now)
for _ in $(seq 1 20); do MLPD_HOME="$OUT/s1" "$WORKER" --spec "$OUT/triv.spec" >/dev/null; done
t1=$(now)
SOLO=$(calc "($t1 - $t0) / 20")
"$PY" - "$NTRIV" "$A_WALL" "$SOLO" "$A_DONE" >>"$REPORT" <<'EOF'
import sys
n, wall, solo, done = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
per_slot = 2 * wall / n
print(f"- (a) {n} trivial trials (xor n 64, hidden [4], 1 epoch), 2 workers: {wall:.2f} s, "
      f"**{n / wall:.1f} trials/s**; {per_slot * 1000:.1f} ms per trial per slot; the worker run "
      f"alone takes {solo * 1000:.1f} ms, so the daemon adds ≈ **{(per_slot - solo) * 1000:.1f} ms "
      f"per trial** (spawn, spec, result, commit); {done} trials done when `mlpctl wait` returned.")
EOF

# ---- (b) idle CPU -------------------------------------------------------------
c0=$(cpu_ticks "$DPID"); sleep "$IDLE"; c1=$(cpu_ticks "$DPID")
say "- (b) idle for ${IDLE} s after the sweep: the daemon used $(calc "($c1 - $c0) / $TCK") s of CPU ($((c1 - c0)) ticks of 1/$TCK s; utime+stime from /proc/$DPID/stat)."
stop_daemon

# ---- (c) submit time and RSS ------------------------------------------------------
start_daemon "$OUT/s2" 2 1
rss0=$(rss_kb "$DPID")
n1=$((G1[0] * G1[1] * G1[2])); n2=$((G2[0] * G2[1] * G2[2]))
grid big1 "${G1[@]}" "$XOR" '{}' >"$OUT/big1.json"
grid big2 "${G2[@]}" "$XOR" '{}' >"$OUT/big2.json"
t0=$(now); ctl submit "$OUT/big1.json" >"$OUT/big1.out" 2>&1; rc1=$?; t1=$(now)
ctl pause big1 >/dev/null 2>&1
rss1=$(rss_kb "$DPID")
t2=$(now); ctl submit "$OUT/big2.json" >"$OUT/big2.out" 2>&1; rc2=$?; t3=$(now)
ctl pause big2 >/dev/null 2>&1
sleep 1
rss2=$(rss_kb "$DPID")
say "- (c) \`mlpctl submit\` of a $n1-trial grid: $(elapsed "$t0" "$t1") s (exit $rc1); daemon VmRSS $rss0 kB before, **$rss1 kB** after. A further $n2-trial grid: $(elapsed "$t2" "$t3") s (exit $rc2); VmRSS **$rss2 kB** with $((n1 + n2)) trials queued."
[ $rc1 = 0 ] && [ $rc2 = 0 ] || { say "  submit output: $(tail -c 300 "$OUT/big1.out" "$OUT/big2.out" | tr '\n' ' ')"; }
stop_daemon

# ---- (d) best on 100,000 recorded trials ------------------------------------------
cp -r "$OUT/s2" "$OUT/s3"
rm -f "$OUT/s3/mlpd.sock"
DB="$OUT/s3/mlpd.db"
sqlite3 "$DB" >"$OUT/sql.out" 2>&1 <<EOF
PRAGMA journal_mode=WAL;
BEGIN;
UPDATE trials SET state = 'done', attempts = 1, started = created, finished = created + 1
 WHERE sweep_id = (SELECT id FROM sweeps WHERE name = 'big2');
INSERT OR REPLACE INTO results (trial_id, sweep_id, config_idx, attempt, train_loss, train_accuracy,
       val_loss, val_accuracy, test_loss, test_accuracy, epochs_run, best_epoch, seconds, diverged)
SELECT id, sweep_id, config_idx, 1, 0.3, 0.9, 0.35, 0.80 + (abs(random()) % 1000) / 10000.0,
       0.36, 0.80 + (abs(random()) % 1000) / 10000.0, 1, 1, 0.01, 0
  FROM trials WHERE sweep_id = (SELECT id FROM sweeps WHERE name = 'big2');
UPDATE sweeps SET paused = 0 WHERE name = 'big2';
COMMIT;
SELECT count(*) FROM results WHERE sweep_id = (SELECT id FROM sweeps WHERE name = 'big2');
EOF
NREC=$(tail -1 "$OUT/sql.out")
start_daemon "$OUT/s3" 2 1
for i in 1 2 3 4 5 6; do
    t0=$(now); ctl best big2 >"$OUT/best.out" 2>&1; rcb=$?; t1=$(now)
    elapsed "$t0" "$t1" >>"$OUT/best.times"
done
"$PY" - "$OUT/best.times" "$NREC" "$rcb" >>"$REPORT" <<'EOF'
import statistics, sys
t = [float(l) for l in open(sys.argv[1]) if l.strip()]
print(f"- (d) `mlpctl best big2` on a sweep with {sys.argv[2]} recorded trials (results inserted "
      f"with sqlite3 into a copy of the database): first call {t[0] * 1000:.0f} ms, then median "
      f"**{statistics.median(t[1:]) * 1000:.0f} ms** over {len(t) - 1} calls (exit {sys.argv[3]}; "
      f"includes mlpctl's start-up).")
EOF
[ "$rcb" = 0 ] || say "  best output: $(tail -c 300 "$OUT/best.out" | tr '\n' ' ')"
# check that the answer really aggregates the inserted results
ctl --json best big2 2>/dev/null | "$PY" -c '
import json, sys
r = json.load(sys.stdin)
c = r["configs"][0]
st, sw, cf = c["stat"], r["sweep"], c["config"]
cid = cf.get("id") if isinstance(cf, dict) else cf
print("  The answer covers %s done trials: best config %s, mean %.4f over n = %s seeds."
      % (sw["done"], cid, st["mean"], st["n"]))' >>"$REPORT" 2>"$OUT/bestjson.err" \
    || say "  (could not read mlpctl --json best)"
stop_daemon

# ---- (e) spawn → first epoch line ----------------------------------------------------
"$PY" - "$WORKER" "$OUT/s1" >>"$REPORT" <<'EOF'
import json, os, statistics, subprocess, sys, time
worker, home = sys.argv[1], sys.argv[2]
env = dict(os.environ, MLPD_HOME=home)
def first_line(spec):
    t0 = time.perf_counter()
    p = subprocess.Popen([worker], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    p.stdin.write(json.dumps(spec) + "\n"); p.stdin.close()
    line = p.stdout.readline()
    t = time.perf_counter() - t0
    p.stdout.read(); p.wait()
    ep = json.loads(line)
    return t, t - ep.get("seconds", 0.0)
fm = {"dataset": "fashion-mnist", "seed": 1, "params": {"hidden": [100], "epochs": 1, "train_size": 100, "batch_size": 100}}
xor = {"dataset": {"name": "xor", "n": 64}, "seed": 1, "params": {"hidden": [4], "epochs": 1}}
cold = first_line(fm)                     # may decode the .gz files into the cache
warm = [first_line(fm) for _ in range(5)]
tiny = [first_line(xor) for _ in range(5)]
med = lambda v, i: statistics.median(x[i] for x in v) * 1000
print(f"- (e) spawn → first epoch line, fashion-mnist train_size 100, hidden [100], 1 epoch: "
      f"first run {cold[0] * 1000:.0f} ms (cache {'cold' if cold[0] > 2 * med(warm, 0) / 1000 else 'already warm'}), "
      f"then median **{med(warm, 0):.0f} ms**, {med(warm, 1):.0f} ms without the epoch's own seconds "
      f"(≈ spawn → first batch, plus the epoch's validation pass over 6,000 rows); "
      f"the same for xor n 64: {med(tiny, 0):.1f} ms (process start-up floor).")
EOF

# ---- (f) workers × threads on configs/demo.json ----------------------------------------
if [ $QUICK = 0 ] && [ -f "$ROOT/configs/demo.json" ]; then
    # ABBA order, so a drift in the machine's load hits both settings alike
    for wt in "2 1 a" "1 2 a" "1 2 b" "2 1 b"; do
        set -- $wt
        start_daemon "$OUT/f$1x$2$3" "$1" "$2"
        t0=$(now)
        ctl submit "$ROOT/configs/demo.json" --name "demo$1x$2" >/dev/null && ctl wait "demo$1x$2" >/dev/null
        rcw=$?
        t1=$(now)
        ntr=$(ctl --json status 2>/dev/null | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["trials"]["done"])' 2>/dev/null || echo "?")
        w=$(elapsed "$t0" "$t1")
        say "- (f) configs/demo.json with $1 worker(s) × $2 BLAS thread(s), pass $3: $ntr trials in $w s → **$(calc "$ntr * 3600 / $w" | cut -d. -f1) trials/hour** (exit $rcw)"
        stop_daemon
    done
else
    say "- (f) skipped ($([ $QUICK = 1 ] && echo '--quick' || echo 'no configs/demo.json'))"
fi

{
    echo "## Service"
    echo
    echo "Service figures, measured $(date -u '+%Y-%m-%d %H:%M UTC') with \`bench/service.sh$( [ $QUICK = 1 ] && echo ' --quick')\`" \
         "(commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)), $(nproc --all) CPUs," \
         "load average at the end $(cut -d' ' -f1-3 /proc/loadavg):"
    echo
    cat "$REPORT"
} >"$OUT/section.md"
"$PY" "$ROOT/bench/report.py" section "$ROOT/bench/RESULTS.md" service <"$OUT/section.md"
cat "$OUT/section.md"
