#!/usr/bin/env python3
"""Every hyperparameter key through the real daemon (issue 16).

One grid file, submitted with the real mlpctl to a private mlpd, whose grid
is a list of objects: one object per row of ROWS below, varying that key over
each of its value classes (every enum name, null and non-null, each object
form of early_stop and lr_schedule, ...) with the few other keys it needs.
For every (key, value) the test computes the full canonical parameter set
independently (DEFAULTS + the row's fixed keys + the value in its canonical
spelling) and checks
  - that a configuration stored those exact parameters,
  - that its trial ended 'done',
  - that the worker's own echo of what it trained with (the "mlp-worker:
    params {...}" line of the trial's log) is exactly the same object,
  - and, where the result shows it, that training behaved so (epochs run,
    evaluation intervals, test curves, saved artifacts, the normalisation).
The table is checked against the code's key table: the keys of the worker's
echo (every key of hparams.c's table) must be exactly ROWS' keys, and for
each enum-like key the names the daemon lists in its error for a bogus value
must all have a row value.  A key or a name added later without a row fails.
"""
import json
import math
import os
import re
import subprocess
import tempfile

from harness import HERE, Daemon, check, done

MLPCTL = os.environ.get("MLPCTL") or os.path.join(HERE, "../../build/cli/mlpctl")

# The defaults of docs/SPEC.md "Hyperparameters", in canonical form.
DEFAULTS = {
    "hidden": [100, 100], "activation": "relu", "optimizer": "sgd", "momentum": 0.9,
    "lr": 0.1, "batch_size": 128, "epochs": 20, "l1": 0, "l2": 0, "dropout": 0,
    "batch_norm": False, "grad_noise": 0, "normalize": "auto", "init": "he",
    "init_scale": 0.01, "early_stop": None, "val_fraction": 0.1, "split_seed": 0,
    "train_size": None, "max_seconds": None, "iterations": None, "eval_every": None,
    "lr_schedule": None, "curve_test": False, "train_eval": "subsample", "save": "none",
}

# What every row trains with unless it varies the key itself: a tiny fast net.
SMALL = {"hidden": [4], "epochs": 2, "batch_size": 16}


def same(x):
    return (x, x)


def es(p, md=0, on="val_loss"):
    return {"patience": p, "min_delta": md, "on": on}


def sched(kind, per="epoch", **kw):
    c = {"kind": kind}
    if kind == "step":
        c["step_size"] = kw["step_size"]
    if kind != "cosine":
        c["gamma"] = kw.get("gamma", 0.1 if kind == "step" else 0.95)
    c["per"] = per
    return c


# key -> (list of (value as submitted, value as stored), fixed keys of the row)
ROWS = {
    "hidden": ([same([]), same([3]), same([5, 3])], {}),
    "activation": ([same(a) for a in
                    ("relu", "leaky_relu", "elu", "selu", "tanh", "sigmoid", "linear")], {}),
    "optimizer": ([same("sgd"), same("momentum"), same("adam")], {}),
    "momentum": ([same(0), same(0.5)], {"optimizer": "momentum"}),
    "lr": ([same(0.05), (1e-3, 0.001)], {}),
    "batch_size": ([same(1), same(4), same(7), same(100000)], {}),
    "epochs": ([same(1), same(3)], {}),
    "iterations": ([same(None), same(13)], {"epochs": None}),
    "eval_every": ([same(None), same(5)], {"iterations": 13, "epochs": None}),
    "l1": ([same(0), same(0.01)], {}),
    "l2": ([same(0), same(0.01)], {}),
    "dropout": ([same(0), same(0.3)], {}),
    "batch_norm": ([same(False), same(True)], {}),
    "grad_noise": ([same(0), same(0.01)], {}),
    "normalize": ([same(n) for n in ("auto", "global", "standardize", "minmax", "none")], {}),
    "init": ([same(i) for i in ("he", "xavier", "gaussian", "zeros")], {}),
    "init_scale": ([same(0.5)], {"init": "gaussian"}),
    "early_stop": ([same(None), ({"patience": 1}, es(1)),
                    ({"patience": 2, "min_delta": 0.01, "on": "train_loss"},
                     es(2, 0.01, "train_loss")),
                    ({"patience": 3, "on": "val_loss"}, es(3))], {"epochs": 3}),
    "val_fraction": ([same(0.25)], {}),
    "split_seed": ([same(0), same(-3), same(7)], {}),
    "train_size": ([same(None), same(50)], {}),
    "max_seconds": ([same(None), same(600)], {}),
    "lr_schedule": ([same(None),
                     ({"kind": "step", "step_size": 1}, sched("step", step_size=1)),
                     ({"kind": "step", "step_size": 2, "gamma": 0.5, "per": "iteration"},
                      sched("step", "iteration", step_size=2, gamma=0.5)),
                     ({"kind": "cosine"}, sched("cosine")),
                     ({"kind": "cosine", "per": "iteration"}, sched("cosine", "iteration")),
                     ({"kind": "exponential"}, sched("exponential")),
                     ({"kind": "exponential", "gamma": 0.5, "per": "epoch"},
                      sched("exponential", gamma=0.5))], {}),
    "curve_test": ([same(False), same(True)], {}),
    "train_eval": ([same("subsample"), same("full")], {}),
    "save": ([same(s) for s in ("none", "model", "predictions", "both")], {}),
}
# lr_schedule with iterations: the schedule counted over iterations.
EXTRA = [({"lr_schedule": {"kind": "step", "step_size": 4, "per": "iteration"}},
          {"lr_schedule": sched("step", "iteration", step_size=4)},
          {"iterations": 13, "epochs": None, "eval_every": 4})]

# Enum-like places whose names the daemon lists for a bogus value, and the
# names the table gives them.
ENUM_PLACES = {k: [v for v, _ in ROWS.get(k, ([], {}))[0]]
               for k in ("activation", "optimizer", "normalize", "init", "save", "train_eval")}
SUB_PLACES = {  # (key, sub-key, object to put the bogus value in) -> names covered
    ("lr_schedule", "kind"): ({"kind": "?"},
                              [c["kind"] for _, c in ROWS["lr_schedule"][0] if c]),
    ("lr_schedule", "per"): ({"kind": "cosine", "per": "?"},
                             [c["per"] for _, c in ROWS["lr_schedule"][0] if c]),
    ("early_stop", "on"): ({"patience": 1, "on": "?"},
                           [c["on"] for _, c in ROWS["early_stop"][0] if c]),
}


def configurations():
    """(label, grid object, expected stored params, submitted key/values) for every row value."""
    out = []
    for key, (values, fixed) in ROWS.items():
        for sub, stored in values:
            obj = dict(SMALL)
            if fixed.get("epochs", 0) is None or key in ("iterations",):
                obj.pop("epochs")
            obj.update({k: v for k, v in fixed.items() if v is not None})
            if key == "iterations" and sub is None:
                obj["epochs"] = SMALL["epochs"]  # iterations null: an epochs trial
            obj[key] = sub
            exp = dict(DEFAULTS)
            exp.update(obj)
            exp[key] = stored
            if exp["iterations"]:
                exp["epochs"] = None
            out.append(("%s=%s" % (key, json.dumps(sub)), obj, exp))
    for sub_obj, stored, fixed in EXTRA:
        obj = dict(SMALL)
        obj.pop("epochs")
        obj.update({k: v for k, v in fixed.items() if v is not None})
        obj.update(sub_obj)
        exp = dict(DEFAULTS)
        exp.update(obj)
        exp.update(stored)
        exp["epochs"] = None
        out.append((json.dumps(sub_obj), obj, exp))
    return out


def ctl(d, *args, timeout=120):
    return subprocess.run([MLPCTL, "--socket", d.sock] + list(args), env=d.env(),
                          capture_output=True, timeout=timeout, text=True)


def echo_of(d, trial_id):
    """The parameters the worker says it trained with (its log)."""
    path = os.path.join(d.home, "logs", "%d.log" % trial_id)
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except OSError:
        text = d.ok({"op": "trial", "id": trial_id})["trial"].get("log_tail") or ""
    echo = {}
    for line in re.findall(r"^mlp-worker: params (.*)$", text, re.M):
        for tok in line.split(" "):
            k, _, v = tok.partition("=")
            echo[k] = json.loads(v)
    return echo or None


def eq(a, b):
    """Equality of JSON values, numbers compared as numbers (1 == 1.0)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(eq(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(eq(x, y) for x, y in zip(a, b))
    return a == b


def main():
    confs = configurations()
    grid = {"name": "every-key", "dataset": {"name": "circles", "n": 200, "noise": 0.1},
            "seeds": 1, "grid": [{k: [v] for k, v in obj.items()} for _, obj, _ in confs]}
    with Daemon(workers=2) as d, tempfile.TemporaryDirectory() as tmp:
        d.start()
        gpath = os.path.join(tmp, "every-key.json")
        with open(gpath, "w") as f:
            json.dump(grid, f)
        p = ctl(d, "submit", gpath)
        check(p.returncode == 0, "mlpctl submit of the every-key grid", (p.stdout, p.stderr))
        w = ctl(d, "wait", "every-key", "--timeout", "300", timeout=320)
        check(w.returncode == 0, "every trial of the every-key grid succeeded",
              (w.stdout, w.stderr))

        rows = d.sql("select c.idx, c.params_json, t.id, t.state, t.error from configs c "
                     "join trials t on t.sweep_id = c.sweep_id and t.config_idx = c.idx "
                     "join sweeps s on s.id = c.sweep_id where s.name = 'every-key'")
        stored = [(idx, json.loads(pj), tid, st, err) for idx, pj, tid, st, err in rows]
        print("%d row values, %d distinct configurations" % (len(confs), len(stored)))

        # The table against the code's key table (the worker's echo has every key).
        some_echo = echo_of(d, stored[0][2]) if stored else None
        code_keys = set(some_echo or {})
        check(code_keys == set(ROWS) == set(DEFAULTS),
              "the table has a row (and a default) for exactly the code's keys",
              {"without a row": sorted(code_keys - set(ROWS)),
               "not in the code": sorted(set(ROWS) - code_keys),
               "defaults": sorted(set(DEFAULTS) ^ code_keys)})
        for key, names in ENUM_PLACES.items():
            r = d.call({"op": "submit", "dry_run": True, "base_dir": d.home,
                        "grid": {"dataset": "circles", "base": {key: "?"}}})
            listed = re.findall(r'"([a-z_]+)"', r.get("error", {}).get("message", "").split(
                "got")[0])
            check(listed and set(listed) <= set(names),
                  "every %s name the code accepts has a row" % key,
                  {"code": listed, "rows": names})
        for (key, sub), (obj, names) in SUB_PLACES.items():
            r = d.call({"op": "submit", "dry_run": True, "base_dir": d.home,
                        "grid": {"dataset": "circles", "base": {key: obj}}})
            err = r.get("error", {})
            listed = re.findall(r'"([a-z_]+)"', err.get("message", "").split("got")[0])
            check(err.get("path") == "base.%s.%s" % (key, sub) and listed
                  and set(listed) <= set(names),
                  "every %s.%s the code accepts has a row" % (key, sub),
                  {"code": listed, "rows": names, "error": err})

        for label, obj, exp in confs:
            hit = [s for s in stored if eq(s[1], exp)]
            if not check(len(hit) == 1, "%s: stored with exactly that value" % label,
                         {"expected": exp,
                          "closest": min((s[1] for s in stored),
                                         key=lambda p: sum(not eq(p.get(k), exp.get(k))
                                                           for k in set(p) | set(exp)),
                                         default=None)}):
                continue
            idx, params, tid, state, err = hit[0]
            check(state == "done", "%s: trial %d done" % (label, tid), (state, err))
            echo = echo_of(d, tid)
            check(echo is not None and eq(echo, params),
                  "%s: the worker trained with exactly the stored parameters" % label,
                  {"echo": echo, "stored": params})
            behaviour(d, label, tid, params)
    done()


def behaviour(d, label, tid, params):
    """What the result shows of the parameters it was trained with."""
    t = d.ok({"op": "trial", "id": tid})["trial"]
    m = t.get("metrics") or {}
    curve = t.get("curve") or []
    if params["iterations"]:
        every = params["eval_every"]
        if every is None:  # one pass over the training split
            n = 200 - round(200 * params["val_fraction"]) if params["train_size"] is None else \
                params["train_size"]
            every = math.ceil(n / params["batch_size"])
        want = math.ceil(params["iterations"] / every)
        check(len(curve) == want, "%s: %d evaluation intervals" % (label, want), len(curve))
    elif params["early_stop"] is None:
        check(m.get("epochs_run") == params["epochs"] and len(curve) == params["epochs"],
              "%s: trained %d epochs" % (label, params["epochs"]), (m.get("epochs_run"), len(curve)))
    has_test = [r.get("test_loss") is not None for r in curve]
    check(curve and all(x == params["curve_test"] for x in has_test),
          "%s: test curve %s" % (label, "present" if params["curve_test"] else "absent"), has_test)
    names = sorted(a["name"] for a in t.get("artifacts") or [])
    want = {"none": [], "model": ["boundary.csv", "model.npz", "points.csv"],
            "predictions": ["predictions.csv"],
            "both": ["boundary.csv", "model.npz", "points.csv", "predictions.csv"]}[params["save"]]
    check(names == want, "%s: artifacts %s" % (label, want), names)
    want_norm = "standardize" if params["normalize"] == "auto" else params["normalize"]
    if "normalize" in m:
        check(m["normalize"] == want_norm, "%s: normalised with %s" % (label, want_norm),
              m["normalize"])


if __name__ == "__main__":
    main()
