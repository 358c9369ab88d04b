#!/bin/bash
# bench/train_eval.sh — trial wall time with train metrics on the whole training
# split ("train_eval": "full", the old behaviour) and on the fixed subsample
# the size of the validation split ("subsample", the default).
#
#   bench/train_eval.sh [RUNS]        (default 3 runs of each, interleaved)
#
# One trial: full Fashion-MNIST (54000 train / 6000 val / 10000 test rows),
# 784-256-128-10, batch 128, sgd lr 0.1, 10 epochs, seed 1, OPENBLAS_NUM_THREADS=1.
# Prints, per setting: trial wall time (the result line's "seconds": data load
# included), the summed training-pass seconds of the epoch lines, the
# difference (evaluation and load), and the test accuracy; medians over runs.
# The table goes to stdout and into bench/RESULTS.md ("Train metrics on a
# subsample"), replacing the section of an earlier run.
# Environment: WORKER (default <repo>/build/worker/mlp-worker), PYTHON.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORKER=${WORKER:-$ROOT/build/worker/mlp-worker}
PY=${PYTHON:-/usr/bin/python3}
RUNS=${1:-3}
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
OUT=$(mktemp -d /tmp/mlp-train-eval.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
[ -x "$WORKER" ] || { echo "train_eval.sh: no worker at $WORKER (ninja -C build)" >&2; exit 1; }

for r in $(seq 1 "$RUNS"); do
    for te in full subsample; do
        printf '{"dataset":"fashion-mnist","seed":1,"params":{"hidden":[256,128],"batch_size":128,"lr":0.1,"epochs":10,"train_eval":"%s"}}' "$te" \
            | "$WORKER" > "$OUT/$te.$r.jsonl" 2>/dev/null
    done
done

TABLE=$("$PY" - "$OUT" "$RUNS" <<'PYEOF'
import json, statistics, sys
out, runs = sys.argv[1], int(sys.argv[2])
rows = {}
for te in ("full", "subsample"):
    wall, train, acc = [], [], []
    for r in range(1, runs + 1):
        lines = [json.loads(l) for l in open("%s/%s.%d.jsonl" % (out, te, r))]
        res = lines[-1]
        wall.append(res["seconds"])
        train.append(sum(l["seconds"] for l in lines if l["event"] == "epoch"))
        acc.append(res["test_accuracy"])
    rows[te] = (statistics.median(wall), statistics.median(train), statistics.mean(acc))
print("| train_eval | trial wall s | training passes s | rest (eval + load) s | test accuracy |")
print("|---|---|---|---|---|")
for te, (w, t, a) in rows.items():
    print("| %s | %.2f | %.2f | %.2f | %.4f |" % (te, w, t, w - t, a))
f, s = rows["full"][0], rows["subsample"][0]
print()
print("Wall time: %.2f s -> %.2f s (%.0f %% less); medians of %d runs each." % (f, s, 100 * (f - s) / f, runs))
PYEOF
)
echo "$TABLE"

CPU=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
SECTION="## Train metrics on a subsample (bench/train_eval.sh)

Full Fashion-MNIST, 784-256-128-10, batch 128, SGD lr 0.1, 10 epochs, one BLAS
thread, $CPU, $(date -u +%Y-%m-%d).  \`full\` evaluates the 54000 training rows
after every epoch (the old behaviour); \`subsample\` (the default) the fixed
6000-row subsample.  The weights are the same in both (only what is measured
differs), so the test accuracy is identical.  The "rest" column is the figure
to compare: the training passes vary with the machine's load between runs.

$TABLE
"
RES="$ROOT/bench/RESULTS.md"
"$PY" - "$RES" "$SECTION" <<'PYEOF'
import re, sys
path, section = sys.argv[1], sys.argv[2]
text = open(path).read()
head = "## Train metrics on a subsample"
i = text.find(head)
if i >= 0:
    j = text.find("\n## ", i + 1)
    text = text[:i] + (text[j + 1:] if j >= 0 else "")
open(path, "w").write(text.rstrip("\n") + "\n\n" + section)
PYEOF
echo "written to $RES"
