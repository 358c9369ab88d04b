#!/usr/bin/env python3
"""Resources: per-trial log cap, a 50,000-trial submit, `best` over 100,000 results.

Asserted: a worker that spews 4 MiB to stderr leaves a log no bigger than
log_max_bytes plus the truncation note; the big sweeps are stored completely;
`best` ranks 1,000 configurations over 100,000 recorded trials correctly.
Measured and printed, never asserted (tests do not assert on wall-clock time):
the submit time of 50,000 trials, the daemon's RSS before/after (VmRSS, VmHWM
from /proc/<pid>/status), and the time of `best`, `show` and `list` on 100,000
recorded trials.  Run by hand: tests/reliability/resources.py
"""
import os
import random
import sqlite3
import sys
import time

import rlib
from rlib import check

LOG_CAP = 65536


def mem(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k = line.split(":")[0]
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(line.split()[1]) / 1024.0
    return out


def timed(d, req, timeout=300):
    t0 = time.perf_counter()
    r = d.call(req, timeout=timeout)
    return r, time.perf_counter() - t0


def main():
    t = rlib.tempdir()
    home = os.path.join(t, "home")
    d = rlib.Daemon(home, workers=2, worker=rlib.WRAPPER,
                    extra=["--log_max_bytes", str(LOG_CAP)])
    d.start()

    # Log cap: two trials whose worker writes 4 MiB of stderr each.
    sid = d.call({"op": "submit", "grid": rlib.xor_grid("spew", 2, {"lr": [0.0555]})})["sweep"]["id"]
    w = d.wait_sweep(sid)
    check(w["sweep"]["state"] == "done", "spewing trials still complete")
    for tid, in d.sql("SELECT id FROM trials WHERE sweep_id = ?", (sid,)):
        size = os.path.getsize(os.path.join(home, "logs", "%d.log" % tid))
        check(size <= LOG_CAP + 200, "trial %d log is %d bytes for 4 MiB written (cap %d)" %
              (tid, size, LOG_CAP))
    tr = d.call({"op": "trial", "id": tid})
    check(len(tr["trial"]["log_tail"]) <= 4096, "trial log_tail is at most 4 KiB (%d)" %
          len(tr["trial"]["log_tail"]))
    print("TABLE|worker writes 4 MiB to stderr (log_max_bytes %d)|2|log capped at %d bytes + "
          "note; trial done|0|0" % (LOG_CAP, size))

    # 50,000 trials: 500 learning rates x 100 seeds.
    before = mem(d.pid)
    lrs = [round(0.001 + i * 0.001, 3) for i in range(500)]
    grid = rlib.xor_grid("fifty-k", 100, {"lr": lrs}, base={"epochs": 1})
    r, secs = timed(d, {"op": "submit", "grid": grid})
    check(r.get("ok") and r["sweep"]["total"] == 50000, "50,000-trial sweep stored (%s)" %
          (r.get("sweep") or r).get("total", r))
    big = r["sweep"]["id"]
    d.call({"op": "pause", "sweep": big})
    after = mem(d.pid)
    _, st_secs = timed(d, {"op": "status"})
    _, show_secs = timed(d, {"op": "show", "sweep": big})
    d.call({"op": "cancel", "sweep": big})
    print("RESOURCE|submit 50,000 trials (500 configs x 100 seeds)|%.2f s|RSS %.1f -> %.1f MiB "
          "(peak %.1f MiB)" % (secs, before["VmRSS"], after["VmRSS"], after["VmHWM"]))
    print("RESOURCE|status / show with 50,000 queued trials|%.3f s / %.3f s|" % (st_secs, show_secs))

    # 100,000 recorded trials: submit them (1,000 configs x 100 seeds), pause,
    # stop the daemon, record results with sqlite3, restart, ask for the best.
    lrs = [round(0.00015 + i * 0.0001, 5) for i in range(1000)]  # no wrapper marker
    grid = rlib.xor_grid("hundred-k", 100, {"lr": lrs}, base={"epochs": 1})
    r, secs100 = timed(d, {"op": "submit", "grid": grid})
    check(r.get("ok") and r["sweep"]["total"] == 100000, "100,000-trial sweep stored")
    hk = r["sweep"]["id"]
    d.call({"op": "pause", "sweep": hk})
    rss100 = mem(d.pid)
    d.stop()
    con = sqlite3.connect(d.db)
    rng = random.Random(5)
    t0 = time.perf_counter()
    con.execute("UPDATE trials SET state = 'done', attempts = 1, started = created, "
                "finished = created + 1 WHERE sweep_id = ? AND state IN ('queued', 'running', 'cancelled')", (hk,))
    con.execute("DELETE FROM results WHERE sweep_id = ?", (hk,))
    # The true best: configuration 777 gets the highest mean validation accuracy.
    rows = []
    for tid, cidx in con.execute("SELECT id, config_idx FROM trials WHERE sweep_id = ?", (hk,)):
        va = 0.80 + 0.05 * (cidx == 777) + rng.uniform(-0.01, 0.01)
        rows.append((tid, hk, cidx, 1, 0.5, 0.8, 0.5, va, 0.5, 0.8, 1, 1, 0.1, 0))
    con.executemany("INSERT INTO results (trial_id, sweep_id, config_idx, attempt, train_loss, "
                    "train_accuracy, val_loss, val_accuracy, test_loss, test_accuracy, epochs_run, "
                    "best_epoch, seconds, diverged) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    con.execute("UPDATE sweeps SET paused = 0 WHERE id = ?", (hk,))
    con.commit()
    con.close()
    fill = time.perf_counter() - t0
    d.start()
    r, best_secs = timed(d, {"op": "best", "sweep": hk, "top": 3})
    check(r.get("ok") and r["configs"][0]["config"]["id"] == 777 and r["configs"][0]["stat"]["n"] == 100,
          "best over 100,000 trials finds configuration 777 with n = 100 (%s)" %
          ((r.get("configs") or [{}])[0].get("config", {}).get("id"),))
    _, best2 = timed(d, {"op": "best", "sweep": hk})
    _, show100 = timed(d, {"op": "show", "sweep": hk})
    _, list100 = timed(d, {"op": "list"})
    _, res100 = timed(d, {"op": "results", "sweep": hk})
    m = mem(d.pid)
    print("RESOURCE|submit 100,000 trials (1,000 configs x 100 seeds)|%.2f s|RSS after %.1f MiB "
          "(peak %.1f MiB)" % (secs100, rss100["VmRSS"], rss100["VmHWM"]))
    print("RESOURCE|record 100,000 results with sqlite3 (test set-up)|%.2f s|" % fill)
    print("RESOURCE|best --top 3 on 100,000 recorded trials|%.3f s (again %.3f s)|" %
          (best_secs, best2))
    print("RESOURCE|show / list / results (aggregated) on 100,000 recorded trials|"
          "%.3f / %.3f / %.3f s|RSS %.1f MiB (peak %.1f MiB)" %
          (show100, list100, res100, m["VmRSS"], m["VmHWM"]))
    rc = d.stop()
    check(rc == 0, "mlpd exits 0 (%s)" % rc)
    return rlib.report()


if __name__ == "__main__":
    sys.exit(main())
