#!/usr/bin/env bash
# check-deb.sh — build the Debian package from this checkout and check that the
# installed programs run the demo sweep.
#
#   scripts/check-deb.sh            build the .deb (dpkg-buildpackage -us -uc -b), list and
#                                   check its files, unpack it (dpkg -x, the system is not
#                                   touched) and run configs/demo.json through the unpacked
#                                   mlpd/mlpctl/mlp-worker in a private $HOME; print timings
#   scripts/check-deb.sh --install  also `dpkg -i` it (root) and run the demo through /usr/bin
#   scripts/check-deb.sh --quick    a 2-configuration × 2-seed, 2-epoch grid instead of demo.json
#
# The .deb is left in $MLP_DEB_OUT (default: build-deb/ in the checkout).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${MLP_DEB_OUT:-$ROOT/build-deb}
install=0 quick=0
for a in "$@"; do
  case "$a" in
    --install) install=1 ;;
    --quick) quick=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "check-deb.sh: unknown option $a" >&2; exit 2 ;;
  esac
done
say() { printf '==> %s\n' "$*"; }
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

# The build dependencies (debian/control) and the packaging tools.
need=()
for p in debhelper dpkg-dev meson ninja-build pkg-config python3 libsqlite3-dev libuv1-dev \
         libcjson-dev libopenblas-dev zlib1g-dev libmicrohttpd-dev dataset-fashion-mnist; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then
  say "installing: ${need[*]}"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src="$work/mlpsweep-0.1.0"
mkdir -p "$src" "$OUT"
# The committed tree plus uncommitted edits, never build directories.
(cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$src" 2>/dev/null) ||
  (cd "$ROOT" && tar --exclude='./build*' --exclude=./.git -cf - . | tar -C "$src" -xf -)

say "dpkg-buildpackage -us -uc -b"
t0=$(date +%s)
if ! (cd "$src" && dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1); then
  tail -40 "$work/build.log"; echo "check-deb.sh: the package build failed" >&2; exit 1
fi
t_build=$(( $(date +%s) - t0 ))
deb=$(ls "$work"/mlpsweep_*.deb)
cp "$deb" "$OUT/"
deb="$OUT/$(basename "$deb")"
say "built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB) in $t_build s"

# Every file a user is promised (README "Installing").
fail=0
contents=$(dpkg-deb -c "$deb" | awk '{print $NF}')
for f in ./usr/bin/mlpd ./usr/bin/mlpctl ./usr/bin/mlp-worker \
         ./usr/share/man/man1/mlpctl.1.gz ./usr/share/man/man1/mlp-worker.1.gz \
         ./usr/share/man/man8/mlpd.8.gz ./usr/share/bash-completion/completions/mlpctl \
         ./usr/lib/systemd/user/mlpd.service ./usr/share/doc/mlpsweep/examples/demo.json \
         ./usr/share/doc/mlpsweep/copyright; do
  if grep -qxF "$f" <<<"$contents"; then echo "    ok  $f"; else echo "    MISSING  $f"; fail=1; fi
done
[ "$fail" = 0 ] || { echo "check-deb.sh: the package lacks files" >&2; exit 1; }

root="$work/root"
dpkg -x "$deb" "$root"
bin="$root/usr/bin"
grep -q "^ExecStart=/usr/bin/mlpd --foreground" "$root/usr/lib/systemd/user/mlpd.service" ||
  { echo "check-deb.sh: the systemd unit does not start /usr/bin/mlpd" >&2; exit 1; }
if [ "$install" = 1 ]; then
  say "dpkg -i $(basename "$deb")"
  $SUDO dpkg -i "$deb" >/dev/null
  bin=/usr/bin
  man -w mlpctl >/dev/null 2>&1 || echo "    (man-db not installed: man pages not checked with man)"
fi

# The demo sweep through the installed programs, in a private home.
export HOME="$work/home" PATH="$bin:$PATH"
unset MLPD_HOME XDG_RUNTIME_DIR XDG_STATE_HOME XDG_DATA_HOME XDG_CONFIG_HOME || true
mkdir -p "$HOME"
grid="$root/usr/share/doc/mlpsweep/examples/demo.json"
if [ "$quick" = 1 ]; then
  grid="$work/quick.json"
  cat >"$grid" <<'JSON'
{"name": "deb-quick", "dataset": "fashion-mnist", "seeds": 2,
 "base": {"epochs": 2, "batch_size": 128, "train_size": 10000},
 "grid": {"hidden": [[32], [64]]}}
JSON
fi
say "mlpctl data fetch fashion-mnist ($(command -v mlpctl))"
mlpctl data fetch fashion-mnist
mlpd
for _ in $(seq 1 100); do mlpctl status >/dev/null 2>&1 && break; sleep 0.1; done
say "mlpctl submit $(basename "$grid")"
t0=$(date +%s)
mlpctl submit "$grid" --name deb-demo
mlpctl wait deb-demo >/dev/null || true
t_demo=$(( $(date +%s) - t0 ))
mlpctl best deb-demo --top 2
state=$(mlpctl list --json | python3 -c 'import json,sys; print([s["state"] for s in json.load(sys.stdin)["sweeps"] if s["name"]=="deb-demo"][0])')
mlpctl shutdown >/dev/null 2>&1 || true
say "package build $t_build s; demo sweep through the installed programs $t_demo s (state $state); load $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$state" = done ] || { echo "check-deb.sh: the demo sweep ended $state" >&2; exit 1; }
echo "check-deb.sh: ok ($deb)"
