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

# ---- fixtures/fashion-lc/: the same sweep as results.json seen by `report` ----
# show, best, show with by (train_size, hidden), results with curves (per-epoch
# rows with test_* as trials run with "curve_test": true) and show_confusion
# for the best configuration.  A second generator so that the files above stay
# as they were.
LC = os.path.join(OUT, "fashion-lc")
os.makedirs(LC, exist_ok=True)
g = random.Random(919)
EPOCHS, SEEDS = 15, 3

def t_pdf(x, df):
    return math.gamma((df + 1) / 2) / (math.sqrt(df * math.pi) * math.gamma(df / 2)) * (1 + x * x / df) ** (-(df + 1) / 2)

def t_cdf(x, df):
    n, b = 2000, abs(x)
    h = b / n
    s = t_pdf(0, df) + t_pdf(b, df) + sum((4 if i % 2 else 2) * t_pdf(i * h, df) for i in range(1, n))
    return 0.5 + math.copysign(s * h / 3, x)

def stat(xs):
    n, m = len(xs), statistics.fmean(xs)
    sd = statistics.stdev(xs)
    se = sd / math.sqrt(n)
    lo, hi = 0.0, 50.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if t_cdf(mid, n - 1) < 0.975 else (lo, mid)
    return {"n": n, "mean": m, "sd": sd, "se": se, "ci_low": m - lo * se, "ci_high": m + lo * se}

lc_configs, crow, final = [], [], {}
for r in rows:
    params = {"hidden": r["hidden"], "activation": "relu", "optimizer": "adam", "lr": 0.001,
              "batch_size": 64, "epochs": EPOCHS, "normalize": "global", "curve_test": True,
              "val_fraction": 0.1, "split_seed": 0, "train_size": r["train_size"]}
    cfg = {"id": r["config"], "params": params,
           "grid": {"train_size": r["train_size"], "hidden": r["hidden"]}}
    lc_configs.append(cfg)
    for seed in range(1, SEEDS + 1):
        last = None
        for e in range(1, EPOCHS + 1):
            prog = 1 - math.exp(-0.35 * e)
            row = {"trial": 100 + 10 * r["config"] + seed, "config": r["config"], "seed": seed, "epoch": e}
            for split in ("train", "val", "test"):
                acc = 0.1 + (r[split + "_accuracy_mean"] - 0.1) * prog + g.gauss(0, 0.004)
                row[split + "_loss"] = round(2.3 * (1 - prog) + (1 - acc) * prog + g.gauss(0, 0.01), 6)
                row[split + "_accuracy"] = round(acc, 6)
            row["test_mse"] = None
            row["seconds"] = round(0.2 + g.random() * 0.1, 3)
            crow.append(row)
            last = row
        final.setdefault(r["config"], []).append(last)

def split_of(cid, split):
    return [x[split + "_accuracy"] for x in final[cid]]

order = sorted(lc_configs, key=lambda c: -statistics.fmean(split_of(c["id"], "val")))
rank = {c["id"]: i + 1 for i, c in enumerate(order)}
bestc = order[0]["id"]
summ = dict(SWEEP, priority=0, created=1795952400, finished=1795959600, total=len(rows) * SEEDS,
            queued=0, running=0, done=len(rows) * SEEDS, failed=0, cancelled=0,
            best={"config": bestc, "mean": statistics.fmean(split_of(bestc, "val")),
                  "se": stat(split_of(bestc, "val"))["se"], "n": SEEDS})
lc_show_configs = []
for c in lc_configs:
    s, t = stat(split_of(c["id"], "val")), stat(split_of(c["id"], "train"))
    lc_show_configs.append({"config": c, "seeds_done": SEEDS, "seeds_total": SEEDS, "stat": s,
                            "train": t, "gap": t["mean"] - s["mean"], "rank": rank[c["id"]]})
lc_show = {"ok": True, "sweep": summ, "metric": "val_accuracy", "direction": "max",
           "keys": ["train_size", "hidden"], "configs": lc_show_configs}

def lc_by(key):
    vals = []
    for c in lc_configs:
        if c["grid"][key] not in vals:
            vals.append(c["grid"][key])
    values = []
    for v in vals:
        cs = [c for c in lc_configs if c["grid"][key] == v]
        values.append({"value": v, "configs": len(cs),
                       "stat": stat([x for c in cs for x in split_of(c["id"], "val")])})
    return dict(lc_show, by={"key": key, "values": values})

a, b = stat(split_of(order[0]["id"], "val")), stat(split_of(order[1]["id"], "val"))
va, vb = a["se"] ** 2, b["se"] ** 2
tt = (a["mean"] - b["mean"]) / math.sqrt(va + vb)
df = (va + vb) ** 2 / (va ** 2 / (a["n"] - 1) + vb ** 2 / (b["n"] - 1))
p = 2 * (1 - t_cdf(abs(tt), df))
lc_best = {"ok": True, "sweep": summ, "metric": "val_accuracy", "direction": "max",
           "test_metric": "test_accuracy",
           "configs": [{"rank": rank[c["id"]], "config": c, "stat": stat(split_of(c["id"], "val")),
                        "test": stat(split_of(c["id"], "test"))} for c in order],
           "comparison": {"t": tt, "df": df, "p": p, "significant": p < 0.05,
                          "sentence": "#1 is %ssignificantly better than #2 at p < 0.05 (p = %.3g)"
                                      % ("" if p < 0.05 else "not ", p)}}
lc_conf = dict(show, sweep=summ, keys=lc_show["keys"], configs=lc_show_configs,
               confusion=dict(show["confusion"], config=bestc, n=SEEDS))
for name, doc in [("show.json", lc_show), ("best.json", lc_best), ("curves.json",
                  {"ok": True, "keys": lc_show["keys"], "rows": crow}),
                  ("show_by_train_size.json", lc_by("train_size")),
                  ("show_by_hidden.json", lc_by("hidden")), ("show_confusion.json", lc_conf)]:
    with open(os.path.join(LC, name), "w") as f:
        json.dump(doc, f, indent=None if name == "curves.json" else 1)
        f.write("\n")
