#!/bin/bash
# bench/sweep.sh — time to the answer: one Fashion-MNIST grid through mlpd and
# through Optuna GridSampler + PyTorch, in the same run.
#
#   bench/sweep.sh [REPEATS]      (default 1; each repeat runs both, mlpd first)
#
# The grid: hidden {[128], [256,128]} × lr {0.03, 0.1} × 3 seeds, 5 epochs,
# batch 128, the full training split (54,000 rows after a 10 % validation
# hold-out), 2 parallel slots on both sides (mlpd --workers 2 --threads 1;
# two Optuna processes on one SQLite storage, one torch thread each).  The
# recipe is the same on both sides (bench/optuna_sweep.py says it in full).
# mlpd runs in a private state dir with the shared prepared-data cache warm (a
# first, unmeasured mlpd run fills it), like a lab server that has run a sweep
# on the dataset before; the Optuna side reads the same IDX files from disk.
# Printed for each side: wall time from submit to the answer (mlpctl best /
# the study's ranking), trials run, the chosen configuration (highest mean
# validation accuracy) and its mean test accuracy ± SE over the 3 seeds.
set -u
REPEATS=${1:-1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BENCH_BUILD:-$ROOT/build-bench}
PY=/usr/bin/python3
MLPD="$BUILD/daemon/mlpd"
MLPCTL="$BUILD/cli/mlpctl"
WORKER="$BUILD/worker/mlp-worker"
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$ROOT" >/dev/null || exit 1
ninja -C "$BUILD" daemon/mlpd cli/mlpctl worker/mlp-worker >/dev/null || { echo "bench/sweep.sh: build failed" >&2; exit 1; }
"$PY" -c 'import optuna, torch' 2>/dev/null || { echo "bench/sweep.sh: needs python3-optuna and python3-torch (apt-get install python3-optuna python3-torch)" >&2; exit 1; }
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || { echo "bench/sweep.sh: needs dataset-fashion-mnist" >&2; exit 1; }

export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
OUT=$(mktemp -d /tmp/mlpsweepb.XXXXXX)
export MLPD_DATA="$OUT/data"
mkdir -p "$MLPD_DATA"
DPID=""
cleanup() {
    [ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
    rm -rf "$OUT"
}
trap cleanup EXIT
now() { date +%s.%N; }
ctl() { "$MLPCTL" --socket "$SOCK" "$@"; }

cat >"$OUT/grid.json" <<'EOF'
{"name": "sweepbench", "dataset": "fashion-mnist", "seeds": [1, 2, 3],
 "metric": "val_accuracy",
 "base": {"epochs": 5, "batch_size": 128, "activation": "relu", "init": "he",
          "optimizer": "sgd", "normalize": "standardize"},
 "grid": {"hidden": [[128], [256, 128]], "lr": [0.03, 0.1]}}
EOF

run_mlpd() {   # run_mlpd STATE_DIR -> prints "wall json" 
    export MLPD_HOME="$1"
    SOCK="$1/mlpd.sock"
    mkdir -p "$1"; chmod 700 "$1"
    "$MLPD" --foreground --workers 2 --threads 1 --worker "$WORKER" >>"$OUT/mlpd.out" 2>&1 &
    DPID=$!
    for _ in $(seq 1 100); do ctl status >/dev/null 2>&1 && break; sleep 0.1; done
    local t0 t1
    t0=$(now)
    ctl submit "$OUT/grid.json" >/dev/null || { echo "bench/sweep.sh: submit failed" >&2; tail "$OUT/mlpd.out" >&2; exit 1; }
    ctl wait sweepbench >/dev/null
    ctl --json best sweepbench >"$OUT/best.json"
    t1=$(now)
    ctl shutdown --now >/dev/null 2>&1
    wait "$DPID" 2>/dev/null; DPID=""
    echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')"
}

run_optuna() {   # run_optuna DIR -> wall seconds; answer in DIR/answer.json
    local st="sqlite:///$1/optuna.db" t0 t1
    mkdir -p "$1"
    t0=$(now)
    "$PY" "$ROOT/bench/optuna_sweep.py" --storage "$st" --study s create
    "$PY" "$ROOT/bench/optuna_sweep.py" --storage "$st" --study s worker &
    local p1=$!
    "$PY" "$ROOT/bench/optuna_sweep.py" --storage "$st" --study s worker &
    local p2=$!
    wait "$p1" "$p2"
    "$PY" "$ROOT/bench/optuna_sweep.py" --storage "$st" --study s answer >"$1/answer.json"
    t1=$(now)
    echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')"
}

echo "# bench/sweep.sh: $(date -u +%FT%TZ), $(getconf _NPROCESSORS_ONLN) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "warming the prepared-data cache (one unmeasured mlpd run) ..."
run_mlpd "$OUT/warm" >/dev/null
for r in $(seq 1 "$REPEATS"); do
    W1=$(run_mlpd "$OUT/m$r")
    "$PY" - "$OUT/best.json" "$W1" <<'EOF'
import json, sys
b = json.load(open(sys.argv[1]))
c = b["configs"][0]
cfg = c["config"]
params = cfg.get("params", cfg) if isinstance(cfg, dict) else cfg
t = c["test"]
print(f"mlpd:   {float(sys.argv[2]):7.2f} s wall, {b['sweep'].get('done')} trials; chosen {json.dumps(params)}: "
      f"val {c['stat']['mean']:.4f}, test {t['mean']:.4f} ± {t['se']:.4f} (n {t['n']})")
EOF
    W2=$(run_optuna "$OUT/o$r")
    "$PY" - "$OUT/o$r/answer.json" "$W2" "$W1" <<'EOF'
import json, sys
a = json.load(open(sys.argv[1]))
c = a["chosen"]
w2, w1 = float(sys.argv[2]), float(sys.argv[3])
print(f"optuna: {w2:7.2f} s wall, {a['trials_run']} trials ({a['distinct']} distinct); chosen "
      f"hidden [{c['hidden']}] lr {c['lr']}: val {c['val_mean']:.4f}, test {c['test_mean']:.4f} ± {c['test_se']:.4f} (n {c['n']})")
print(f"ratio mlpd / (Optuna + PyTorch) wall time: {w1 / w2:.2f}   (load now: {open('/proc/loadavg').read().split()[:3]})")
EOF
done
