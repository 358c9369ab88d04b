#!/usr/bin/python3
"""common/fanova against Optuna's FanovaImportanceEvaluator on the same points.

For each synthetic data set the points are written to a file, test_fanova
--points computes the importances, Optuna computes its own (a study with the
same trials, FanovaImportanceEvaluator(seed=0), 64 trees), and the two are
compared: the most important key must be the same, the rankings must agree
(Spearman's rank correlation >= 0.8, ties averaged) and no importance may
differ by 0.05 or more (the forests' bootstrap samples differ).  Log-scaled keys are given
to both as their logarithm (a uniform key on [ln a, ln b]: Optuna's fANOVA
would otherwise model them on their linear scale); categorical keys are
categories 0..K-1 (Optuna encodes them one-hot, common/fanova splits them
into sets).  Exit 77 (skipped) when Optuna or scikit-learn is missing.

Usage: fanova_optuna.py TEST_FANOVA [--verbose]
"""
import math
import os
import random
import subprocess
import sys
import tempfile

try:
    import optuna
    import sklearn  # noqa: F401  (Optuna's fANOVA fits scikit-learn forests)
    from optuna.distributions import CategoricalDistribution, FloatDistribution
except ImportError as e:
    print("skip: optuna/scikit-learn missing:", e)
    sys.exit(77)


def ranks(v):
    order = sorted(range(len(v)), key=lambda i: v[i])
    r = [0.0] * len(v)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and v[order[j + 1]] == v[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def spearman(a, b):
    ra, rb = ranks(a), ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    num = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    den = math.sqrt(sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb))
    return num / den if den > 0 else float("nan")


# Data sets: name, keys as ("num", lo, hi) or ("cat", K), f(x, rng), n points.
LR = (math.log(1e-4), math.log(1.0))
SETS = [
    ("additive", [("num", 0, 1), ("num", 0, 1), ("num", 0, 1), ("num", 0, 1)],
     lambda x, r: 3 * x[0] + 2 * x[1] ** 2 + x[2] + 0 * x[3], 200),
    ("strong-weak-dead", [("num", 0, 1), ("num", 0, 1), ("num", 0, 1)],
     lambda x, r: math.sin(3 * x[0]) + 0.3 * x[1] ** 2 + r.gauss(0, 0.01), 200),
    # lr (log scale) with an optimum near 0.05, a choice, a weak knob, a dead choice.
    ("mixed", [("num",) + LR, ("cat", 3), ("num", 0, 0.5), ("cat", 2)],
     lambda x, r: -((x[0] - math.log(0.05)) ** 2) / 40 + (0, 0.6, 0.2)[int(x[1])] + 0.8 * x[2]
     + r.gauss(0, 0.02), 160),
    ("interaction", [("num", 0, 1), ("num", 0, 1), ("num", 0, 1), ("num", 0, 1)],
     lambda x, r: x[0] * x[1] + 0.5 * x[2] + 0.1 * x[3], 200),
    # Like a small sweep: 32 points, noisy means.
    ("sweep-like", [("num",) + LR, ("num", 0, 1e-3), ("cat", 2)],
     lambda x, r: 0.9 - 0.04 * (x[0] - math.log(0.3)) ** 2 + r.gauss(0, 0.01), 32),
]


def draw(keys, n, rng):
    pts = []
    for _ in range(n):
        pts.append([rng.randrange(k[1]) if k[0] == "cat" else rng.uniform(k[1], k[2]) for k in keys])
    return pts


def ours(exe, keys, pts, ys, tmp):
    path = os.path.join(tmp, "points.txt")
    with open(path, "w") as f:
        f.write("%d %d\n" % (len(keys), len(pts)))
        for k in keys:
            f.write("categorical %d\n" % k[1] if k[0] == "cat" else "numeric %.17g %.17g\n" % (k[1], k[2]))
        for p, y in zip(pts, ys):
            f.write(" ".join("%.17g" % v for v in p) + " %.17g\n" % y)
    out = subprocess.run([exe, "--points", path, "--trees", "64", "--seed", "0"],
                         check=True, capture_output=True, text=True).stdout
    imp = [0.0] * len(keys)
    for line in out.split("\n"):
        if line.strip():
            j, v = line.split()[:2]
            imp[int(j)] = float(v)
    return imp


def theirs(keys, pts, ys):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = {}
    for j, k in enumerate(keys):
        dists["k%d" % j] = (CategoricalDistribution(list(range(k[1]))) if k[0] == "cat"
                            else FloatDistribution(k[1], k[2]))
    study = optuna.create_study()
    study.add_trials([optuna.trial.create_trial(params={"k%d" % j: v for j, v in enumerate(p)},
                                                distributions=dists, value=y)
                      for p, y in zip(pts, ys)])
    ev = optuna.importance.FanovaImportanceEvaluator(seed=0)
    d = optuna.importance.get_param_importances(study, evaluator=ev)
    return [d["k%d" % j] for j in range(len(keys))]


def main():
    exe = sys.argv[1]
    rng = random.Random(18)
    bad = 0
    rhos = []
    print("optuna %s" % optuna.__version__)
    with tempfile.TemporaryDirectory() as tmp:
        for name, keys, f, n in SETS:
            pts = draw(keys, n, rng)
            ys = [f(p, rng) for p in pts]
            a = ours(exe, keys, pts, ys, tmp)
            b = theirs(keys, pts, ys)
            rho = spearman(a, b)
            rhos.append(rho)
            top = max(range(len(a)), key=lambda j: a[j]) == max(range(len(b)), key=lambda j: b[j])
            diff = max(abs(x - y) for x, y in zip(a, b))
            print("%-17s n=%3d  ours %s  optuna %s  spearman %.3f  top %s  max|diff| %.3f"
                  % (name, n, " ".join("%.3f" % v for v in a), " ".join("%.3f" % v for v in b),
                     rho, "same" if top else "DIFFERENT", diff))
            if not top or not rho >= 0.8:
                print("  FAIL: the rankings disagree", file=sys.stderr)
                bad += 1
            if not diff < 0.05:
                print("  FAIL: an importance differs by more than 0.05", file=sys.stderr)
                bad += 1
    print("mean spearman %.3f over %d data sets" % (sum(rhos) / len(rhos), len(rhos)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
