#!/usr/bin/python3
"""boundary.csv and points.csv of real mlp-worker runs on 2-feature data.

usage: boundary.py WORKER

Trains moons and spirals (two classes; train_size applied to spirals) and a
2-feature regression CSV with "save": "both", then checks: the files are
listed in the result line; boundary.csv is a 120 x 120 lattice (x1 fastest)
over the points' bounding box widened by 10 % per side, in raw coordinates;
points.csv holds train_size training rows and every test row, all inside the
box, with the test rows equal to the raw test labels of predictions.csv; the
grid's predicted class and p_max equal a numpy forward pass of model.npz at
the grid points; and the grid cell nearest each test point mostly predicts
what predictions.csv says for it.  A 4-feature CSV writes neither file.
Exit 77 (skipped) without numpy.
"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    print("numpy missing (apt-get install python3-numpy): skipped")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
worker = sys.argv[1]
failures = 0
G = 120


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures += 1


def forward(z, x):
    meta = json.loads(bytes(z["meta"]).decode())
    h = (x.astype(np.float64) - z["norm_shift"]) * z["norm_scale"]
    nl = len(meta["layers"]) - 1
    act = {"relu": lambda v: np.maximum(v, 0), "tanh": np.tanh}[meta["activation"]]
    for l in range(1, nl + 1):
        h = h @ z["W%d" % l].astype(np.float64) + z["b%d" % l]
        if l < nl:
            h = act(h)
    return meta, h


def run(tmp, name, dataset, params):
    art = os.path.join(tmp, name)
    spec = {"dataset": dataset, "seed": 2, "artifacts_dir": art,
            "params": dict(params, save="both")}
    out = subprocess.run([worker], input=json.dumps(spec), capture_output=True, text=True,
                         env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    check(out.returncode == 0, "%s: worker exit 0 (%s)" % (name, out.stderr.strip()[-200:]))
    return art, json.loads(out.stdout.strip().splitlines()[-1])


def case(tmp, name, dataset, params, train_size=None):
    art, res = run(tmp, name, dataset, params)
    regression = "test_mse" in res
    check(res.get("artifacts") == ["model.npz", "boundary.csv", "points.csv", "predictions.csv"],
          "%s: artifacts listed (%s)" % (name, res.get("artifacts")))
    with open(os.path.join(art, "boundary.csv")) as f:
        head = f.readline().strip()
    check(head == ("x1,x2,value" if regression else "x1,x2,predicted,p_max"),
          name + ": boundary.csv header " + head)
    b = np.loadtxt(os.path.join(art, "boundary.csv"), delimiter=",", skiprows=1)
    check(b.shape == (G * G, 3 if regression else 4), "%s: %s rows x cols" % (name, b.shape))
    with open(os.path.join(art, "points.csv")) as f:
        check(f.readline().strip() == "split,x1,x2,label", name + ": points.csv header")
        rows = [l.strip().split(",") for l in f if l.strip()]
    split = np.array([r[0] for r in rows])
    pts = np.array([[float(r[1]), float(r[2])] for r in rows])
    lab = np.array([float(r[3]) for r in rows])
    ntr, nte = int(np.sum(split == "train")), int(np.sum(split == "test"))
    check(set(split) == {"train", "test"}, name + ": splits train and test")
    pred_csv = np.loadtxt(os.path.join(art, "predictions.csv"), delimiter=",", skiprows=1)
    check(nte == pred_csv.shape[0], "%s: %d test points = predictions.csv rows" % (name, nte))
    if train_size:
        check(ntr == train_size, "%s: %d training points = train_size" % (name, ntr))
    check(np.allclose(lab[split == "test"], pred_csv[:, 1], atol=1e-6),
          name + ": test labels = predictions.csv labels (same order)")
    # The lattice: x1 fastest, corners at the box widened by 10 %.
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = hi - lo
    x1 = b[:G, 0]
    x2 = b[::G, 1]
    check(np.allclose(b[:, 0], np.tile(x1, G)) and np.allclose(b[:, 1], np.repeat(x2, G)),
          name + ": a lattice, x1 varying fastest")
    check(np.allclose([x1[0], x2[0]], lo - 0.1 * span, atol=1e-5) and
          np.allclose([x1[-1], x2[-1]], hi + 0.1 * span, atol=1e-5),
          "%s: box %s..%s = points' box + 10 %%" % (name, (x1[0], x2[0]), (x1[-1], x2[-1])))
    check(np.all(pts > [x1[0], x2[0]]) and np.all(pts < [x1[-1], x2[-1]]),
          name + ": every point inside the grid")
    z = np.load(os.path.join(art, "model.npz"))
    meta, out = forward(z, b[:, :2])
    if regression:
        check(np.allclose(out[:, 0], b[:, 2], rtol=1e-4, atol=1e-4),
              name + ": grid values = numpy forward pass")
        return
    k = meta["n_classes"]
    if k == 2:
        p1 = 1 / (1 + np.exp(-out[:, 0]))
        pred, pmax = (out[:, 0] > 0).astype(int), np.maximum(p1, 1 - p1)
    else:
        e = np.exp(out - out.max(axis=1, keepdims=True))
        prob = e / e.sum(axis=1, keepdims=True)
        pred, pmax = np.argmax(prob, axis=1), prob.max(axis=1)
    agree = np.mean(pred == b[:, 2])
    check(agree >= 0.999, "%s: grid predicted = numpy forward (%.4f agree)" % (name, agree))
    check(np.allclose(pmax, b[:, 3], atol=1e-4), name + ": p_max = numpy forward")
    check(len(set(b[:, 2].astype(int))) == k, "%s: all %d classes appear on the grid" % (name, k))
    # The cell nearest each test point predicts what predictions.csv says there.
    te = pts[split == "test"]
    i = np.clip(np.rint((te[:, 0] - x1[0]) / (x1[1] - x1[0])), 0, G - 1).astype(int)
    j = np.clip(np.rint((te[:, 1] - x2[0]) / (x2[1] - x2[0])), 0, G - 1).astype(int)
    near = np.mean(b[j * G + i, 2] == pred_csv[:, 2])
    check(near >= 0.95, "%s: nearest cell = predictions.csv for %.3f of test points" % (name, near))


with tempfile.TemporaryDirectory() as tmp:
    case(tmp, "moons", {"name": "moons", "n": 600, "noise": 0.1},
         {"hidden": [16], "epochs": 30, "lr": 0.1})
    case(tmp, "spirals", {"name": "spirals", "n": 900},
         {"hidden": [32, 32], "epochs": 30, "optimizer": "adam", "lr": 0.01, "train_size": 400},
         train_size=400)
    rng = np.random.default_rng(3)
    paths = {}
    for part, n in (("train", 400), ("test", 150)):
        x = rng.normal(size=(n, 2)) * [2.0, 0.5] + [10, -3]
        y = np.sin(x[:, 0]) + x[:, 1]
        paths[part] = os.path.join(tmp, "reg-%s.csv" % part)
        np.savetxt(paths[part], np.column_stack([x, y]), delimiter=",", header="a,b,y",
                   comments="", fmt="%.6f")
    case(tmp, "regress", {"format": "csv", "train": paths["train"], "test": paths["test"],
                          "header": True, "task": "regression"},
         {"hidden": [16], "epochs": 20, "optimizer": "adam", "lr": 0.01})
    # Four features: no boundary.
    for part in ("train", "test"):
        x = rng.normal(size=(200, 4))
        np.savetxt(os.path.join(tmp, "four-%s.csv" % part),
                   np.column_stack([x, (x[:, 0] > 0).astype(int)]), delimiter=",",
                   header="a,b,c,d,y", comments="", fmt="%.6f")
    art, res = run(tmp, "four", {"format": "csv", "train": os.path.join(tmp, "four-train.csv"),
                                 "test": os.path.join(tmp, "four-test.csv"), "header": True},
                   {"hidden": [4], "epochs": 2})
    check(res.get("artifacts") == ["model.npz", "predictions.csv"] and
          not os.path.exists(os.path.join(art, "boundary.csv")),
          "four features: no boundary.csv")
print("%d failure(s)" % failures)
sys.exit(1 if failures else 0)
