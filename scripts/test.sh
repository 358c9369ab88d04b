#!/usr/bin/env bash
# test.sh — the whole suite, as CI runs it: install what is missing (with the
# test tools), build, run every test, then build again with AddressSanitizer +
# UndefinedBehaviorSanitizer and run every test there too.
#
#   MLP_TEST_NO_ASAN=1 scripts/test.sh    skip the sanitizer pass (quicker, local use)
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${MLP_BUILD_DIR:-$ROOT/build}
ASAN=${MLP_ASAN_BUILD_DIR:-$ROOT/build-asan}

"$ROOT/scripts/setup.sh" --test || exit 1

status=0
echo "==> meson test ($BUILD)"
meson test -C "$BUILD" --print-errorlogs --num-processes 2 || status=1

if [ "${MLP_TEST_NO_ASAN:-0}" != 1 ]; then
  [ -f "$ASAN/build.ninja" ] || meson setup "$ASAN" "$ROOT" -Dsanitize=true --buildtype=debugoptimized >/dev/null
  ninja -C "$ASAN" >/dev/null || exit 1
  echo "==> meson test under ASan+UBSan ($ASAN)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    MLP_TEST_SANITIZED=1 meson test -C "$ASAN" --print-errorlogs --num-processes 2 \
    --timeout-multiplier 3 || status=1
fi

# One closing line over every pass: "N passed, N failed, N skipped".
python3 - "$BUILD" "$ASAN" <<'PY'
import json, os, sys
ok = bad = skip = 0
for d in sys.argv[1:]:
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
