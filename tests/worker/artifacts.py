#!/usr/bin/python3
"""Saved artifacts of real mlp-worker runs, read back with numpy.

usage: artifacts.py WORKER

For a 3-class CSV set (with batch norm), a binary one (tanh, no batch norm)
and a regression one: train with "save": "both", then load model.npz with
numpy.load, apply its normalisation to the raw test CSV, run the forward pass
in numpy and check that it reproduces the worker's test metric, its
predictions.csv and its confusion matrix.  Then, under every normalize kind,
a set with features constant on the training split but not on the test rows:
the stored map and meta.normalize are what the worker applied, and numpy
reproduces every prediction and the test_loss.  Exit 77 (skipped) without numpy.
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

worker = sys.argv[1]
failures = 0


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures += 1


def make_csv(path, rng, n, task):
    x = rng.normal(size=(n, 4)) * np.array([1.0, 3.0, 0.2, 10.0]) + np.array([0, 5, -1, 50])
    if task == "regression":
        y = x[:, 0] - 0.3 * x[:, 1] + 0.05 * x[:, 3]
    elif task == 2:
        y = ((x[:, 0] + 0.5 * (x[:, 1] - 5)) > 0).astype(int)
    else:
        s = x[:, 0] + (x[:, 1] - 5) / 3
        y = np.digitize(s, [-0.7, 0.7])
    with open(path, "w") as f:
        f.write("a,b,c,d,y\n")
        for row, t in zip(x, y):
            f.write(",".join("%.6f" % v for v in row) + ",%s\n" % (("%.6f" % t) if task == "regression" else int(t)))


def load_csv(path):
    a = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64)
    return a[:, :-1].astype(np.float32), a[:, -1]


def act(name, z):
    return {"relu": lambda v: np.maximum(v, 0), "tanh": np.tanh, "linear": lambda v: v,
            "sigmoid": lambda v: 1 / (1 + np.exp(-v))}[name](z)


def forward(z, x):
    meta = json.loads(bytes(z["meta"]).decode())
    h = (x.astype(np.float64) - z["norm_shift"]) * z["norm_scale"]
    nl = len(meta["layers"]) - 1
    for l in range(1, nl + 1):
        h = h @ z["W%d" % l].astype(np.float64)
        if l < nl and meta["batch_norm"]:
            g, b = z["gamma%d" % l], z["beta%d" % l]
            m, v = z["running_mean%d" % l], z["running_var%d" % l]
            h = g * (h - m) / np.sqrt(v.astype(np.float64) + meta["bn_eps"]) + b
        else:
            h = h + z["b%d" % l]
        if l < nl:
            h = act(meta["activation"], h)
    return meta, h


def case(tmp, name, task, params):
    rng = np.random.default_rng(7)
    tr, te = os.path.join(tmp, name + "-train.csv"), os.path.join(tmp, name + "-test.csv")
    make_csv(tr, rng, 600, task)
    make_csv(te, rng, 300, task)
    art = os.path.join(tmp, name + "-art")
    spec = {"dataset": {"format": "csv", "train": tr, "test": te, "header": True,
                        "task": "regression" if task == "regression" else "classification"},
            "seed": 3, "artifacts_dir": art,
            "params": dict(params, save="both")}
    out = subprocess.run([worker], input=json.dumps(spec), capture_output=True, text=True,
                         env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    check(out.returncode == 0, "%s: worker exit 0 (%s)" % (name, out.stderr.strip()[-200:]))
    res = json.loads(out.stdout.strip().splitlines()[-1])
    check(res.get("artifacts") == ["model.npz", "predictions.csv"], name + ": artifacts listed")
    z = np.load(os.path.join(art, "model.npz"))
    x, y = load_csv(te)
    meta, out_ = forward(z, x)
    pred_csv = np.loadtxt(os.path.join(art, "predictions.csv"), delimiter=",", skiprows=1)
    check(pred_csv.shape[0] == len(y), name + ": one prediction per test row")
    if task == "regression":
        check(meta["task"] == "regression" and "confusion" not in res, name + ": no confusion")
        mse = float(np.mean((out_[:, 0] - y) ** 2))
        check(abs(mse - res["test_mse"]) <= 1e-4 * max(1, res["test_mse"]),
              "%s: numpy test_mse %.6g = worker %.6g" % (name, mse, res["test_mse"]))
        check(np.allclose(pred_csv[:, 2], out_[:, 0], rtol=1e-4, atol=1e-4),
              name + ": predictions.csv = numpy forward")
        return
    k = meta["n_classes"]
    if k == 2:
        pred = (out_[:, 0] > 0).astype(int)
    else:
        pred = np.argmax(out_, axis=1)
    acc = float(np.mean(pred == y))
    check(abs(acc - res["test_accuracy"]) <= 1.0 / len(y) + 1e-12,
          "%s: numpy test accuracy %.4f = worker %.4f" % (name, acc, res["test_accuracy"]))
    check(np.mean(pred == pred_csv[:, 2]) >= 0.99, name + ": numpy predictions = predictions.csv")
    check(np.allclose(pred_csv[:, 3:].sum(axis=1), 1, atol=1e-9), name + ": probabilities sum to 1")
    conf = np.zeros((k, k), dtype=int)
    for t, p in zip(pred_csv[:, 1].astype(int), pred_csv[:, 2].astype(int)):
        conf[t, p] += 1
    check(conf.tolist() == res["confusion"], name + ": confusion = predictions.csv counts")
    ca = [conf[i, i] / conf[i].sum() for i in range(k)]
    check(np.allclose(ca, res["class_accuracy"]), name + ": class_accuracy = diagonal / row")
    check(abs(np.trace(conf) / conf.sum() - res["test_accuracy"]) < 1e-12,
          name + ": confusion agrees with test_accuracy")


def constant_case(tmp, normalize):
    """Features constant on the training split whose test values differ (an
    image's border pixel lit only in test images): model.npz must hold the map
    the worker applied (a constant feature flattened to 0 has scale 0 under
    standardize and minmax) and meta.normalize the kind applied, so that the
    numpy forward pass below gives the worker's predictions row for row and
    its test_loss."""
    name = "const-" + normalize
    rng = np.random.default_rng(11)
    tr, te = os.path.join(tmp, name + "-train.csv"), os.path.join(tmp, name + "-test.csv")
    for path, n, test in ((tr, 400, False), (te, 300, True)):
        x = rng.normal(size=(n, 3)) * np.array([1.0, 2.0, 0.5]) + np.array([0.0, 3.0, -1.0])
        s = x[:, 0] + (x[:, 1] - 3) / 2
        y = np.digitize(s, [-0.6, 0.6])
        # column 4: 2.5 on every training row, spread on test rows; column 5: 0
        # in training, now and then 1 in test (and large) like a border pixel.
        c4 = rng.normal(2.5, 1.5, size=n) if test else np.full(n, 2.5)
        c5 = (rng.random(n) < 0.3) * 7.0 if test else np.zeros(n)
        with open(path, "w") as f:
            f.write("a,b,c,k,z,y\n")
            for row, a4, a5, t in zip(x, c4, c5, y):
                f.write(",".join("%.6f" % v for v in list(row) + [a4, a5]) + ",%d\n" % t)
    art = os.path.join(tmp, name + "-art")
    spec = {"dataset": {"format": "csv", "train": tr, "test": te, "header": True},
            "seed": 5, "artifacts_dir": art,
            "params": {"hidden": [8], "epochs": 8, "lr": 0.05, "normalize": normalize,
                       "save": "both"}}
    out = subprocess.run([worker], input=json.dumps(spec), capture_output=True, text=True,
                         env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    check(out.returncode == 0, "%s: worker exit 0 (%s)" % (name, out.stderr.strip()[-200:]))
    res = json.loads(out.stdout.strip().splitlines()[-1])
    applied = "standardize" if normalize == "auto" else normalize
    z = np.load(os.path.join(art, "model.npz"))
    meta = json.loads(bytes(z["meta"]).decode())
    check(meta["normalize"] == applied == res.get("normalize"),
          "%s: meta.normalize is the kind applied (%s, result %s)"
          % (name, meta["normalize"], res.get("normalize")))
    shift, scale = z["norm_shift"], z["norm_scale"]
    if applied in ("standardize", "minmax"):
        check(scale[3] == 0 and scale[4] == 0 and shift[3] == np.float32(2.5) and shift[4] == 0,
              "%s: constant features stored with scale 0 (%s, %s)" % (name, shift, scale))
    elif applied == "none":
        check(np.all(shift == 0) and np.all(scale == 1), "%s: identity map" % name)
    else:  # global: one shift and scale for every feature, constant ones too
        check(np.all(shift == shift[0]) and np.all(scale == scale[0]) and scale[0] > 0,
              "%s: one global map (%s, %s)" % (name, shift, scale))
    # The worker maps x' = (float)((x - shift) * scale), then runs in float32.
    x, y = load_csv(te)
    xn = ((x.astype(np.float64) - shift) * scale).astype(np.float32)
    zs = dict(z)
    zs["norm_shift"], zs["norm_scale"] = np.zeros_like(shift), np.ones_like(scale)
    _, logits = forward(zs, xn)
    pred = np.argmax(logits, axis=1)
    mx = logits.max(axis=1, keepdims=True)
    lse = (mx[:, 0] + np.log(np.exp(logits - mx).sum(axis=1)))
    loss = float(np.mean(lse - logits[np.arange(len(y)), y.astype(int)]))
    pred_csv = np.loadtxt(os.path.join(art, "predictions.csv"), delimiter=",", skiprows=1)
    check(np.array_equal(pred, pred_csv[:, 2].astype(int)),
          "%s: numpy predictions = the worker's on every test row (%d differ)"
          % (name, int(np.sum(pred != pred_csv[:, 2]))))
    check(float(np.mean(pred == y)) == res["test_accuracy"],
          "%s: numpy test accuracy %.6f = worker %.6f" % (name, np.mean(pred == y),
                                                          res["test_accuracy"]))
    check(abs(loss - res["test_loss"]) <= 1e-5 * max(1.0, abs(res["test_loss"])),
          "%s: numpy test_loss %.9g = worker %.9g" % (name, loss, res["test_loss"]))


with tempfile.TemporaryDirectory() as tmp:
    for nz in ("auto", "standardize", "minmax", "global", "none"):
        constant_case(tmp, nz)
    case(tmp, "three", 3, {"hidden": [8, 6], "batch_norm": True, "epochs": 15, "lr": 0.05})
    case(tmp, "binary", 2, {"hidden": [6], "activation": "tanh", "epochs": 15,
                            "normalize": "minmax"})
    case(tmp, "regress", "regression", {"hidden": [8], "optimizer": "adam", "lr": 0.01,
                                        "epochs": 20, "batch_size": 16})
print("%d failure(s)" % failures)
sys.exit(1 if failures else 0)
