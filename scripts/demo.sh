#!/usr/bin/env bash
# demo.sh — the quick start: install what is missing, build, start mlpd (unless
# it already runs), submit configs/demo.json (a real sweep on Fashion-MNIST),
# watch it, and print the best configuration.  The daemon is left running:
# `mlpctl status`, `mlpctl shutdown`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${MLP_BUILD_DIR:-$ROOT/build}
"$ROOT/scripts/setup.sh"

export PATH="$BUILD/daemon:$BUILD/cli:$BUILD/worker:$PATH"

if ! mlpctl status >/dev/null 2>&1; then
  echo "==> starting mlpd"
  mlpd
  for _ in $(seq 1 50); do mlpctl status >/dev/null 2>&1 && break; sleep 0.1; done
fi
mlpctl status

name="demo-$(date +%Y%m%d-%H%M%S)"
echo "==> mlpctl submit configs/demo.json --name $name"
mlpctl submit "$ROOT/configs/demo.json" --name "$name"
echo "==> mlpctl watch $name"
mlpctl watch "$name" || true
echo "==> mlpctl show $name"
mlpctl show "$name"
echo "==> mlpctl best $name --top 3"
mlpctl best "$name" --top 3
echo
echo "mlpd keeps running in the background: mlpctl list, mlpctl status, mlpctl shutdown."
