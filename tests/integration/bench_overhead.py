#!/usr/bin/env python3
"""Measure mlpd's per-trial overhead and its query speed at scale (not a test).

    python3 tests/integration/bench_overhead.py [--trials 500] [--workers 2]

1. A sweep of N trivial trials (xor n=64, hidden [4], epochs 1): trials per
   second from submit to the end of `wait`, with the given worker slots.
2. Submitting a 50,000-trial sweep (one transaction).
3. best / show / list / results on a 100,000-trial sweep whose results are
   filled in directly (the daemon stopped meanwhile).
"""
import argparse
import random
import time

from harness import Daemon

ap = argparse.ArgumentParser()
ap.add_argument("--trials", type=int, default=500)
ap.add_argument("--workers", type=int, default=2)
ap.add_argument("--skip-scale", action="store_true")
a = ap.parse_args()

with Daemon(workers=a.workers) as d:
    d.start()
    g = {"name": "overhead", "dataset": {"name": "xor", "n": 64}, "seeds": a.trials,
         "base": {"epochs": 1, "hidden": [4]}, "grid": {"lr": [0.1]}}
    t0 = time.time()
    sid = d.submit(g)
    d.wait_sweep(sid, timeout=600)
    dt = time.time() - t0
    secs = d.sql("select sum(r.seconds) from results r")[0][0]
    print("%d trivial trials, %d workers: %.2f s, %.1f trials/s, %.1f ms wall per trial per slot "
          "(worker's own reported time: %.2f ms per trial)"
          % (a.trials, a.workers, dt, a.trials / dt, 1000 * dt * a.workers / a.trials,
             1000 * secs / a.trials))
    if a.skip_scale:
        raise SystemExit(0)

    big = {"name": "big", "dataset": {"name": "xor", "n": 64}, "seeds": 100,
           "base": {"epochs": 1}, "grid": {"lr": [0.001 * (i + 1) for i in range(500)]}}
    d.ok({"op": "pause", "sweep": sid})
    t0 = time.time()
    r = d.ok({"op": "submit", "grid": big, "base_dir": d.home, "dry_run": False})
    print("submit of 50,000 trials (500 configs x 100 seeds): %.2f s" % (time.time() - t0))
    big_id = r["sweep"]["id"]
    d.ok({"op": "shutdown", "now": True})
    d.proc.wait(60)

import sqlite3  # noqa: E402

with Daemon(workers=a.workers) as d:
    d.start()
    big = {"name": "huge", "dataset": {"name": "xor", "n": 64}, "seeds": 100,
           "base": {"epochs": 1}, "grid": {"lr": [0.001 * (i + 1) for i in range(1000)]}}
    t0 = time.time()
    r = d.ok({"op": "submit", "grid": big, "base_dir": d.home, "force": True})
    sid = r["sweep"]["id"]
    print("submit of 100,000 trials: %.2f s" % (time.time() - t0))
    d.ok({"op": "shutdown", "now": True})
    d.proc.wait(60)
    con = sqlite3.connect(d.db)
    rnd = random.Random(1)
    rows = con.execute("select id, sweep_id, config_idx from trials").fetchall()
    con.executemany(
        "insert or replace into results (trial_id, sweep_id, config_idx, attempt, train_loss, "
        "train_accuracy, val_loss, val_accuracy, test_loss, test_accuracy, epochs_run, best_epoch, "
        "seconds, diverged) values (?,?,?,1,?,?,?,?,?,?,1,1,0.01,0)",
        [(t, s, c, rnd.random(), rnd.random(), rnd.random(), 0.5 + c / 4000 + rnd.gauss(0, 0.01),
          rnd.random(), rnd.random()) for t, s, c in rows])
    con.execute("update trials set state='done', attempts=1, started=created, finished=created+0.01")
    con.commit()
    con.close()
    d.start()
    for req in ({"op": "best", "sweep": sid, "top": 3}, {"op": "show", "sweep": sid},
                {"op": "show", "sweep": sid, "by": "lr"}, {"op": "list"}, {"op": "status"},
                {"op": "results", "sweep": sid}, {"op": "results", "sweep": sid, "trials": True}):
        t0 = time.time()
        r = d.ok(req, timeout=300)
        extra = ""
        if req["op"] == "best":
            extra = " (best config %d, mean %.4f)" % (r["configs"][0]["config"]["id"], r["configs"][0]["stat"]["mean"])
        print("%-45s %.3f s%s" % (str(req), time.time() - t0, extra))
