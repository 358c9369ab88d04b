#!/usr/bin/python3
"""mlp-gradcheck checks the update training applies, and can fail.

usage: gradcheck_steps.py GRADCHECK MUTANT1 MUTANT2

GRADCHECK is the real mlp-gradcheck; MUTANT1 and MUTANT2 are the same program
built on a core with one planted bug each (MLP_MUTANT in worker/mlp.c and
worker/optim.c, built only for this test):
  1. the fused plain-SGD update (mlp_backward_sgd) leaves out the L2 term:
     the gradients mlp_backward computes are right, training is not (on
     circles with l2 0.1 the trained accuracy goes from 0.47 to 0.99);
  2. momentum forgets its velocity (v <- -lr*g): the gradients are right,
     only the second step of optim_step is wrong.
For regularised specs (L2, L1 + L2 with batch norm and dropout, softmax) the
real program must pass every line (exit 0) and report every update path
(fused sgd, optim_step sgd / momentum / adam) on every batch kernel (1, 3
and 8 rows); each mutant must pass the gradient lines (what the check looked
at before) and fail exactly the step lines of the path it breaks (exit 1).
"""
import json
import os
import subprocess
import sys
import tempfile

real, mutant1, mutant2 = sys.argv[1:4]
failures = 0


def check(cond, what, detail=""):
    global failures
    print(("ok   " if cond else "FAIL ") + what + ("" if cond else "  %s" % (detail,)))
    if not cond:
        failures += 1


SPECS = {
    "circles l2": {"dataset": {"name": "circles", "n": 400}, "seed": 1,
                   "params": {"hidden": [8], "l2": 0.1, "lr": 0.1}},
    "spirals l1+l2 bn dropout": {"dataset": {"name": "spirals", "n": 400}, "seed": 2,
                                 "params": {"hidden": [8, 6], "activation": "tanh",
                                            "batch_norm": True, "dropout": 0.2, "l1": 0.01,
                                            "l2": 0.05, "lr": 0.05, "momentum": 0.8}},
    "csv softmax l2": None,  # filled below: a 3-class set
}
PATHS = [("sgd", "fused"), ("sgd", "optim_step"), ("momentum", "optim_step"),
         ("adam", "optim_step")]


def run(prog, spec, tmp):
    path = os.path.join(tmp, "spec.json")
    with open(path, "w") as f:
        json.dump(spec, f)
    p = subprocess.run([prog, "--spec", path], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, MLPD_HOME=tmp, OPENBLAS_NUM_THREADS="1"))
    lines = [json.loads(s) for s in p.stdout.splitlines() if s.startswith("{")]
    grads = [x for x in lines if x.get("event") == "gradcheck"]
    steps = {(x["optimizer"], x["update"], x["rows"]): x for x in lines
             if x.get("event") == "gradcheck_step"}
    res = [x for x in lines if x.get("event") == "gradcheck_result"]
    return p.returncode, grads, steps, res[0] if res else {}, p.stderr


with tempfile.TemporaryDirectory() as tmp:
    tr, te = os.path.join(tmp, "train.csv"), os.path.join(tmp, "test.csv")
    for path, n in ((tr, 90), (te, 30)):
        with open(path, "w") as f:
            for i in range(n):
                a, b = (i * 37 % 101) / 50.0 - 1, (i * 53 % 97) / 48.0 - 1
                f.write("%g,%g,%g,%d\n" % (a, b, a * b, (i * 7) % 3))
    SPECS["csv softmax l2"] = {"dataset": {"format": "csv", "train": tr, "test": te},
                               "seed": 3, "params": {"hidden": [5], "activation": "elu",
                                                     "l2": 0.2, "lr": 0.3}}
    for name, spec in SPECS.items():
        rc, grads, steps, res, err = run(real, spec, tmp)
        check(rc == 0 and res.get("ok") is True, "%s: real core passes (exit %d)" % (name, rc),
              err[-300:])
        want = {(o, u, r) for o, u in PATHS for r in (1, 3, 8)}
        check(set(steps) == want, "%s: every update path on every batch kernel" % name,
              sorted(set(steps) ^ want))
        check(all(s["ok"] and s["checked"] > 0 for s in steps.values()),
              "%s: every training step matches the finite-difference step" % name,
              [(k, s["worst_rel_error"]) for k, s in steps.items() if not s["ok"]])

        for prog, broken, label in ((mutant1, {("sgd", "fused")}, "fused sgd without L2"),
                                    (mutant2, {("momentum", "optim_step")},
                                     "momentum without velocity")):
            rc, grads, steps, res, err = run(prog, spec, tmp)
            check(grads and all(g["ok"] for g in grads),
                  "%s / %s: the gradient lines alone pass" % (name, label),
                  [g for g in grads if not g["ok"]])
            bad = {k[:2] for k, s in steps.items() if not s["ok"]}
            check(rc == 1 and res.get("ok") is False and bad == broken,
                  "%s / %s: exit 1, exactly its path's steps fail" % (name, label),
                  (rc, sorted(bad)))
            check(all(not steps[(o, u, r)]["ok"] for o, u in broken for r in (1, 3, 8)
                      if (o, u, r) in steps),
                  "%s / %s: on every batch kernel" % (name, label))
print("%d failure(s)" % failures)
sys.exit(1 if failures else 0)
