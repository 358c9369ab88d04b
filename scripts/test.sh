#!/usr/bin/env bash
# test.sh — the whole suite, as CI runs it: install what is missing (with the
# test tools), build with -Werror, run every test, compile the programs in the
# release buildtype (-O3, NDEBUG: warnings only an optimised build sees), then
# build again with AddressSanitizer + UndefinedBehaviorSanitizer and run every
# test there too, then fuzz each libFuzzer target for 15 s.  Every build here
# turns warnings into errors (-Dwerror=true); meson's default does not, so a
# user's or packager's newer compiler never fails on a new warning.
#
#   MLP_TEST_NO_ASAN=1 scripts/test.sh      skip the sanitizer pass (quicker, local use)
#   MLP_TEST_NO_FUZZ=1 scripts/test.sh      skip the short libFuzzer runs
#   MLP_TEST_NO_RELEASE=1 scripts/test.sh   skip the release-buildtype compile
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${MLP_BUILD_DIR:-$ROOT/build}
ASAN=${MLP_ASAN_BUILD_DIR:-$ROOT/build-asan}
REL=${MLP_RELEASE_BUILD_DIR:-$ROOT/build-release}

MLP_MESON_ARGS="-Dwerror=true" "$ROOT/scripts/setup.sh" --test || exit 1
# A build/ configured earlier without -Werror is switched to it (a no-op when it has it).
meson configure "$BUILD" -Dwerror=true >/dev/null && ninja -C "$BUILD" >/dev/null || exit 1

status=0
extra_ok=0 extra_bad=0 # passes outside meson test: the release compile, the libFuzzer runs
if [ "${MLP_TEST_NO_RELEASE:-0}" != 1 ]; then
  # Compile only (the programs a packager builds), no second test run: the
  # suite's behaviour is the debug build's; this catches what -O3 warns about.
  echo "==> release build ($REL)"
  [ -f "$REL/build.ninja" ] || meson setup "$REL" "$ROOT" --buildtype=release -Dwerror=true >/dev/null
  if ninja -C "$REL" daemon/mlpd worker/mlp-worker cli/mlpctl >/dev/null; then
    extra_ok=$((extra_ok + 1))
  else
    echo "release build failed"; extra_bad=$((extra_bad + 1)); status=1
  fi
fi

echo "==> meson test ($BUILD)"
meson test -C "$BUILD" --print-errorlogs --num-processes 2 || status=1

if [ "${MLP_TEST_NO_ASAN:-0}" != 1 ]; then
  [ -f "$ASAN/build.ninja" ] || meson setup "$ASAN" "$ROOT" -Dsanitize=true --buildtype=debugoptimized -Dwerror=true >/dev/null
  ninja -C "$ASAN" >/dev/null || exit 1
  echo "==> meson test under ASan+UBSan ($ASAN)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    MLP_TEST_SANITIZED=1 meson test -C "$ASAN" --print-errorlogs --num-processes 2 \
    --timeout-multiplier 3 || status=1
fi

# A short libFuzzer run of every fuzz target (clang), on top of the corpus
# replays that meson test already did: 15 s each, new crashes fail the suite.
FUZZ=${MLP_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
if [ "${MLP_TEST_NO_FUZZ:-0}" != 1 ] && command -v clang >/dev/null 2>&1; then
  [ -f "$FUZZ/build.ninja" ] || CC=clang meson setup "$FUZZ" "$ROOT" -Dfuzz=true -Dwerror=true >/dev/null
  if ninja -C "$FUZZ" tests/fuzz/fuzz-request tests/fuzz/fuzz-grid tests/fuzz/fuzz-data \
      tests/fuzz/fuzz-trialwire >/dev/null; then
    for t in request grid data trialwire; do
      work=$(mktemp -d)
      cp -r "$ROOT/tests/fuzz/corpus/$t/." "$work/"
      echo "==> libFuzzer: $t (15 s)"
      if (cd "$work" && "$FUZZ/tests/fuzz/fuzz-$t" -max_total_time=15 -print_final_stats=1 \
            -artifact_prefix="$work/" "$work" >"$work/log" 2>&1); then
        grep -E "stat::number_of_executed_units" "$work/log" | sed "s/^/    $t: /"
        extra_ok=$((extra_ok + 1))
      else
        tail -40 "$work/log"; echo "libFuzzer found a crash in $t: reproducer in $work"
        extra_bad=$((extra_bad + 1)); status=1
      fi
    done
  else
    echo "fuzz build failed"; extra_bad=$((extra_bad + 1)); status=1
  fi
fi

# One closing line over every pass: "N passed, N failed, N skipped".
python3 - "$extra_ok" "$extra_bad" "$BUILD" "$ASAN" <<'PY'
import json, os, sys
ok, bad, skip = int(sys.argv[1]), int(sys.argv[2]), 0
for d in sys.argv[3:]:
    p = os.path.join(d, "meson-logs", "testlog.json")
    if not os.path.exists(p):
        continue
    for line in open(p):
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"): ok += 1
        elif r == "SKIP": skip += 1
        else: bad += 1
print(f"{ok} passed, {bad} failed, {skip} skipped")
PY
exit $status
