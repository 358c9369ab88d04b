#!/bin/sh
# mlpctl gradcheck through the real mlpctl and the real mlp-worker on a tiny grid:
# the table and the --json document list every layer's W and b, exit 0; a bad
# --config exits 2, an invalid grid 4.  usage: gradcheck.sh MLPCTL
set -u
ctl=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if [ "$1" = "$2" ]; then echo "ok   $3"; else echo "FAIL $3 (got $1, want $2)"; fail=1; fi; }
cat > "$tmp/g.json" <<'G'
{"dataset": {"name": "moons", "n": 200}, "base": {"epochs": 1},
 "grid": {"hidden": [[8], [6, 4]], "activation": ["tanh"]}, "seeds": 1}
G
"$ctl" gradcheck "$tmp/g.json" --config 2 > "$tmp/t.txt"; check $? 0 "config 2 exit 0"
check "$(grep -c '^ *[123]  [Wb] ' "$tmp/t.txt")" 6 "table: W and b of 3 layers"
grep -q 'ok (worst' "$tmp/t.txt"; check $? 0 "table: verdict line"
"$ctl" --json gradcheck "$tmp/g.json" --config 1 --seed 7 > "$tmp/j.json"; check $? 0 "--json exit 0"
check "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["layers"]), d["seed"], d["result"]["ok"])' "$tmp/j.json")" "4 7 True" "--json: 4 layer entries, seed 7, ok"
check "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["steps"]), all(s["ok"] for s in d["steps"]))' "$tmp/j.json")" "12 True" "--json: 12 training-step entries (4 update paths x 3 batch sizes), all ok"
"$ctl" gradcheck "$tmp/g.json" --config 3 2>/dev/null; check $? 2 "--config past the end exits 2"
"$ctl" gradcheck "$tmp/g.json" 2>/dev/null; check $? 2 "no --config exits 2"
# An iterations configuration (its stored parameters hold "epochs": null; with
# "epochs": 20 the worker refused it and gradcheck exited 4).
echo '{"dataset": {"name": "circles", "n": 400}, "base": {"hidden": [8], "iterations": 50, "eval_every": 10}}' > "$tmp/it.json"
"$ctl" gradcheck "$tmp/it.json" --config 1 > /dev/null; check $? 0 "an iterations configuration checks (exit 0)"
echo '{"grid": {"lr": [0.1]}}' > "$tmp/bad.json"
"$ctl" gradcheck "$tmp/bad.json" --config 1 2>/dev/null; check $? 4 "invalid grid exits 4"
exit $fail
