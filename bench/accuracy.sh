#!/bin/bash
# bench/accuracy.sh — is mlpsweep's training as accurate as PyTorch's on the same
# recipe?  Issue 6: mean test accuracy over >= 5 seeds equal within 2 standard errors.
#
#   bench/accuracy.sh [SEEDS] [NET BATCH LR EPOCHS]
#   default: 5 seeds, 784-256-128-10, batch 128, lr 0.1, 10 epochs
#
# For each seed 1..SEEDS it trains the real mlp-worker (val_fraction 0.001) and
# bench/torch_mlp.py (He init, all 60,000 training rows) on Fashion-MNIST, then
# prints mean ± SE of the test accuracy for each, the difference and its standard
# error sqrt(SE1² + SE2²), and whether |difference| <= 2 SE; the result goes to the
# "accuracy" section of bench/RESULTS.md.  Needs a built build-bench/ (bench/run.sh
# builds it) and python3-torch.  Single-threaded: OPENBLAS_NUM_THREADS=1.
set -u
SEEDS=${1:-5}
NET=${2:-784-256-128-10}
BATCH=${3:-128}
LR=${4:-0.1}
EPOCHS=${5:-10}
case "$SEEDS" in ''|*[!0-9]*) echo "usage: bench/accuracy.sh [SEEDS] [NET BATCH LR EPOCHS]" >&2; exit 2 ;; esac
[ "$SEEDS" -ge 2 ] || { echo "bench/accuracy.sh: need at least 2 seeds" >&2; exit 2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BENCH_BUILD:-$ROOT/build-bench}
PY=${PYTHON:-/usr/bin/python3}
WORKER="$BUILD/worker/mlp-worker"
[ -x "$WORKER" ] || { echo "bench/accuracy.sh: $WORKER missing; run bench/run.sh first" >&2; exit 1; }
"$PY" -c 'import torch' 2>/dev/null || { echo "bench/accuracy.sh: python3-torch missing" >&2; exit 1; }
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
OUT=$(mktemp -d /tmp/mlpacc.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
export MLPD_HOME="$OUT/state"
mkdir -p "$MLPD_HOME"
hidden=$(echo "$NET" | cut -d- -f2- | rev | cut -d- -f2- | rev | tr - ,)

for s in $(seq 1 "$SEEDS"); do
    echo "seed $s" >&2
    printf '{"dataset":"fashion-mnist","seed":%d,"params":{"hidden":[%s],"activation":"relu","optimizer":"sgd","lr":%s,"batch_size":%d,"epochs":%d,"init":"he","normalize":"standardize","val_fraction":0.001}}\n' \
        "$s" "$hidden" "$LR" "$BATCH" "$EPOCHS" | "$WORKER" | grep '"event":"result"' >>"$OUT/mlpsweep.jsonl"
    "$PY" "$ROOT/bench/torch_mlp.py" --hidden "$hidden" --batch "$BATCH" --lr "$LR" \
        --epochs "$EPOCHS" --seed "$s" >>"$OUT/pytorch.jsonl"
done

"$PY" - "$OUT" "$NET" "$BATCH" "$LR" "$EPOCHS" "$SEEDS" <<'EOF' | tee "$OUT/section.md"
import json, math, statistics, sys
out, net, batch, lr, epochs, seeds = sys.argv[1:]
def accs(name):
    with open(f"{out}/{name}.jsonl") as f:
        return [json.loads(l)["test_accuracy"] for l in f if l.strip()]
rows, stats = [], {}
for name in ("mlpsweep", "pytorch"):
    a = accs(name)
    if len(a) < 2:
        print(f"{name}: only {len(a)} runs finished"); sys.exit(1)
    m, se = statistics.mean(a), statistics.stdev(a) / math.sqrt(len(a))
    stats[name] = (m, se)
    rows.append(f"| {name} | {len(a)} | {m:.4f} ± {se:.4f} | {' '.join(f'{v:.4f}' for v in a)} |")
d = stats["mlpsweep"][0] - stats["pytorch"][0]
sed = math.hypot(stats["mlpsweep"][1], stats["pytorch"][1])
verdict = "equal within 2 SE" if abs(d) <= 2 * sed else "NOT equal within 2 SE"
print("## Accuracy: mlpsweep vs PyTorch, same recipe\n")
print(f"Test accuracy on Fashion-MNIST, {net}, batch {batch}, lr {lr}, {epochs} epochs, "
      f"seeds 1..{seeds} (`bench/accuracy.sh {seeds} {net} {batch} {lr} {epochs}`):\n")
print("| implementation | seeds | mean ± SE | per seed |\n|---|---:|---:|---|")
print("\n".join(rows))
print(f"\nDifference mlpsweep − PyTorch = {d:+.4f}, SE of the difference {sed:.4f}: {verdict}.")
EOF
[ "${PIPESTATUS[0]}" = 0 ] || exit 1
{ echo; echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)," \
       "load average $(cut -d' ' -f1-3 /proc/loadavg)."; } >>"$OUT/section.md"
"$PY" "$ROOT/bench/report.py" section "$ROOT/bench/RESULTS.md" accuracy <"$OUT/section.md"
