#!/usr/bin/env bash
# usability.sh — the daily-use fixes of issue 11 through the real mlpctl and a private
# mlpd: names, priorities, hints, fixed CSV columns, the significance sentence,
# plurals, the database mode and the global watch.  Same harness as verbs.sh.
# Needs MLPCTL, MLPD and MLP_WORKER (set by meson); exits 77 (skip) while
# mlpd is not built yet.
LIB_NAME=usability
. "$(dirname "$0")/lib.sh"

umask 022
mkdir -p "$TMP/grids"
cat >"$TMP/grids/tiny.json" <<'EOG'
{
  "name": "tiny",
  "dataset": {"name": "xor", "n": 200},
  "seeds": 3,
  "base": {"epochs": 2, "batch_size": 32},
  "grid": {"hidden": [[4], [8]], "lr": [0.1, 0.3]}
}
EOG
printf '{\n  // one rate\n  "dataset": "xor", "grid": {"lr": [0.1]}\n}\n' >"$TMP/grids/comment.json"
printf '{"dataset": "xor", "grid": {"learning_rate": [0.1]}}\n' >"$TMP/grids/alias.json"
printf '{"dataset": "xor", "metric": "val_acc"}\n' >"$TMP/grids/metric.json"
printf '{"dataset": "xor", "seeds": 1, "base": {"epochs": 1}}\n' >"$TMP/grids/one.json"
long=$(python3 -c 'print("é" * 100)') # 200 bytes: the longest name
printf '{"name": "%s", "dataset": "xor", "seeds": 1, "base": {"epochs": 1}}\n' "$long" >"$TMP/grids/long.json"

# ---- no daemon needed ----------------------------------------------------------
run comment 4 submit "$TMP/grids/comment.json"
has comment.err "line 2, column 3"
has comment.err "JSON does not allow comments; remove them"
run alias 4 submit "$TMP/grids/alias.json"
has alias.err 'did you mean "lr"'
run alias-metric 4 submit "$TMP/grids/metric.json"
has alias-metric.err 'did you mean "val_accuracy"'
run prio-range 2 submit "$TMP/grids/one.json" --priority 1000001
has prio-range.err "-1000000..1000000"
run name-long 2 submit "$TMP/grids/one.json" --name "${long}x"
has name-long.err "at most 200 bytes"
run name-digits 2 submit "$TMP/grids/one.json" --name 123
run csv-json 2 --json results 1 --format csv
has csv-json.err "exclude each other"

# ---- with a daemon -------------------------------------------------------------
start_daemon
db=$(ls "$MLPD_HOME"/*.db 2>/dev/null | head -1)
checks=$((checks + 1))
[ -n "$db" ] && [ "$(stat -c %a "$db")" = 600 ] || fail "database $db is not 0600: $(stat -c %a "$db" 2>&1)"

run one-dry 0 submit "$TMP/grids/one.json" --dry-run
has one-dry.out "1 configuration × 1 seed = 1 trial (dry run"
run tiny 0 submit "$TMP/grids/tiny.json"
has tiny.out '"tiny": 4 configurations × 3 seeds = 12 trials'
run tiny-dry 0 submit "$TMP/grids/tiny.json" --dry-run
has tiny-dry.out "tiny-2: 4 configurations"
run long1 0 submit "$TMP/grids/long.json" --priority -1000000
run long2-dry 0 --json submit "$TMP/grids/long.json" --dry-run
jcheck long2-dry 'd["name"].endswith("-2") and len(d["name"].encode()) <= 200'
# The global watch, not on a terminal: a line per sweep only when it changed.
run watch 0 watch
checks=$((checks + 1))
python3 - "$TMP/watch.out" <<'EOP' || fail "global watch repeated an unchanged line"
import re, sys
seen = {}
for line in open(sys.argv[1]):
    if ": " not in line or " ended: " in line:
        continue
    name, rest = line.split(": ", 1)
    state = re.sub(r"ETA [^,]*", "", rest)
    if seen.get(name) == state:
        print("    repeated:", line.strip(), file=sys.stderr)
        sys.exit(1)
    seen[name] = state
EOP
run wait 0 wait tiny
for f in "$db"-wal "$db"-shm; do
    [ -e "$f" ] || continue
    checks=$((checks + 1))
    [ "$(stat -c %a "$f")" = 600 ] || fail "$f is not 0600"
done

run csv-trials 0 results tiny --trials --format csv
checks=$((checks + 1))
head -1 "$TMP/csv-trials.out" | tr -d '\r' | grep -q ',error$' || fail "per-trial CSV lacks a final error column: $(head -1 "$TMP/csv-trials.out")"
run csv-configs 0 results tiny --format csv
has csv-configs.out "val_accuracy_mean"
run best 0 best tiny --top 3
checks=$((checks + 1))
grep -Eq '^#1 is (not )?significantly better than #2 \(Welch.s t = -?[0-9.]+, df = [0-9.]+, p (= [01]\.[0-9]{3}|< 0\.001)\)$' "$TMP/best.out" ||
    grep -q "No comparison" "$TMP/best.out" || { fail "best has no significance sentence"; cat "$TMP/best.out" >&2; }
run best-json 0 --json best tiny --top 4
jcheck best-json 'all("diverged" in c for c in d["configs"]) and all(c["stat"].get("ci_high", 0) is None or c["stat"]["ci_high"] <= 1 for c in d["configs"])'

"$MLPCTL" shutdown >/dev/null 2>&1
for _ in $(seq 1 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
echo "$checks checks, $failures failed"
[ "$failures" = 0 ]
