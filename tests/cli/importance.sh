#!/bin/bash
# mlpctl importance through a private mlpd: a grid on circles where lr matters and
# l2 (a change of 1e-6) and curve_test (no effect on training) do not.  The ANOVA's
# F of every key is recomputed here from the per-trial results and its p-value with
# scipy.stats.f.sf; a bad --metric is a usage error, a search sweep is refused.
LIB_NAME=importance
. "$(dirname "$0")/lib.sh"
/usr/bin/python3 -c 'import scipy, numpy' 2>/dev/null || { echo "skip: scipy/numpy missing"; exit 77; }

start_daemon
cat >"$TMP/g.json" <<'G'
{"name": "imp", "dataset": {"name": "circles", "n": 400}, "seeds": 3,
 "base": {"epochs": 8, "hidden": [8]},
 "grid": {"lr": [0.001, 0.03, 0.3], "l2": [0, 1e-6], "curve_test": [false, true]}}
G
run submit 0 submit "$TMP/g.json"
run wait 0 wait imp
run imp 0 importance imp
has imp.out "lr"
has imp.out "seed variance"
run impj 0 importance imp --json
jcheck impj 'd["method"] == "anova" and d["configs"] == 12 and d["error_term"] == "seeds"'
jcheck impj '[k["key"] for k in d["keys"]][0] == "lr" and d["keys"][0]["p"] < 0.01 and d["keys"][0]["omega2"] > 0.5'
jcheck impj 'all(k["p"] > 0.05 and k["omega2"] < 0.05 for k in d["keys"] if k["key"] != "lr")'
run trials 0 --json results imp --trials
checks=$((checks + 1))
/usr/bin/python3 - "$TMP/impj.out" "$TMP/trials.out" <<'PY' || fail "F or p differ from the recomputation"
import json, sys, itertools
import numpy as np
from scipy.stats import f as fdist
imp = json.load(open(sys.argv[1])); res = json.load(open(sys.argv[2]))
keys = res["keys"]
by = {}
for r in res["rows"]:
    by.setdefault(r["config"], []).append(r)
confs = list(by.values())
means = np.array([np.mean([t["val_accuracy"] for t in c]) for c in confs])
var = np.array([np.var([t["val_accuracy"] for t in c], ddof=1) for c in confs])
n = 3
msw = var.mean(); dfw = len(confs) * (n - 1)
ok = True
for k in imp["keys"]:
    vals = [json.dumps(c[0][k["key"]]) for c in confs]
    levels = sorted(set(vals))
    grand = means.mean()
    ss = sum(vals.count(l) * (means[[v == l for v in vals]].mean() - grand) ** 2 for l in levels) * n
    df = len(levels) - 1
    F = ss / df / msw
    p = fdist.sf(F, df, dfw)
    if abs(F - k["f"]) > 1e-9 * max(1, F) or abs(p - k["p"]) > 1e-9 or k["df"] != df:
        print("key", k, "recomputed F", F, "p", p, file=sys.stderr); ok = False
sys.exit(0 if ok else 1)
PY

run badmetric 2 importance imp --metric test_accuracy
has badmetric.err "--metric"
run nosweep 1 importance nosuch

cat >"$TMP/s.json" <<'G'
{"name": "srch", "dataset": {"name": "circles", "n": 400}, "seeds": 2, "base": {"epochs": 2, "hidden": [4]},
 "search": {"kind": "sobol", "trials": 4, "space": {"lr": {"log_uniform": [0.001, 0.5]}, "l2": {"uniform": [0, 0.001]}}}}
G
run ssub 0 submit "$TMP/s.json"
run swait 0 wait srch
run srch 1 importance srch
has srch.err "not a complete grid"

# Pruned configurations are left out; here that leaves no complete grid: refused, saying why.
# (Best configurations last, so early ones are pruned at rung 1 by the rank rule.)
cat >"$TMP/p.json" <<'G'
{"name": "pr", "dataset": {"name": "circles", "n": 400}, "seeds": 2, "base": {"epochs": 9, "hidden": [8]},
 "grid": {"lr": [0.001, 0.003, 0.1, 0.3], "l2": [0, 1e-6]},
 "prune": {"kind": "halving", "min_epochs": 1, "eta": 3, "rule": "rank"}}
G
run psub 0 submit "$TMP/p.json"
"$MLPCTL" wait pr >/dev/null 2>&1
"$MLPCTL" --json list >"$TMP/plist.out"
if /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if [s for s in d["sweeps"] if s["name"] == "pr"][0]["pruned"] > 0 else 1)' "$TMP/plist.out"; then
    run pimp 1 importance pr
    has pimp.err "prun" # how many are left depends on the order trials finish in: 0, 1 or several
else
    echo "note: nothing was pruned this run; the pruned case was not exercised"
fi

run shut 0 shutdown
stop_wait
echo "$checks checks, $failures failures"
[ "$failures" = 0 ]
