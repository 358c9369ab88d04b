#!/bin/sh
# Learning curves under each input normalisation (issue 9): test accuracy at
# train_size 250..5000, mean ± SE over seeds, on Fashion-MNIST and the MNIST
# subset.  About 4 minutes on 2 cores.  Usage: bench/normalize.sh [build dir]
set -eu
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
ninja -C "$BUILD" bench/normalize >/dev/null
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-2}
"$BUILD/bench/normalize" fashion-mnist "${SEEDS:-3}" "${EPOCHS:-15}"
if [ "${MNIST:-1}" = 1 ]; then
    echo
    "$BUILD/bench/normalize" mnist "${SEEDS:-3}" "${EPOCHS:-15}" ||
        echo "(mnist not installed: mlpctl data fetch mnist)"
fi
