#!/usr/bin/env bash
# trust.sh — answers a user can take at their word (issue 16), through the real
# mlpctl, a private mlpd and real mlp-worker runs: ids never reused after a
# delete, grid files with text after the JSON object refused with the
# position (mlpctl and mlpd), and a sweep summary whose "best" never is a
# configuration whose every seed diverged.  Same harness as verbs.sh.
LIB_NAME=trust
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/grids"
G="$TMP/grids"
printf '{"dataset": {"name": "circles", "n": 200}, "base": {"epochs": 1}} junk\n' >"$G/junk.json"
printf '{"dataset": {"name": "circles", "n": 200}}\n{"dataset": "xor"}\n' >"$G/two.json"
printf '{"dataset": {"name": "circles", "n": 200}}\n  /* x */\n' >"$G/comment.json"
printf '{"name": "one", "dataset": {"name": "circles", "n": 200}, "base": {"epochs": 1, "hidden": [4]}, "seeds": 2}\n' >"$G/one.json"
# lr 1e30 with batches of 4 overflows in the first epoch: every seed's val_loss is null.
cat >"$G/diverge.json" <<'EOG'
{"name": "diverge", "dataset": {"name": "circles", "n": 200}, "seeds": 3, "metric": "val_loss",
 "base": {"epochs": 2, "hidden": [8], "batch_size": 4},
 "grid": {"lr": [1e30, 0.1]}}
EOG

# ---- trailing text: mlpctl refuses before any daemon is asked ------------------
run junk 4 submit "$G/junk.json"
has junk.err "line 1, column 67: text after the JSON value"
run two 4 submit --dry-run "$G/two.json"
has two.err "line 2, column 1: text after the JSON value"
run comment 4 submit "$G/comment.json"
has comment.err "line 2, column 3: text after the JSON value: a comment (JSON does not allow comments"

start_daemon

# ---- trailing text: mlpd refuses a request line with text after it -------------
checks=$((checks + 1))
python3 - "$SOCK" >"$TMP/raw.out" <<'EOF' || fail "mlpd accepted a request line with text after the JSON value: $(cat "$TMP/raw.out")"
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rwb")
for line in (b'{"op": "status"} junk\n', b'{"op": "status"}{"op": "status"}\n'):
    f.write(line)
    f.flush()
    r = json.loads(f.readline())
    print(r)
    assert r["ok"] is False and r["error"]["code"] == "invalid_request", r
    assert "column 18: text after the JSON value" in r["error"]["message"] or \
        "column 17: text after the JSON value" in r["error"]["message"], r
f.write(b'{"op": "status"}\n')
f.flush()
assert json.loads(f.readline())["ok"] is True
EOF

# ---- ids are never reused ------------------------------------------------------
run one 0 --json submit "$G/one.json"
run one-wait 0 wait one
run two-sub 0 --json submit "$G/one.json" --name newest
run two-wait 0 wait newest
old_sweep=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sweep"]["id"])' "$TMP/two-sub.out")
run two-trials 0 --json results newest --trials
old_max=$(python3 -c 'import json,sys; print(max(r["trial"] for r in json.load(open(sys.argv[1]))["rows"]))' "$TMP/two-trials.out")
run del 0 delete newest
run three 0 --json submit "$G/one.json" --name after
jcheck three "d['sweep']['id'] > $old_sweep"
run three-wait 0 wait after
run three-trials 0 --json results after --trials
jcheck three-trials "min(r['trial'] for r in d['rows']) > $old_max"
# The id a script held for the deleted sweep (and its trials) names nothing now.
run old-wait 1 wait "$old_sweep"
has old-wait.err "no sweep"
run old-trial 1 trial "$old_max"

# ---- a configuration whose seeds all diverged is never the summary's best ------
run div 0 submit "$G/diverge.json"
run div-wait 0 wait diverge
run div-list 0 --json list
jcheck div-list '[s for s in d["sweeps"] if s["name"] == "diverge"][0]["best"]["config"] == 2'
run div-status 0 --json best diverge
jcheck div-status 'd["configs"][0]["config"]["id"] == 2 and d["configs"][0]["stat"]["n"] == 3'

# ---- zero-variance pairs read "identical on every seed" -----------------------
# Zero initial weights and full-batch steps: nothing random is left, so every seed
# trains the same network; sgd ignores momentum, so both configurations are equal too.
cat >"$G/zero.json" <<'EOG'
{"name": "zero", "dataset": {"name": "circles", "n": 200}, "seeds": 3, "metric": "val_loss",
 "base": {"epochs": 3, "hidden": [4], "init": "zeros", "batch_size": 1000, "lr": 0.3},
 "grid": {"momentum": [0.5, 0.9]}}
EOG
run zero 0 submit "$G/zero.json"
run zero-wait 0 wait zero
run zero-best 0 best zero
has zero-best.out "#1 and #2 are identical on every seed"
run zero-cmp 0 compare zero 1 2
has zero-cmp.out "identical on every seed (no spread: no test needed)"
has zero-cmp.out "are identical on every shared seed on val_loss"
checks=$((checks + 1))
! grep -qiE "nan|too few" "$TMP/zero-best.out" "$TMP/zero-cmp.out" || fail "zero: t = nan or 'too few' in $(cat "$TMP/zero-best.out" "$TMP/zero-cmp.out")"
run zero-list 0 --json list
jcheck zero-list '[s for s in d["sweeps"] if s["name"] == "zero"][0]["best"]["se"] == 0'

echo "$checks checks, $failures failures"
[ "$failures" = 0 ]
