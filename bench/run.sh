#!/bin/bash
# bench/run.sh — mlpsweep's training core side by side with PyTorch, scikit-learn,
# FANN and the bare GEMMs, all measured in this one run.
#
#   bench/run.sh [--quick]
#
# Builds the project into build-bench/ (the project's default buildtype, as users
# build it; the core sets its own optimisation flags), installs missing peers with
# apt-get (python3-torch, python3-sklearn, libfann-dev; a peer that cannot be
# installed is skipped with a note), then for each configuration
#   A  784-256-128-10 batch 128      B  784-100-100-10 batch 50
#   C  784-100-100-10 batch 1        (FANN only here)
# runs every implementation (interleaved run by run, so load drifts hit all alike)
# and prints one table: seconds per epoch (median over epochs 2..N of all runs),
# test accuracy (mean ± SE over runs), and the ratios to PyTorch and to the GEMMs
# alone.  The table and the machine facts go to bench/RESULTS.md ("training"
# section).  Everything runs single-threaded: OPENBLAS_NUM_THREADS=1
# OMP_NUM_THREADS=1; OPENBLAS_CORETYPE is passed through untouched when set.
# --quick: fewer epochs and runs (a smoke run; its figures are not comparable).
#
# Environment: BENCH_BUILD (build dir, default <repo>/build-bench), PYTHON
# (default /usr/bin/python3: the Debian packages live there), BENCH_RUNS,
# BENCH_EPOCHS (override runs/epochs of A and B), BENCH_KEEP=1 (keep the raw outputs).
set -u

QUICK=0
case "${1:-}" in
    --quick) QUICK=1 ;;
    "") ;;
    *) echo "usage: bench/run.sh [--quick]" >&2; exit 2 ;;
esac

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH="$ROOT/bench"
BUILD=${BENCH_BUILD:-$ROOT/build-bench}
PY=${PYTHON:-/usr/bin/python3}
NPROC=$(nproc --all)   # before OMP_NUM_THREADS=1, which GNU nproc obeys
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
OUT=$(mktemp -d /tmp/mlpbench.XXXXXX)
trap '[ -n "${BENCH_KEEP:-}" ] && echo "raw outputs kept in $OUT" >&2 || rm -rf "$OUT"' EXIT
NOTES="$OUT/notes"
: >"$NOTES"
note() { echo "note: $*" >&2; echo "- $*" >>"$NOTES"; }

# ---- peers -----------------------------------------------------------------
apt_install() {   # apt_install PACKAGE: 0 if installed now or before
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" && return 0
    local SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo -n"
    command -v apt-get >/dev/null || return 1
    echo "installing $1 with apt-get ..." >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "$1" >"$OUT/apt-$1.log" 2>&1
}
HAVE_TORCH=0; HAVE_SKLEARN=0
"$PY" -c 'import torch' 2>/dev/null || apt_install python3-torch || true
"$PY" -c 'import torch' 2>/dev/null && HAVE_TORCH=1 || note "PyTorch skipped: python3-torch could not be installed (see apt-get)"
"$PY" -c 'import sklearn' 2>/dev/null || apt_install python3-sklearn || true
"$PY" -c 'import sklearn' 2>/dev/null && HAVE_SKLEARN=1 || note "scikit-learn skipped: python3-sklearn could not be installed"
pkg-config --exists fann 2>/dev/null || apt_install libfann-dev || true

# ---- build -----------------------------------------------------------------
if [ ! -f "$BUILD/build.ninja" ]; then
    meson setup "$BUILD" "$ROOT" >"$OUT/meson.log" 2>&1 \
        || { cat "$OUT/meson.log" >&2; echo "bench: meson setup failed" >&2; exit 1; }
elif pkg-config --exists fann && ! grep -q fann_bench "$BUILD/build.ninja"; then
    meson setup --reconfigure "$BUILD" "$ROOT" >"$OUT/meson.log" 2>&1 || true
fi
buildtype() {
    meson introspect "$BUILD" --buildoptions 2>/dev/null | "$PY" -c \
        'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="buildtype"))' 2>/dev/null
}
TARGETS="worker/mlp-worker bench/gemm"
grep -q 'bench/fann_bench:' "$BUILD/build.ninja" && TARGETS="$TARGETS bench/fann_bench"
for t in $TARGETS; do
    log="$OUT/ninja-$(basename "$t").log"
    ninja -C "$BUILD" -j1 "$t" >"$log" 2>&1 \
        || { tail -20 "$log" >&2; note "building $t failed (an existing binary, if any, is measured): $(grep -m1 -E 'error|undefined' "$log" | cut -c1-160)"; }
done
WORKER="$BUILD/worker/mlp-worker"
GEMM="$BUILD/bench/gemm"
FANN="$BUILD/bench/fann_bench"
[ -x "$GEMM" ] || { echo "bench: $GEMM was not built" >&2; exit 1; }
[ -x "$FANN" ] || note "FANN skipped: libfann-dev (pkg-config fann) not available"
[ -x "$WORKER" ] || note "mlpsweep skipped: mlp-worker was not built"

# ---- configurations --------------------------------------------------------
# id net batch lr epochs runs
if [ $QUICK = 1 ]; then
    EA=${BENCH_EPOCHS:-2}; RA=${BENCH_RUNS:-1}; EC=1; RC=1
else
    EA=${BENCH_EPOCHS:-10}; RA=${BENCH_RUNS:-3}; EC=2; RC=1
fi
# Batch 1 uses lr 0.01: at lr 0.1 online SGD with softmax + cross-entropy diverges
# (PyTorch and scikit-learn end with NaN weights in the first epoch).
cat >"$OUT/configs.tsv" <<EOF
A 784-256-128-10 128 0.1 $EA $RA
B 784-100-100-10 50 0.1 $EA $RA
C 784-100-100-10 1 0.01 $EC $RC
EOF

# The worker's state (dataset cache) stays inside this run's temp dir.
export MLPD_HOME="$OUT/state"
mkdir -p "$MLPD_HOME"
VALF=0.001   # the smallest hold-out that still leaves a validation set (60 rows)

run_one() {   # run_one CFG IMPL RUN COMMAND... (stdin passed through)
    local cfg=$1 impl=$2 run=$3
    shift 3
    echo "  $cfg $impl run $run" >&2
    "$@" >"$OUT/$cfg.$impl.$run.out" 2>"$OUT/$cfg.$impl.$run.err"
}

while read -r cid net batch lr epochs runs; do
    hidden=$(echo "$net" | cut -d- -f2- | rev | cut -d- -f2- | rev | tr - ,)
    echo "config $cid: $net batch $batch lr $lr, $epochs epochs × $runs runs" >&2
    for run in $(seq 1 "$runs"); do
        if [ -x "$WORKER" ]; then
            printf '{"dataset":"fashion-mnist","seed":%d,"params":{"hidden":[%s],"activation":"relu","optimizer":"sgd","lr":%s,"batch_size":%d,"epochs":%d,"init":"he","normalize":"standardize","val_fraction":%s}}\n' \
                "$run" "$hidden" "$lr" "$batch" "$epochs" "$VALF" >"$OUT/$cid.spec.$run.json"
            run_one "$cid" mlpsweep "$run" "$WORKER" --spec "$OUT/$cid.spec.$run.json"
        fi
        [ $HAVE_TORCH = 1 ] && run_one "$cid" pytorch "$run" "$PY" "$BENCH/torch_mlp.py" \
            --hidden "$hidden" --batch "$batch" --lr "$lr" --epochs "$epochs" --seed "$run"
        [ $HAVE_SKLEARN = 1 ] && run_one "$cid" sklearn "$run" "$PY" "$BENCH/sklearn_mlp.py" \
            --hidden "$hidden" --batch "$batch" --lr "$lr" --epochs "$epochs" --seed "$run"
        if [ "$batch" = 1 ] && [ -x "$FANN" ] && [ "$net" = 784-100-100-10 ]; then
            run_one "$cid" fann "$run" "$FANN" --epochs "$epochs" --lr "$lr" --seed "$run"
        fi
        # GEMMs alone, in every run like the others: one warm-up epoch, then
        # 5 timed ones (2 for batch 1, whose epochs are long).
        run_one "$cid" gemm "$run" "$GEMM" --epochs $((batch == 1 ? 2 : 5)) "$net" "$batch" 60000
    done
done <"$OUT/configs.tsv"

# ---- machine facts ---------------------------------------------------------
pyver() { "$PY" -c "import $1; print($1.__version__)" 2>/dev/null || echo "not installed"; }
GEMM_LINE=$(grep -h '"openblas_core"' "$OUT"/*.gemm.*.out 2>/dev/null | head -1)
OB_CONFIG=$(echo "$GEMM_LINE" | sed -n 's/.*"openblas_config":"\([^"]*\)".*/\1/p')
OB_CORE=$(echo "$GEMM_LINE" | sed -n 's/.*"openblas_core":"\([^"]*\)".*/\1/p')
{
    echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') with \`bench/run.sh$( [ $QUICK = 1 ] && echo ' --quick')\`" \
         "(commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'))."
    echo
    echo "- CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), \`nproc\` = $NPROC," \
         "AVX-512: $(grep -q avx512f /proc/cpuinfo && echo yes || echo no)," \
         "AVX512-BF16: $(grep -q avx512_bf16 /proc/cpuinfo && echo yes || echo no)"
    AUTO=$(env -u OPENBLAS_CORETYPE "$GEMM" --epochs 1 2-2 1 1 2>/dev/null \
           | sed -n 's/.*"openblas_core":"\([^"]*\)".*/\1/p')
    echo "- OpenBLAS: ${OB_CONFIG:-?}; kernel (core) used: ${OB_CORE:-?}" \
         "(OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; without it OpenBLAS would pick ${AUTO:-?})"
    echo "- threads: OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1; torch.set_num_threads(1)"
    echo "- PyTorch $(pyver torch), scikit-learn $(pyver sklearn), NumPy $(pyver numpy)," \
         "FANN $(dpkg-query -W -f='${Version}' libfann-dev 2>/dev/null || echo 'not installed')," \
         "$("$PY" --version 2>&1), $(cc --version 2>/dev/null | head -1)"
    echo "- mlpsweep build: $BUILD (buildtype $(buildtype))," \
         "mlp-worker with val_fraction $VALF (59,940 training rows; the peers use all 60,000)"
    echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)"
    if [ -s "$NOTES" ]; then echo; echo "Notes:"; cat "$NOTES"; fi
} >"$OUT/facts.md"

"$PY" "$BENCH/report.py" table "$OUT" "$BENCH/RESULTS.md"
