#!/usr/bin/env bash
# verbs.sh — every mlpctl verb, with and without --json, against a private
# mlpd on a temporary state dir (tmux regress style: real daemon, real
# workers, trap clean-up).  The numbers the CLI prints are checked against
# each other: best's SE = sd/sqrt(n) and its CI holds the mean, the CSV's
# aggregated means equal the means of the per-trial rows, curves have one row
# per trial and epoch.  Needs MLPCTL, MLPD and MLP_WORKER (set by meson);
# exits 77 (skip) while mlpd is not built yet.
LIB_NAME=verbs
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/grids"
cat >"$TMP/grids/tiny.json" <<'EOF'
{
  "name": "tiny",
  "dataset": {"name": "xor", "n": 200},
  "seeds": 3,
  "metric": "val_accuracy",
  "base": {"epochs": 2, "batch_size": 32},
  "grid": {"hidden": [[4], [8]], "lr": [0.1, 0.3]}
}
EOF
sed 's/"lr": \[0.1, 0.3\]/"lr": [0.1, "fast"]/' "$TMP/grids/tiny.json" >"$TMP/grids/bad.json"
printf '{"dataset": "xor", "grid": {"lr": [0.1,}}\n' >"$TMP/grids/syntax.json"

# ---- no daemon needed ----------------------------------------------------------
run noargs 2
run help 0 help
has help.out "submit"
run help-show 0 help show
has help-show.out "--by KEY"
run show-help 0 show --help
has show-help.out "usage: mlpctl show"
run version 0 --version
has version.out "mlpctl "
run unknown 2 submt x
has unknown.err "unknown verb 'submt'"
has unknown.err "did you mean 'submit'"
run unreachable 3 --socket "$TMP/nothing.sock" status
has unreachable.err "$TMP/nothing.sock"
has unreachable.err "Start it with 'mlpd'"
run unreachable-json 3 status --json --socket "$TMP/nothing.sock"
jcheck unreachable-json 'd["error"]["code"] == "unreachable"'
run unreachable-default 3 list
has unreachable-default.err "$SOCK"
# Local validation answers before any daemon is asked.
run invalid-nodaemon 4 submit "$TMP/grids/bad.json"
has invalid-nodaemon.err "$TMP/grids/bad.json: grid.lr[1]:"
run data-list 0 data list
has data-list.out "xor"
run data-list-json 0 --json data list
jcheck data-list-json 'any(x["name"] == "xor" and x["available"] for x in d["datasets"])'
run data-fetch 0 data fetch xor
run data-fetch-json 0 data fetch xor --json
jcheck data-fetch-json 'd["name"] == "xor"'
run data-fetch-bad 1 data fetch nosuchset

# ---- with a daemon -------------------------------------------------------------
start_daemon

run dry 0 submit "$TMP/grids/tiny.json" --dry-run
has dry.out "4 configurations × 3 seeds = 12 trials"
has dry.out "hidden=[4] lr=0.1"
run dry-json 0 --json submit "$TMP/grids/tiny.json" --dry-run
jcheck dry-json 'd["trials"] == 12 and d["configs"] == 4 and "sweep" not in d'
run invalid 4 submit "$TMP/grids/bad.json"
has invalid.err "$TMP/grids/bad.json: grid.lr[1]: expected a number > 0"
run invalid-json 4 --json submit "$TMP/grids/bad.json"
jcheck invalid-json 'd["error"]["path"] == "grid.lr[1]" and d["error"]["code"] == "invalid_grid"'
run syntax 4 submit "$TMP/grids/syntax.json"
has syntax.err "not valid JSON"
printf '{"dataset": {"format": "csv", "train": "gone.csv", "test": "gone.csv"}, "grid": {"lr": [0.1]}}\n' \
    >"$TMP/grids/nodata.json"
run nodata 4 submit "$TMP/grids/nodata.json"
has nodata.err "$TMP/grids/gone.csv"
run nodata-json 4 submit "$TMP/grids/nodata.json" --json
jcheck nodata-json 'd["error"]["code"] == "invalid_dataset"'
# Dataset problems found at submit time (issue 11): a cell that is not a
# number (file:line:column), a directory given as a file, train_size beyond
# the training split.
mkdir -p "$TMP/grids/adir"
printf '1,2,0\n3,4,1\n5,x7,0\n' >"$TMP/grids/badcell.csv"
printf '1,2,0\n3,4,1\n' >"$TMP/grids/good.csv"
printf '{"dataset": {"format": "csv", "train": "badcell.csv", "test": "good.csv"}, "grid": {"lr": [0.1]}}\n' \
    >"$TMP/grids/badcell.json"
run badcell 4 submit "$TMP/grids/badcell.json"
has badcell.err "badcell.csv:3:2: not a number: \"x7\""
printf '{"dataset": {"format": "csv", "train": "adir", "test": "good.csv"}, "grid": {"lr": [0.1]}}\n' \
    >"$TMP/grids/adir.json"
run adir 4 submit "$TMP/grids/adir.json"
has adir.err "$TMP/grids/adir: is a directory"
printf '{"dataset": {"name": "xor", "n": 100}, "grid": {"train_size": [10, 91]}}\n' \
    >"$TMP/grids/toobig.json"
run toobig 4 submit "$TMP/grids/toobig.json"
has toobig.err "train_size 91 is larger than the training split (90 rows after holding out 10"
run list-empty 0 --json list
jcheck list-empty 'd["sweeps"] == []'
run list-empty-human 0 list
has list-empty-human.out "no sweeps"

run submit 0 submit "$TMP/grids/tiny.json"
has submit.out 'submitted sweep 1 "tiny": 4 configurations × 3 seeds = 12 trials'
# From stdin, named on the command line, low priority so it waits behind "tiny";
# its trials take seconds each, so it is still running when it is cancelled.
sed 's/"n": 200/"n": 5000/; s/"epochs": 2, "batch_size": 32/"epochs": 1000, "batch_size": 1/' \
    "$TMP/grids/tiny.json" >"$TMP/grids/slow.json"
checks=$((checks + 1))
"$MLPCTL" --json submit - --name other --priority -5 <"$TMP/grids/slow.json" >"$TMP/submit2.out" 2>"$TMP/submit2.err" ||
    fail "submit from stdin failed: $(cat "$TMP/submit2.err")"
jcheck submit2 'd["sweep"]["name"] == "other" and d["sweep"]["id"] == 2 and d["trials"] == 12'

run pause 0 pause other
has pause.out "paused sweep 2"
run pause-json 0 --json pause other
jcheck pause-json 'd["sweep"]["state"] == "paused" and "changed" in d'
run resume 0 resume other --json
jcheck resume 'd["sweep"]["state"] != "paused"'
run resume-human 0 resume 2
has resume-human.out "resumed sweep 2"
run cancel 0 cancel other
has cancel.out "cancelled sweep 2"
run cancel-json 1 cancel 2 --json
jcheck cancel-json 'd["error"]["code"] == "conflict" and "has ended (cancelled)" in d["error"]["message"]'
run wait-cancelled 1 wait other
run show-prefix 0 --json show oth
jcheck show-prefix 'd["sweep"]["name"] == "other" and d["sweep"]["state"] == "cancelled"'
run retry-cancelled 0 --json retry other --cancelled
jcheck retry-cancelled 'd["changed"] > 0 and d["sweep"]["state"] != "cancelled"'
run wait-timeout 1 wait other --timeout 0.3
has wait-timeout.err "has not ended after 0.3 s"
run delete-running 1 delete other
has delete-running.err "--force"
run cancel-again 0 --json cancel other
jcheck cancel-again 'd["changed"] > 0 and d["sweep"]["state"] == "cancelled"'

# watch with stdout not a terminal: plain lines, returns when the sweep ends.
run watch 0 watch tiny
has watch.out "/12"
has watch.out "ended"
checks=$((checks + 1))
if grep -q $'\r' "$TMP/watch.out" || grep -q $'\033' "$TMP/watch.out"; then fail "watch redrew a line on a pipe"; fi
run watch-json 0 --json watch tiny
checks=$((checks + 1))
python3 - "$TMP/watch-json.out" <<'EOF' || fail "watch --json is not JSON lines ending with an end event"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert lines and lines[-1]["event"] == "end", lines[-1:]
assert all("ok" not in l for l in lines)
EOF
run watch-all 0 watch
run wait 0 wait tiny
has wait.out "12/12 trials done"
run wait-json 0 --json wait 1
jcheck wait-json 'd["sweep"]["done"] == 12 and d["sweep"]["state"] == "done"'

run status 0 status
has status.out "workers    "
run status-json 0 status --json
jcheck status-json 'd["workers"]["total"] == 2 and d["trials"]["done"] >= 12'
run list 0 list
has list.out "tiny"
has list.out "12/12"
run list-json 0 list --json
jcheck list-json '[s["name"] for s in d["sweeps"]] == ["other", "tiny"]'

run show 0 show tiny
has show.out "RANK"
has show.out "3/3"
checks=$((checks + 1))
[ "$(grep -c ' 3/3 ' "$TMP/show.out")" = 4 ] || fail "show: expected 4 configuration rows"
checks=$((checks + 1))
awk '{ if (length($0) > 100) exit 1 }' "$TMP/show.out" || fail "show: a line is over 100 columns"
run show-json 0 --json show tiny
jcheck show-json 'd["keys"] == ["hidden", "lr"] and len(d["configs"]) == 4 and all(c["seeds_done"] == 3 for c in d["configs"])'
jcheck show-json 'sorted(c["rank"] for c in d["configs"]) == [1, 2, 3, 4]'
run show-by 0 show tiny --by lr
has show-by.out "marginal effect of lr"
run show-by-json 0 show tiny --by lr --json
jcheck show-by-json 'd["by"]["key"] == "lr" and len(d["by"]["values"]) == 2 and all(v["stat"]["n"] == 6 for v in d["by"]["values"])'
run show-missing 1 show nosuch
run show-badopt 2 show tiny --bogus
run show-noarg 2 show

run best 0 best tiny --top 3
has best.out "95% CI"
has best.out "#1  config"
run best-json 0 --json best tiny --top 3
jcheck best-json 'len(d["configs"]) == 3 and [c["rank"] for c in d["configs"]] == [1, 2, 3]'
jcheck best-json 'all(c["stat"]["n"] == 3 for c in d["configs"])'
jcheck best-json 'all(c["stat"]["sd"] is None or abs(c["stat"]["se"] - c["stat"]["sd"] / math.sqrt(c["stat"]["n"])) < 1e-12 for c in d["configs"])'
jcheck best-json 'all(c["stat"]["ci_low"] is None or c["stat"]["ci_low"] <= c["stat"]["mean"] <= c["stat"]["ci_high"] for c in d["configs"])'
jcheck best-json 'all(a["stat"]["mean"] >= b["stat"]["mean"] for a, b in zip(d["configs"], d["configs"][1:]))'
jcheck best-json 'd["comparison"] is None or 0 <= d["comparison"]["p"] <= 1'
jcheck best-json 'd["test_metric"] == "test_accuracy"'
run best-min 0 --json best tiny --min-seeds 4
jcheck best-min 'd["configs"] == []'
run best-badtop 2 best tiny --top 0
run best-typo 2 best tiny --top-k 2
has best-typo.err "did you mean '--top'"
has best-typo.err "usage: mlpctl best"
run best-eq 0 --json best tiny --top=2
jcheck best-eq 'len(d["configs"]) == 2'
run best-test-metric 2 best tiny --metric test_accuracy
# Issue 9: the worst configurations, a train column, per-class results and compare.
run best-bottom 0 --json best tiny --bottom 2
run best-top4 0 --json best tiny --top 4
checks=$((checks + 1))
python3 - "$TMP/best-bottom.out" "$TMP/best-top4.out" <<'EOF2' || fail "best --bottom is the end of the ranking, worst first"
import json, sys
bot, top = (json.load(open(f)) for f in sys.argv[1:3])
assert bot["order"] == "worst" and [c["rank"] for c in bot["configs"]] == [4, 3], bot["configs"]
assert [c["config"]["id"] for c in bot["configs"]] == [c["config"]["id"] for c in top["configs"][::-1][:2]]
assert all(c["train"]["n"] == 3 and c["train"]["mean"] is not None for c in top["configs"])
EOF2
run best-bottom-text 0 best tiny --bottom 1
has best-bottom-text.out "worst by val_accuracy"
has best-bottom-text.out "train_accuracy"
run best-both 2 best tiny --top 2 --bottom 1
run show-confusion 0 show tiny --config 1 --confusion
has show-confusion.out "test confusion matrix over 3 seeds"
has show-confusion.out "true\\pred"
has show-confusion.out "per-class test accuracy"
checks=$((checks + 1))
awk '{ if (length($0) > 100) exit 1 }' "$TMP/show-confusion.out" || fail "show --confusion: a line is over 100 columns"
run show-confusion-counts 0 show tiny --config 1 --confusion --counts
has show-confusion-counts.out "mean test rows per cell"
run show-confusion-json 0 --json show tiny --config 2 --confusion
jcheck show-confusion-json 'd["confusion"]["classes"] == 2 and d["confusion"]["n"] == 3 and len(d["confusion"]["class_accuracy"]) == 2'
jcheck show-confusion-json 'all(abs(sum(r) - 1) < 1e-9 for r in d["confusion"]["rates"]["mean"])'
run show-confusion-noconfig 2 show tiny --confusion
run show-confusion-missing 1 show tiny --config 99 --confusion
has show-confusion-missing.err "config"
run compare 0 compare tiny 1 2
has compare.out "paired t-test over 3 shared seeds"
has compare.out "Welch's t-test"
checks=$((checks + 1))
grep -qE "significantly better than|No significant difference" "$TMP/compare.out" || fail "compare prints no sentence"
run compare-json 0 --json compare tiny 1 4 --metric test_accuracy
jcheck compare-json 'd["metric"] == "test_accuracy" and d["paired"]["n"] == 3 and d["paired"]["seeds"] == [1, 2, 3] and abs(d["welch"]["diff"] - (d["a"]["stat"]["mean"] - d["b"]["stat"]["mean"])) < 1e-12'
run compare-same 1 compare tiny 2 2
run compare-nocfg 1 compare tiny 1 99
has compare-nocfg.err "no config 99"
run compare-badmetric 2 compare tiny 1 2 --metric epochs_run
run compare-args 2 compare tiny 1

# results: CSV per configuration, per trial and per epoch, checked against each other.
run results 0 results tiny
run results-trials 0 results tiny --trials
run results-curves 0 results tiny --curves --format csv
run results-out 0 results tiny --out "$TMP/agg.csv"
checks=$((checks + 1))
cmp -s "$TMP/results.out" "$TMP/agg.csv" || fail "results --out differs from stdout"
checks=$((checks + 1))
python3 - "$TMP" <<'EOF' || fail "results CSV checks"
import csv, json, math, sys
tmp = sys.argv[1]
def rows(name):
    raw = open(f"{tmp}/{name}", newline="").read()
    assert raw.endswith("\r\n"), name + ": records end with CRLF"
    return list(csv.DictReader(open(f"{tmp}/{name}", newline="")))
agg = rows("results.out")
assert len(agg) == 4, len(agg)
cols = list(agg[0].keys())
assert cols[:3] == ["config", "hidden", "lr"], cols
for m in ("val_accuracy", "train_accuracy", "test_accuracy", "val_loss"):
    for s in ("_mean", "_sd", "_se"):
        assert m + s in cols, (m + s, cols)
assert all(r["n"] == "3" for r in agg)
assert sorted(r["hidden"] for r in agg) == ["[4]", "[4]", "[8]", "[8]"]
assert all(isinstance(json.loads(r["hidden"]), list) for r in agg)
trials = rows("results-trials.out")
assert len(trials) == 12, len(trials)
tc = list(trials[0].keys())
assert tc[:4] == ["trial", "config", "hidden", "lr"], tc
assert {"seed", "state", "val_accuracy", "test_accuracy"} <= set(tc), tc
assert all(t["state"] == "done" for t in trials)
assert sorted(int(t["seed"]) for t in trials) == [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]
for r in agg:
    vals = [float(t["val_accuracy"]) for t in trials if t["config"] == r["config"]]
    assert len(vals) == 3
    mean = sum(vals) / 3
    sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / 2)
    assert abs(mean - float(r["val_accuracy_mean"])) < 1e-9, (mean, r)
    assert abs(sd - float(r["val_accuracy_sd"])) < 1e-9, (sd, r)
    assert abs(sd / math.sqrt(3) - float(r["val_accuracy_se"])) < 1e-9, r
curves = rows("results-curves.out")
assert len(curves) == 24, len(curves)
cc = list(curves[0].keys())
assert cc[:4] == ["trial", "config", "hidden", "lr"], cc
assert {"seed", "epoch", "train_loss", "val_loss", "train_accuracy", "val_accuracy", "seconds"} <= set(cc), cc
assert sorted(set(c["epoch"] for c in curves)) == ["1", "2"]
assert len(set(c["trial"] for c in curves)) == 12
EOF
run results-json 0 --json results tiny
jcheck results-json 'len(d["rows"]) == 4 and all(isinstance(r["hidden"], list) and r["n"] == 3 for r in d["rows"])'
run results-json2 0 results tiny --format json --trials
jcheck results-json2 'len(d["rows"]) == 12 and all(r["state"] == "done" and "val_accuracy" in r for r in d["rows"])'
run results-badfmt 2 results tiny --format xml

run trial 0 trial 1
has trial.out "trial 1: sweep 1"
has trial.out "curve:"
run trial-json 0 --json trial 1
jcheck trial-json 'd["trial"]["id"] == 1 and d["trial"]["state"] == "done" and len(d["trial"]["curve"]) == 2 and "val_accuracy" in d["trial"]["metrics"]'
run trial-missing 1 trial 99999
run trial-bad 2 trial abc

# retry: trials that cannot finish within max_seconds fail (timeout); retry re-queues them.
cat >"$TMP/grids/vanish.json" <<'EOF'
{"name": "vanish", "seeds": 2, "dataset": {"name": "xor", "n": 50000},
 "base": {"epochs": 500, "hidden": [64, 64], "batch_size": 1, "max_seconds": 0.05},
 "grid": {"lr": [0.1]}}
EOF
run vanish-submit 0 submit "$TMP/grids/vanish.json" --json
run vanish-wait 1 wait vanish
run vanish-wait-json 1 --json wait vanish
jcheck vanish-wait-json 'd["sweep"]["failed"] == 2 and d["sweep"]["state"] == "failed"'
run retry 0 retry vanish
has retry.out "re-queued the failed trials of sweep 3"
run retry-wait 1 wait vanish
run retry-json 0 --json retry vanish
jcheck retry-json 'd["changed"] == 2'
run retry-wait2 1 wait vanish

# Human output fits 100 columns (code points, so "±" counts once).
checks=$((checks + 1))
python3 - "$TMP" <<'EOF' || fail "human output wider than 100 columns"
import sys
bad = []
for name in ("status", "list", "show", "show-by", "best", "trial", "watch", "wait", "dry", "data-list", "retry"):
    for i, line in enumerate(open(f"{sys.argv[1]}/{name}.out", encoding="utf-8"), 1):
        if len(line.rstrip("\n")) > 100:
            bad.append(f"{name}.out:{i}: {len(line.rstrip())} columns")
print("\n".join(bad), file=sys.stderr)
sys.exit(1 if bad else 0)
EOF

# shutdown, then unreachable; a restart keeps the sweeps; shutdown --now with --json.
run shutdown 0 shutdown
has shutdown.out "shutting down"
stop_wait
run after-shutdown 3 status
start_daemon
run restarted 0 --json list
jcheck restarted 'len(d["sweeps"]) == 3'
run delete-other 0 --json delete other --force
jcheck delete-other 'd["name"] == "other" and d["trials"] == 12'
run list-wide 0 list --wide
has list-wide.out "EXECUTOR"
checks=$((checks + 1))
if grep -q '"other"\| other ' "$TMP/list-wide.out"; then fail "the deleted sweep is still listed"; fi
run shutdown-json 0 shutdown --now --json
jcheck shutdown-json 'isinstance(d, dict) and "error" not in d'
stop_wait

echo "$checks checks, $failures failed"
[ "$failures" = 0 ]
