#!/usr/bin/env python3
"""results_trials.json fixtures (the `results` op with trials: per-trial rows,
daemon/PROTOCOL.md) for the issue-18 plot kinds and the report's importance,
parallel and heat map sections: each trial's last epoch of curves.json, with
its configuration's grid values from show.json, state done.  Deterministic;
run once, the files are committed."""
import json, os

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
for sub in (".", "fashion-lc"):
    d = os.path.join(HERE, sub)
    show = json.load(open(os.path.join(d, "show.json")))
    curves = json.load(open(os.path.join(d, "curves.json")))
    grid = {c["config"]["id"]: c["config"]["grid"] for c in show["configs"]}
    last = {}
    for r in curves["rows"]:
        if r["trial"] not in last or r["epoch"] > last[r["trial"]]["epoch"]:
            last[r["trial"]] = r
    rows = []
    for t in sorted(last):
        r = last[t]
        row = {"trial": t, "config": r["config"]}
        row.update(grid[r["config"]])
        row.update({"seed": r["seed"], "state": "done", "attempts": 1})
        for k, v in r.items():
            if k not in ("trial", "config", "seed", "epoch", "seconds", "lr") and v is not None:
                row[k] = v
        row.update({"epochs_run": r["epoch"], "diverged": False})
        rows.append(row)
    doc = {"ok": True, "sweep": show["sweep"], "kind": "trials", "keys": show["keys"],
           "search": None, "rows": rows}
    with open(os.path.join(d, "results_trials.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(sub, len(rows), "trials")
