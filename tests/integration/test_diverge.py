#!/usr/bin/env python3
"""Divergence beyond non-finite values, through the real daemon (issue 16).

A grid file submitted with mlpctl: circles, tanh units (bounded, so every
number stays finite), lr 0.1 and lr 500, 2 seeds.  At lr 500 the training
loss of the first evaluation is far above 10 x the untrained network's
(docs/SPEC.md "Metrics of a trial": diverged), so those trials are recorded
diverged (before, they ended "diverged": false with a test_loss in the
hundreds), their blown-up evaluation is in the stored curve, the trial's log
says why, and mlpctl best and trial show it; lr 0.1 trains normally.
"""
import json
import os
import subprocess
import tempfile

from harness import HERE, Daemon, check, done

MLPCTL = os.environ.get("MLPCTL") or os.path.join(HERE, "../../build/cli/mlpctl")


def ctl(d, *args, timeout=120):
    return subprocess.run([MLPCTL, "--socket", d.sock] + list(args), env=d.env(),
                          capture_output=True, timeout=timeout, text=True)


grid = {"name": "blowup", "dataset": {"name": "circles", "n": 400}, "seeds": 2,
        "base": {"hidden": [8], "activation": "tanh", "epochs": 3, "batch_size": 16},
        "grid": {"lr": [0.1, 500]}}

with Daemon(workers=2) as d, tempfile.TemporaryDirectory() as tmp:
    d.start()
    path = os.path.join(tmp, "blowup.json")
    with open(path, "w") as f:
        json.dump(grid, f)
    p = ctl(d, "submit", path)
    check(p.returncode == 0, "submit", p.stderr)
    w = ctl(d, "wait", "blowup", "--timeout", "120", timeout=150)
    check(w.returncode == 0, "every trial ends done (a diverged trial is not a failure)", w.stdout)

    rows = d.ok({"op": "results", "sweep": "blowup", "trials": True})["rows"]
    by_lr = {}
    for r in rows:
        lr = d.sql("select json_extract(c.params_json, '$.lr') from configs c join trials t "
                   "on t.sweep_id = c.sweep_id and t.config_idx = c.idx where t.id = ?",
                   (r["trial"],))[0][0]
        by_lr.setdefault(lr, []).append(r)
    check(sorted(by_lr) == [0.1, 500], "both rates ran", sorted(by_lr))
    check(all(r["diverged"] is False and r["epochs_run"] == 3 for r in by_lr.get(0.1, [])),
          "lr 0.1: trained 3 epochs, not diverged", by_lr.get(0.1))
    check(len(by_lr.get(500, [])) == 2 and all(r["diverged"] is True for r in by_lr[500]),
          "lr 500: recorded diverged although every number is finite",
          [(r["diverged"], r.get("train_loss")) for r in by_lr.get(500, [])])

    for r in by_lr.get(500, []):
        t = d.ok({"op": "trial", "id": r["trial"]})["trial"]
        curve = t.get("curve") or []
        log = t.get("log_tail") or ""
        check(curve and all(e["train_loss"] is not None for e in curve)
              and curve[-1]["train_loss"] > 10 * 0.6,
              "trial %d: the blown-up evaluation is in its curve" % r["trial"],
              [e["train_loss"] for e in curve])
        check("diverged at evaluation" in log and "10 x the initialised network's" in log,
              "trial %d: its log says why" % r["trial"], log[-400:])
        p = ctl(d, "trial", str(r["trial"]))
        check(p.returncode == 0 and "diverged: yes" in p.stdout,
              "mlpctl trial %d shows it diverged" % r["trial"], p.stdout[:600])

    p = ctl(d, "best", "blowup", "--top", "2")
    check(p.returncode == 0 and "diverged (2/2)" in p.stdout,
          "mlpctl best marks the configuration diverged (2/2)", p.stdout)
done()
