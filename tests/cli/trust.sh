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

# ---- help texts say that a SWEEP may be a prefix of its name -----------------
run help-main 0 help
has help-main.out "or a prefix of its name that only one"
for v in show best compare wait cancel delete plot; do
    run "help-$v" 0 help "$v"
    has "help-$v.out" "a prefix of its name that only one sweep has"
done

# ---- one name rule (bytes), said the same way in the help and the docs --------
run help-submit 0 help submit
has help-submit.out "1 to 200 bytes of UTF-8"
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
checks=$((checks + 1))
! grep -nE "200 characters|1–200 characters" "$SRC/docs/SPEC.md" "$SRC/daemon/PROTOCOL.md" "$SRC/README.md" ||
    fail "a document gives the name limit in characters (the rule is 200 bytes)"

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

# ---- the learning rate of every epoch is stored and shown ----------------------
cat >"$G/sched.json" <<'EOG'
{"name": "sched", "dataset": {"name": "circles", "n": 200}, "seeds": 2,
 "base": {"epochs": 4, "hidden": [4], "lr": 0.2},
 "grid": {"lr_schedule": [null, {"kind": "step", "step_size": 2, "gamma": 0.5}]}}
EOG
run sched 0 submit "$G/sched.json"
run sched-wait 0 wait sched
run sched-trials 0 --json results sched --trials
step_trial=$(python3 -c 'import json,sys; print([r["trial"] for r in json.load(open(sys.argv[1]))["rows"] if r["config"] == 2][0])' "$TMP/sched-trials.out")
const_trial=$(python3 -c 'import json,sys; print([r["trial"] for r in json.load(open(sys.argv[1]))["rows"] if r["config"] == 1][0])' "$TMP/sched-trials.out")
# step: lr * 0.5^floor(t/2) for epochs t = 0..3
run sched-trial 0 --json trial "$step_trial"
jcheck sched-trial '[r["lr"] for r in d["trial"]["curve"]] == [0.2, 0.2, 0.1, 0.1]'
run sched-trial-h 0 trial "$step_trial"
checks=$((checks + 1))
python3 - "$TMP/sched-trial-h.out" <<'EOF' || fail "trial: no lr column with 0.2 0.2 0.1 0.1"
import sys
lines = open(sys.argv[1]).read().split("curve:\n")[1].splitlines()
head = lines[0].split()
assert head[-1] == "lr", head
assert [l.split()[-1] for l in lines[1:5]] == ["0.2", "0.2", "0.1", "0.1"], lines
EOF
run const-trial 0 --json trial "$const_trial"
jcheck const-trial 'all(r["lr"] is None for r in d["trial"]["curve"])'
run sched-csv 0 results sched --curves
checks=$((checks + 1))
python3 - "$TMP/sched-csv.out" "$step_trial" <<'EOF' || fail "results --curves: no epoch_lr column"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
step = [float(r["epoch_lr"]) for r in rows if r["trial"] == sys.argv[2]]
assert step == [0.2, 0.2, 0.1, 0.1], step
assert all(r["epoch_lr"] == "" for r in rows if r["config"] == "1")
EOF
run sched-plot 0 plot sched --kind curves --metric lr --out "$TMP/lr.svg"
checks=$((checks + 1))
grep -q "epoch 3: lr 0.1000" "$TMP/lr.svg" && grep -q "learning curves (learning rate)" "$TMP/lr.svg" ||
    fail "plot --metric lr: no learning-rate curve"
# A grid that varies lr: the rows' lr is the configured rate, epoch_lr the epoch's.
cat >"$G/sched2.json" <<'EOG'
{"name": "sched2", "dataset": {"name": "circles", "n": 200}, "seeds": 1,
 "base": {"epochs": 4, "hidden": [4], "lr_schedule": {"kind": "step", "step_size": 2, "gamma": 0.5}},
 "grid": {"lr": [0.2, 0.4]}}
EOG
run sched2 0 submit "$G/sched2.json"
run sched2-wait 0 wait sched2
run sched2-plot 0 plot sched2 --kind curves --metric lr --out "$TMP/lr2.svg"
checks=$((checks + 1))
grep -q "epoch 3: lr 0.1000" "$TMP/lr2.svg" && grep -q "epoch 3: lr 0.2000" "$TMP/lr2.svg" &&
    ! grep -q "epoch 3: lr 0.4000" "$TMP/lr2.svg" ||
    fail "plot --metric lr of a grid varying lr: not the epochs' rates: $(grep -o "epoch [0-9]: [a-z_]* [0-9.]*" "$TMP/lr2.svg" | tr "\n" " ")"

# ---- best's interval column for a configuration whose 3 seeds diverged ---------
run div-best 0 best diverge --top 2
has div-best.out "n/a (3/3 diverged)"
checks=$((checks + 1))
! grep -q "n/a (n < 2)" "$TMP/div-best.out" || fail "best says n < 2 for a configuration with 3 diverged seeds"

# ---- bad values are usage errors (exit 2) ----------------------------------------
run bad-state 2 list --state bogus
has bad-state.err 'unknown state "bogus"'
run bad-state2 2 list --state done,bogus
run bad-limit 2 list --limit -1
run bad-metric 2 best diverge --metric val_acc
run bad-metric-test 2 best diverge --metric test_loss
run bad-cmp-metric 2 compare diverge 1 2 --metric seconds

# ---- a grid over the trial limit: the real count, and the hint once ------------
python3 -c 'import json; print(json.dumps({"name": "big", "dataset": {"name": "circles", "n": 100}, "seeds": 100, "base": {"epochs": 1}, "grid": {"lr": [0.001 * (i + 1) for i in range(1000)], "l2": [0, 0.1]}}))' >"$G/big.json"
run big-dry 4 submit --dry-run "$G/big.json"
has big-dry.err "2000 configurations × 100 seeds = 200000 trials, more than the limit of 100000 trials"
checks=$((checks + 1))
[ "$(grep -o -- "--force" "$TMP/big-dry.err" | wc -l)" = 1 ] || fail "big-dry: the --force hint is not there exactly once: $(cat "$TMP/big-dry.err")"
run big-force-dry 0 submit --dry-run --force "$G/big.json"
has big-force-dry.out "2000 configurations × 100 seeds = 200000 trials (dry run"

# ---- show on a wide terminal: whole hyperparameter values ----------------------
cat >"$G/wide.json" <<'EOG'
{"name": "wide", "dataset": {"name": "circles", "n": 100}, "seeds": 1, "base": {"epochs": 1},
 "grid": {"hidden": [[64, 64, 64, 64, 64, 64], [32, 32, 32, 32, 32, 32, 32]],
          "lr_schedule": [{"kind": "step", "step_size": 3, "gamma": 0.5, "per": "iteration"}, null]}}
EOG
run wide 0 submit "$G/wide.json"
run wide-wait 0 wait wide
COLUMNS=220 run wide-show 0 show wide
has wide-show.out '{"kind":"step","step_size":3,"gamma":0.5,"per":"iteration"}'
has wide-show.out '[32,32,32,32,32,32,32]'
COLUMNS=100 run wide-show-100 0 show wide
has wide-show-100.out '…'
# Not a terminal and no $COLUMNS: nothing is cut.
run wide-show-pipe 0 show wide
has wide-show-pipe.out '{"kind":"step","step_size":3,"gamma":0.5,"per":"iteration"}'
checks=$((checks + 1))
! grep -q '…' "$TMP/wide-show-pipe.out" || fail "show into a file cut a value"

# ---- the #1 ranking label stays inside the image -------------------------------
run wide-plot 0 plot wide --kind ranking --out "$TMP/wide.svg"
checks=$((checks + 1))
python3 - "$TMP/wide.svg" "$SRC/scripts" <<'EOF' || fail "plot ranking: a row label runs past the left edge"
import re, sys, html
sys.path.insert(0, sys.argv[2])
import font_widths  # the DejaVu Sans advances svg_text_width uses
fonts = font_widths.load()
svg = open(sys.argv[1]).read()
# Row labels are right-aligned at x, in DejaVu Sans (Bold for #1) at 12 px.
labels = re.findall(r'<text x="([0-9.]+)" y="[0-9.]+" text-anchor="end" font-size="12"( font-weight="bold")?>([^<]*)</text>', svg)
assert labels, "no row labels"
for x, bold, text in labels:
    need = font_widths.text_width(html.unescape(text), 12, bool(bold), fonts)
    assert float(x) - need >= 0, (x, need, text)
    assert "\u2026" not in text, ("a label is cut", text)
EOF

# ---- the test metric of the chosen configurations, never used to rank ---------
run sched-test-plot 0 plot sched --kind ranking --metric test_accuracy --out "$TMP/test.svg"
has sched-test-plot.out "wrote"
checks=$((checks + 1))
grep -q "test_accuracy (not used for selection; order by val_accuracy)" "$TMP/test.svg" ||
    fail "plot ranking --metric test_accuracy: not labelled as not used for selection"
run sched-test-best 0 --json best sched --top 2
checks=$((checks + 1))
python3 - "$TMP/sched-test-best.out" "$TMP/test.svg" <<'EOF' || fail "plot ranking --metric test_accuracy: the values drawn are not the test means"
import json, sys
d = json.load(open(sys.argv[1]))
svg = open(sys.argv[2]).read()
for c in d["configs"]:
    t, v = c["test"]["mean"], c["stat"]["mean"]
    assert "%.4f" % t in svg, ("test mean missing", t)
    if "%.4f" % v != "%.4f" % t:
        assert ("%.4f" % v) not in svg, ("validation mean drawn", v)
EOF
run sched-test-plot2 2 plot sched --kind ranking --metric test_loss --out "$TMP/test2.svg"

# ---- concurrent queue control never leaves a sweep resume cannot revive --------
cat >"$G/conc.json" <<'EOG'
{"name": "conc", "dataset": {"name": "circles", "n": 400}, "seeds": 20,
 "base": {"epochs": 300, "hidden": [16]}, "grid": {"lr": [0.1, 0.2, 0.3]}}
EOG
run conc 0 submit "$G/conc.json"
conc_state() {
    "$MLPCTL" --json list | python3 -c 'import json,sys; s=[x for x in json.load(sys.stdin)["sweeps"] if x["name"]=="conc"][0]; print(s["state"], s["queued"] + s["running"], s["cancelled"])'
}
# A trial still stopping from a cancel when resume (or retry --cancelled) came used
# to end cancelled and leave the sweep cancelled for good: resume must revive it.
for round in 1 2 3 4; do
    pids=""
    for v in cancel "retry --cancelled" pause resume cancel resume pause "retry --cancelled"; do
        # shellcheck disable=SC2086
        "$MLPCTL" $v conc >/dev/null 2>&1 &
        pids="$pids $!"
    done
    # shellcheck disable=SC2086
    wait $pids
    checks=$((checks + 1))
    conc_state >/dev/null || fail "round $round: mlpd does not answer list after parallel queue control"
done
run conc-resume 0 resume conc
run conc-wait 0 wait conc
checks=$((checks + 1))
st=$(conc_state)
[ "$st" = "done 0 0" ] || fail "after the parallel queue control, resume did not revive the sweep: state/active/cancelled = $st"
echo "$checks checks, $failures failures"
[ "$failures" = 0 ]
