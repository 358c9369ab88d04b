#!/usr/bin/env python3
"""Fixtures of the issue-9 plot kinds, shaped as in /work PROTO9 / daemon/PROTOCOL.md:
show_confusion.json (show with config and confusion: rates/counts mean and SE over
5 seeds of a 10-class Fashion-MNIST configuration), results.json (aggregated rows of
a train_size x hidden sweep, test_* included), trial.json, and a 40 x 40
boundary.csv with points.csv of a 3-class toy problem.  Fixed seed; run once, the
files are committed."""
import json, math, os, random, statistics

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
rng = random.Random(909)
SWEEP = {"id": 9, "name": "fashion-lc", "state": "done", "metric": "val_accuracy",
         "dataset": "fashion-mnist"}

# Confusion: 5 seeds of 10x10 counts, 100 test rows per class.
K, S = 10, 5
counts = []
for s in range(S):
    m = []
    for t in range(K):
        row = [rng.randint(0, 6) for _ in range(K)]
        row[t] = 0
        row[t] = 100 - sum(row)
        m.append(row)
    counts.append(m)
def mse(vals):
    return statistics.mean(vals), statistics.stdev(vals) / math.sqrt(len(vals))
cm = [[mse([counts[s][i][j] for s in range(S)]) for j in range(K)] for i in range(K)]
rm = [[mse([counts[s][i][j] / sum(counts[s][i]) for s in range(S)]) for j in range(K)] for i in range(K)]
ca = []
for i in range(K):
    v = [counts[s][i][i] / sum(counts[s][i]) for s in range(S)]
    m, se = mse(v)
    ca.append({"n": S, "mean": m, "sd": statistics.stdev(v), "se": se})
show = {"ok": True, "sweep": SWEEP, "metric": "val_accuracy", "direction": "max",
        "keys": ["train_size", "hidden"], "configs": [],
        "confusion": {"config": 4, "classes": K, "n": S,
                      "counts": {"mean": [[c[0] for c in r] for r in cm], "se": [[c[1] for c in r] for r in cm]},
                      "rates": {"mean": [[c[0] for c in r] for r in rm], "se": [[c[1] for c in r] for r in rm]},
                      "class_accuracy": ca}}
json.dump(show, open(os.path.join(OUT, "show_confusion.json"), "w"), indent=1)

# Learning curve: train_size 250..5000 x two architectures, 3 seeds each.
rows, cid = [], 0
for hidden in ([64], [512, 256]):
    for ts in (250, 500, 1000, 2000, 5000):
        cid += 1
        r = {"config": cid, "train_size": ts, "hidden": hidden, "n": 3}
        base = 0.70 + 0.05 * math.log10(ts / 250) + (0.01 if len(hidden) > 1 else 0)
        for split, off in (("train", 0.08 - 0.015 * math.log10(ts / 250)), ("val", 0), ("test", -0.005)):
            v = [base + off + rng.gauss(0, 0.01) for _ in range(3)]
            m, se = mse(v)
            r[split + "_accuracy_mean"], r[split + "_accuracy_sd"], r[split + "_accuracy_se"] = m, statistics.stdev(v), se
            r[split + "_loss_mean"], r[split + "_loss_sd"], r[split + "_loss_se"] = 1 - m, statistics.stdev(v), se
        rows.append(r)
json.dump({"ok": True, "sweep": SWEEP, "kind": "configs", "keys": ["train_size", "hidden"],
           "rows": rows}, open(os.path.join(OUT, "results.json"), "w"), indent=1)

json.dump({"ok": True, "trial": {"id": 31, "sweep": 9, "sweep_name": "toys", "seed": 2,
           "state": "done", "config": {"id": 3, "params": {"hidden": [16]}, "grid": {"hidden": [16]}}}},
          open(os.path.join(OUT, "trial.json"), "w"), indent=1)

# Boundary: 3 classes by angle, a 40 x 40 lattice over [-1.2, 1.2]^2.
G = 40
with open(os.path.join(OUT, "boundary.csv"), "w") as f:
    f.write("x1,x2,predicted,p_max\n")
    for k in range(G):
        for i in range(G):
            x1, x2 = -1.2 + 2.4 * i / (G - 1), -1.2 + 2.4 * k / (G - 1)
            c = int((math.atan2(x2, x1) + math.pi) / (2 * math.pi / 3)) % 3
            f.write("%r,%r,%d,%r\n" % (x1, x2, c, 0.4 + 0.6 * min(1, math.hypot(x1, x2))))
with open(os.path.join(OUT, "points.csv"), "w") as f:
    f.write("split,x1,x2,label\n")
    for split, n in (("train", 60), ("test", 30)):
        for _ in range(n):
            a, r = rng.uniform(-math.pi, math.pi), rng.uniform(0.2, 1)
            f.write("%s,%r,%r,%d\n" % (split, r * math.cos(a), r * math.sin(a),
                                       int((a + math.pi) / (2 * math.pi / 3)) % 3))
