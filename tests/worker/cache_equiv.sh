#!/bin/sh
# cache_equiv.sh WORKER [OUTDIR] — the prepared-data cache and the lazy
# divergence reference change no metric.
#
# Every normalisation kind (auto global standardize minmax none) on a toy CSV
# set (features of different scales, a constant and a near-constant one;
# mini-batch, online and full-batch training, train_eval full and subsample,
# curve_test) and on a Fashion-MNIST slice (train_size 3000 and the whole
# split; skipped when the dataset is not installed) runs three times through
# the real mlp-worker:
#   cold   a fresh cache dir: the worker builds the prepared entry,
#   warm   the same cache dir: the worker maps the entry built by the cold run,
#   nocache MLP_NO_DATA_CACHE=1: loaded and prepared in memory, as before the cache,
#   eager  the warm cache with MLP_EAGER_REFERENCE=1: the train_eval rows and the
#          divergence reference in full before the first step, as before the
#          reference became lazy.
# Each run's stdout without its "seconds" fields must be byte-identical across
# the four.  With OUTDIR the warm outputs are kept there (bench/ compares
# them with an older build's).
set -u
WORKER=${1:?usage: cache_equiv.sh WORKER [OUTDIR]}
OUT=${2:-}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/cache-equiv.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export OPENBLAS_NUM_THREADS=1
unset MLP_NO_DATA_CACHE MLP_EAGER_REFERENCE
fails=0
cases=0
more_eager=0

# The toy CSV: 5 features in different units, column 3 constant, column 4 lit in 3 rows.
awk 'BEGIN { srand(7); for (f = 0; f < 2; f++) {
        file = f ? "'"$TMP"'/test.csv" : "'"$TMP"'/train.csv"; n = f ? 60 : 240
        for (i = 0; i < n; i++) {
            a = rand() * 2 - 1; b = 1000 + 300 * rand(); c = rand() < 0.5 ? 0 : 1
            e = (i % 97 == 5) ? 7 : 0
            y = (a + (b - 1150) / 300 + 0.3 * c > 0.2) ? 1 : 0
            if (i % 3 == 0) y = 2
            printf "%.4f,%.2f,%d,%d,%d,%d\n", a, b, c, 5, e, y > file } } }'
CSV='{"format":"csv","train":"'"$TMP"'/train.csv","test":"'"$TMP"'/test.csv","label":"last"}'

FASHION=""
for d in "${MLPD_DATA:-}" /usr/share/datasets; do
    [ -n "$d" ] && [ -e "$d/fashion-mnist/train-images-idx3-ubyte.gz" -o -e "$d/fashion-mnist/train-images-idx3-ubyte" ] && FASHION=1
done

run() { # NAME DATASET PARAMS
    name=$1
    cases=$((cases + 1))
    printf '{"dataset":%s,"seed":3,"params":%s}\n' "$2" "$3" >"$TMP/$name.json"
    for mode in cold warm nocache eager; do
        if [ $mode = nocache ]; then
            MLP_NO_DATA_CACHE=1 MLPD_DATA="$TMP/data-nc" "$WORKER" --spec "$TMP/$name.json" >"$TMP/$name.$mode.raw" 2>"$TMP/$name.$mode.err"
        elif [ $mode = eager ]; then
            MLP_WORKER_TIMING=1 MLP_EAGER_REFERENCE=1 MLPD_DATA="$TMP/data" "$WORKER" --spec "$TMP/$name.json" >"$TMP/$name.$mode.raw" 2>"$TMP/$name.$mode.err"
        else
            MLP_WORKER_TIMING=1 MLPD_DATA="$TMP/data" "$WORKER" --spec "$TMP/$name.json" >"$TMP/$name.$mode.raw" 2>"$TMP/$name.$mode.err"
        fi
        rc=$?
        if [ $rc != 0 ]; then
            echo "FAIL: $name ($mode): mlp-worker exited $rc"; sed 's/^/    /' "$TMP/$name.$mode.err" "$TMP/$name.$mode.raw" | head
            fails=$((fails + 1))
        fi
        sed 's/"seconds":[^,}]*//g' "$TMP/$name.$mode.raw" >"$TMP/$name.$mode"
    done
    if ! cmp -s "$TMP/$name.cold" "$TMP/$name.warm" || ! cmp -s "$TMP/$name.cold" "$TMP/$name.nocache"; then
        echo "FAIL: $name: cached and uncached outputs differ"
        diff "$TMP/$name.nocache" "$TMP/$name.warm" | head -6
        fails=$((fails + 1))
    fi
    if ! cmp -s "$TMP/$name.warm" "$TMP/$name.eager"; then
        echo "FAIL: $name: lazy and eager divergence reference give different outputs"
        diff "$TMP/$name.eager" "$TMP/$name.warm" | head -6
        fails=$((fails + 1))
    fi
    # The eager run did evaluate the reference in full (more rows than lazily).
    lr=$(sed -n 's/.* ref_rows \([0-9]*\) .*/\1/p' "$TMP/$name.warm.err")
    er=$(sed -n 's/.* ref_rows \([0-9]*\) .*/\1/p' "$TMP/$name.eager.err")
    [ -n "$lr" ] && [ -n "$er" ] && [ "$er" -gt "$lr" ] && more_eager=$((more_eager + 1))
    if ! grep -q '"event":"result"' "$TMP/$name.warm"; then
        echo "FAIL: $name: no result line"; fails=$((fails + 1))
    fi
    [ -n "$OUT" ] && cp "$TMP/$name.warm" "$OUT/$name.out"
}

[ -n "$OUT" ] && mkdir -p "$OUT"
for k in auto global standardize minmax none; do
    run "csv-$k" "$CSV" '{"hidden":[8],"epochs":3,"batch_size":16,"lr":0.05,"normalize":"'$k'","curve_test":true}'
    run "csv-$k-online" "$CSV" '{"hidden":[4],"epochs":2,"batch_size":1,"lr":0.01,"normalize":"'$k'","train_size":120,"train_eval":"full"}'
    run "csv-$k-full" "$CSV" '{"hidden":[],"epochs":3,"batch_size":1000,"lr":0.1,"normalize":"'$k'","val_fraction":0.25,"split_seed":4}'
    if [ -n "$FASHION" ]; then
        run "fashion-$k" '"fashion-mnist"' '{"hidden":[32],"epochs":2,"batch_size":64,"lr":0.05,"normalize":"'$k'","train_size":3000,"curve_test":true}'
    fi
done
if [ -n "$FASHION" ]; then
    run "fashion-whole" '"fashion-mnist"' '{"hidden":[16],"epochs":1,"batch_size":128,"lr":0.1}'
    run "fashion-whole-none" '"fashion-mnist"' '{"hidden":[16],"epochs":1,"batch_size":256,"lr":0.01,"normalize":"none","train_size":20000}'
else
    echo "note: fashion-mnist not installed: only the toy set was compared"
fi
if [ $more_eager = 0 ]; then
    echo "FAIL: no eager run evaluated more reference rows than its lazy run"; fails=$((fails + 1))
fi
echo "$cases cases ($more_eager with a partial reference when lazy), $fails failures"
[ $fails = 0 ]
