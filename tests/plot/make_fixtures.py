#!/usr/bin/env python3
"""Write the plot tests' input fixtures: daemon responses shaped exactly as in
daemon/PROTOCOL.md (show, show with by, best, results with curves) for a
synthetic 6-configuration x 5-seed sweep.  Values come from a fixed-seed
random model of learning curves; statistics use Python's `statistics`
module and the Student t quantile t_{0.975,df} computed by bisection on a
numerically integrated t density.  Run once; the JSON files are committed.
"""
import json, math, random, statistics, os, sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
rng = random.Random(20261123)
SEEDS = 5
EPOCHS = 12

def t_pdf(x, df):
    return math.gamma((df + 1) / 2) / (math.sqrt(df * math.pi) * math.gamma(df / 2)) * (1 + x * x / df) ** (-(df + 1) / 2)

def t_cdf(x, df):
    # Simpson's rule on [0, |x|], symmetric.
    n = 2000
    a, b = 0.0, abs(x)
    h = (b - a) / n
    s = t_pdf(a, df) + t_pdf(b, df)
    for i in range(1, n):
        s += (4 if i % 2 else 2) * t_pdf(a + i * h, df)
    area = s * h / 3
    return 0.5 + area if x >= 0 else 0.5 - area

def t_quantile(p, df):
    lo, hi = 0.0, 50.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2

def stat(xs):
    n = len(xs)
    if n == 0:
        return {"n": 0, "mean": None, "sd": None, "se": None, "ci_low": None, "ci_high": None}
    m = statistics.fmean(xs)
    if n < 2:
        return {"n": 1, "mean": m, "sd": None, "se": None, "ci_low": None, "ci_high": None}
    sd = statistics.stdev(xs)
    se = sd / math.sqrt(n)
    q = t_quantile(0.975, n - 1)
    return {"n": n, "mean": m, "sd": sd, "se": se, "ci_low": m - q * se, "ci_high": m + q * se}

hiddens = [[100, 100], [256, 128]]
lrs = [0.3, 0.03, 0.003]
configs = []
cid = 0
for h in hiddens:
    for lr in lrs:
        cid += 1
        params = {"hidden": h, "activation": "relu", "optimizer": "sgd", "momentum": 0.9, "lr": lr,
                  "batch_size": 128, "epochs": EPOCHS, "l1": 0, "l2": 0, "dropout": 0,
                  "batch_norm": False, "grad_noise": 0, "normalize": "standardize", "init": "he",
                  "early_stop": {"patience": 3, "min_delta": 0} if cid == 2 else None,
                  "val_fraction": 0.1, "split_seed": 0, "train_size": None, "max_seconds": None}
        configs.append({"id": cid, "params": params, "grid": {"hidden": h, "lr": lr}})

# Per config: asymptotic accuracy, speed, overfitting.
model = {1: (0.872, 0.45, 0.03), 2: (0.889, 0.30, 0.05), 3: (0.861, 0.12, 0.01),
         4: (0.875, 0.50, 0.04), 5: (0.893, 0.33, 0.06), 6: (0.866, 0.13, 0.012)}
rows, trials = [], []
tid = 0
for c in configs:
    acc, speed, over = model[c["id"]]
    for seed in range(1, SEEDS + 1):
        tid += 1
        epochs = EPOCHS
        if c["id"] == 2 and seed >= 4:
            epochs = 8  # early stopping on two seeds
        noise = rng.gauss(0, 0.004)
        last = None
        for e in range(1, epochs + 1):
            prog = 1 - math.exp(-speed * e)
            va = acc * prog + 0.1 * (1 - prog) + noise + rng.gauss(0, 0.002)
            ta = va + over * prog * (e / EPOCHS) + rng.gauss(0, 0.002)
            vl = 2.3 * (1 - prog) + 0.33 * prog + rng.gauss(0, 0.01)
            tl = vl - 1.5 * over * prog * (e / EPOCHS)
            row = {"trial": tid, "config": c["id"], "seed": seed, "epoch": e,
                   "train_loss": round(tl, 6), "train_accuracy": round(ta, 6),
                   "val_loss": round(vl, 6), "val_accuracy": round(va, 6),
                   "seconds": round(1.1 + rng.random() * 0.3, 3)}
            rows.append(row)
            last = row
        trials.append({"config": c["id"], "seed": seed, "val": last["val_accuracy"],
                       "train": last["train_accuracy"],
                       "test": last["val_accuracy"] - 0.004 + rng.gauss(0, 0.002)})

def per_config(key):
    return {c["id"]: [t[key] for t in trials if t["config"] == c["id"]] for c in configs}

val, train, test = per_config("val"), per_config("train"), per_config("test")
order = sorted(configs, key=lambda c: -statistics.fmean(val[c["id"]]))
rank = {c["id"]: i + 1 for i, c in enumerate(order)}
summary = {"id": 7, "name": "fashion-reg", "state": "done", "priority": 0, "metric": "val_accuracy",
           "dataset": "fashion-mnist", "created": 1795952400, "finished": 1795956000,
           "total": len(trials), "queued": 0, "running": 0, "done": len(trials), "failed": 0,
           "cancelled": 0,
           "best": {"config": order[0]["id"], "mean": statistics.fmean(val[order[0]["id"]]),
                    "se": stat(val[order[0]["id"]])["se"], "n": SEEDS}}

show_configs = []
for c in configs:
    s, t = stat(val[c["id"]]), stat(train[c["id"]])
    show_configs.append({"config": c, "seeds_done": SEEDS, "seeds_total": SEEDS, "stat": s,
                         "train": t, "gap": t["mean"] - s["mean"], "rank": rank[c["id"]]})
show = {"ok": True, "sweep": summary, "metric": "val_accuracy", "direction": "max",
        "keys": ["hidden", "lr"], "configs": show_configs}

def by(key):
    values = []
    vals = []
    for c in configs:
        v = c["grid"][key]
        if v not in vals:
            vals.append(v)
    for v in vals:
        cs = [c for c in configs if c["grid"][key] == v]
        xs = [x for c in cs for x in val[c["id"]]]
        values.append({"value": v, "configs": len(cs), "stat": stat(xs)})
    return dict(show, by={"key": key, "values": values})

a, b = stat(val[order[0]["id"]]), stat(val[order[1]["id"]])
va, vb = a["se"] ** 2, b["se"] ** 2
t = (a["mean"] - b["mean"]) / math.sqrt(va + vb)
df = (va + vb) ** 2 / (va ** 2 / (a["n"] - 1) + vb ** 2 / (b["n"] - 1))
p = 2 * (1 - t_cdf(abs(t), df))
sig = p < 0.05
best = {"ok": True, "sweep": summary, "metric": "val_accuracy", "direction": "max",
        "test_metric": "test_accuracy",
        "configs": [{"rank": rank[c["id"]], "config": c, "stat": stat(val[c["id"]]),
                     "test": stat(test[c["id"]])} for c in order],
        "comparison": {"t": t, "df": df, "p": p, "significant": sig,
                       "sentence": ("#1 is significantly better than #2 at p < 0.05 (p = %.3g)" if sig
                                    else "#1 is not significantly better than #2 at p < 0.05 (p = %.3g)") % p}}
curves = {"ok": True, "keys": ["hidden", "lr"], "rows": rows}

for name, doc in [("show.json", show), ("show_by_lr.json", by("lr")), ("show_by_hidden.json", by("hidden")),
                  ("best.json", best), ("curves.json", curves)]:
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(doc, f, indent=1 if name != "curves.json" else None)
        f.write("\n")
print("wrote", OUT, file=sys.stderr)
