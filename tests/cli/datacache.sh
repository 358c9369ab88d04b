#!/bin/bash
# datacache.sh — the prepared-data cache end to end (issue 17): grid file ->
# mlpctl -> mlpd -> mlp-worker -> store -> answer.
#
# One sweep over every normalisation (a toy CSV set with features in different
# units, 2 seeds; plus a Fashion-MNIST slice when the dataset is installed)
# runs three times against a private data dir:
#   1. with the cache: the workers build the entries (one per preparation);
#   2. again, after `mlpctl data verify` found every entry sound: workers map them;
#   3. on a fresh daemon with MLP_NO_DATA_CACHE=1: prepared in memory as before.
# The per-trial and per-epoch metrics of the three runs must be identical.
# Then a flipped byte in an entry's arrays: `data verify` reports it (exit 1)
# and removes the entry; the next sweep rebuilds it and still agrees.
LIB_NAME=datacache
. "$(dirname "$0")/lib.sh"

awk -v dir="$TMP" 'BEGIN { srand(11); for (f = 0; f < 2; f++) {
        file = f ? dir "/test.csv" : dir "/train.csv"; n = f ? 50 : 200
        for (i = 0; i < n; i++) {
            a = rand() * 2 - 1; b = 1000 + 300 * rand(); e = (i % 61 == 5) ? 9 : 0
            y = (a + (b - 1150) / 300 > 0) ? 1 : 0
            printf "%.4f,%.2f,%d,%d,%d\n", a, b, 5, e, y > file } } }'
cat >"$TMP/grid.json" <<JSON
{"name": "cache-csv", "seeds": 2, "metric": "val_accuracy",
 "dataset": {"format": "csv", "train": "$TMP/train.csv", "test": "$TMP/test.csv", "label": "last"},
 "base": {"epochs": 3, "batch_size": 16, "lr": 0.05, "hidden": [8], "curve_test": true},
 "grid": {"normalize": ["auto", "global", "standardize", "minmax", "none"], "train_size": [null, 120]}}
JSON
GRIDS="grid"
if [ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    cat >"$TMP/fashion.json" <<JSON
{"name": "cache-fashion", "seeds": 2, "dataset": "fashion-mnist",
 "base": {"epochs": 1, "batch_size": 64, "lr": 0.05, "hidden": [16], "train_size": 2000},
 "grid": {"normalize": ["global", "standardize"]}}
JSON
    GRIDS="grid fashion"
else
    echo "note: fashion-mnist not installed: the CSV sweep only"
fi

# sweep TAG: run every grid, keep trials and curves as JSON in $TMP/TAG-*.json.
sweep() {
    local tag=$1 g
    for g in $GRIDS; do
        run "$tag-submit-$g" 0 submit "$TMP/$g.json" --name "$tag-$g"
        run "$tag-wait-$g" 0 wait "$tag-$g" --timeout 600
        run "$tag-trials-$g" 0 results "$tag-$g" --trials --format json
        run "$tag-curves-$g" 0 results "$tag-$g" --curves --format json
    done
}

# same A B: the metrics of every trial and epoch of runs A and B agree exactly.
same() {
    checks=$((checks + 1))
    python3 - "$TMP" "$1" "$2" "$GRIDS" <<'PY' || fail "runs $1 and $2 differ"
import json, sys
tmp, a, b, grids = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split()
def rows(tag, g, kind):
    d = json.load(open(f"{tmp}/{tag}-{kind}-{g}.out"))
    rs = d["rows"] if isinstance(d, dict) and "rows" in d else d
    out = []
    for r in rs:
        r = {k: v for k, v in r.items() if "seconds" not in k and k not in ("trial", "sweep", "id", "started", "finished", "attempts")}
        out.append(json.dumps(r, sort_keys=True))
    return sorted(out)
bad = 0
for g in grids:
    for kind in ("trials", "curves"):
        x, y = rows(a, g, kind), rows(b, g, kind)
        if not x or x != y:
            bad += 1
            print(f"    {g} {kind}: {len(x)} vs {len(y)} rows", file=sys.stderr)
            for p, q in zip(x, y):
                if p != q:
                    print("    ", p[:300], "\n    ", q[:300], file=sys.stderr)
                    break
sys.exit(1 if bad else 0)
PY
}

start_daemon
sweep built
n_entries=$(ls "$MLPD_DATA/cache/"*.prep 2>/dev/null | wc -l)
# csv: auto=standardize, global, minmax, none (one entry for both train_size), and
# train_size 120 for the three with statistics: 7; fashion: 2.
want=7
[ "$GRIDS" != grid ] && want=9
checks=$((checks + 1))
[ "$n_entries" = "$want" ] || fail "expected $want cache entries, found $n_entries"
run verify-ok 0 data verify --json
jcheck verify-ok "d['entries'] == $want and d['bad'] == 0 and all(e['ok'] for e in d['list'])"
sweep mapped
same built mapped
grep -q "data cache: built" "$MLPD_HOME"/logs/*.log || fail "no trial log says it built an entry"

# A flipped byte in the arrays of the CSV "none" entry: verify finds and removes it.
entry=$(grep -l '"normalize":"none"' "$MLPD_DATA"/cache/csv-*.prep | head -1)
python3 - "$entry" <<'PY'
import os, sys
f = os.open(sys.argv[1], os.O_RDWR); size = os.fstat(f).st_size
b = os.pread(f, 1, size - 7); os.pwrite(f, bytes([b[0] ^ 0x10]), size - 7); os.close(f)
PY
run verify-bad 1 data verify
has verify-bad.out "corrupt: payload checksum mismatch"
has verify-bad.out "removed"
checks=$((checks + 1))
[ ! -e "$entry" ] || fail "the corrupt entry was not removed"
sweep rebuilt
same built rebuilt
checks=$((checks + 1))
[ -e "$entry" ] || fail "the entry was not rebuilt"
run verify-again 0 data verify

run shutdown 0 shutdown
stop_wait
export MLPD_HOME="$TMP/home-nocache" MLP_NO_DATA_CACHE=1
rm -rf "$MLPD_DATA/cache"
SOCK="$MLPD_HOME/mlpd.sock"
start_daemon
sweep nocache
same built nocache
checks=$((checks + 1))
[ ! -e "$MLPD_DATA/cache" ] || [ -z "$(ls "$MLPD_DATA/cache")" ] || fail "MLP_NO_DATA_CACHE=1 wrote cache entries"
run shutdown2 0 shutdown
stop_wait

echo "datacache: $checks checks, $failures failures"
[ "$failures" = 0 ]
