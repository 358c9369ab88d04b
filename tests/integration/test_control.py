#!/usr/bin/env python3
"""Queue control and worker failures: pause/resume, cancel, retry, priorities,
a worker killed with SIGKILL is retried, repeated crashes fail after
max_attempts, an invalid configuration fails at once, max_seconds times out."""
import os
import signal

from harness import BRIEF, FOREVER, Daemon, check, done, slow_grid, tiny_grid, truncated_idx_grid


def show(d, sid):
    return d.ok({"op": "show", "sweep": sid})["sweep"]


def running_pids(d, sid):
    return [p for (p,) in d.sql("select pid from trials where sweep_id=? and state='running' "
                                "and pid is not null", (sid,))]


with Daemon(workers=2, extra=["--max-attempts", "2", "--kill-grace", "0.5"]) as d:
    d.start()

    # Invalid configuration: exit 4 -> failed at once, no retry; retry re-queues it.
    # (train_size beyond the split is refused at submit now; a dataset broken
    # past its headers is what still reaches the worker.)
    bad = truncated_idx_grid("invalid", d.home, seeds=2)
    sid = d.submit(bad)
    s = d.wait_sweep(sid)
    rows = d.sql("select state, attempts, error from trials where sweep_id=?", (sid,))
    check(s["state"] == "failed" and all(r[0] == "failed" and r[1] == 1 for r in rows),
          "an invalid configuration fails at once (1 attempt)", rows)
    check(all("truncated" in (r[2] or "") for r in rows), "with the worker's message", rows[0])
    r = d.ok({"op": "retry", "sweep": sid})
    check(r["changed"] == 4, "retry re-queues the failed trials", r["changed"])
    s = d.wait_sweep(sid)
    check(s["failed"] == 4, "and they fail again for the same reason", s)

    # max_seconds: the trial fails with a timeout, without retries.
    tg = slow_grid("timeout", epochs=100000)
    tg["base"]["max_seconds"] = 0.3
    sid = d.submit(tg)
    s = d.wait_sweep(sid)
    rows = d.sql("select state, attempts, error from trials where sweep_id=?", (sid,))
    check(rows[0][0] == "failed" and rows[0][1] == 1 and "timeout" in rows[0][2], "max_seconds -> timeout", rows)

    # The daemon's own max_seconds timer: a stopped worker cannot check its clock,
    # so mlpd sends SIGTERM, then SIGKILL after kill_grace.
    tg = slow_grid("stuck", epochs=100000)
    tg["base"]["max_seconds"] = 1.0
    sid = d.submit(tg)
    pid = d.until(lambda: running_pids(d, sid), what="a running worker")[0]
    try:
        os.kill(pid, signal.SIGSTOP)
    except ProcessLookupError:
        pass  # a poll later than max_seconds (a loaded machine): the worker timed out itself
    s = d.wait_sweep(sid)
    row = d.sql("select state, attempts, error from trials where sweep_id=?", (sid,))[0]
    check(row[0] == "failed" and row[1] == 1 and "timeout" in row[2], "a stuck worker is killed at max_seconds", row)

    # Diverged trials (NaN metrics) rank last, and are reported as diverged.
    dg = tiny_grid("diverge", seeds=2, lrs=(0.1, 1e20))
    dg["metric"] = "val_loss"
    sid = d.submit(dg)
    d.wait_sweep(sid)
    b = d.ok({"op": "best", "sweep": sid, "top": 2})
    ranked = [(c["config"]["grid"]["lr"], c["stat"]["n"], c["stat"]["nonfinite"]) for c in b["configs"]]
    check(ranked == [(0.1, 2, 0), (1e20, 0, 2)] and b["comparison"] is None,
          "a diverged configuration ranks last with its NaNs counted", ranked)
    rows = d.ok({"op": "results", "sweep": sid, "trials": True})["rows"]
    check(sorted(r["diverged"] for r in rows) == [False, False, True, True], "diverged flags in results",
          [r["diverged"] for r in rows])

    # Pause / resume.  Both slots are held by a blocker that cannot end by itself, so every
    # trial of the paused sweep is still queued when the pause comes (CI's fast machine
    # ended 150-epoch trials between the poll and the pause); once the blocker is
    # cancelled, another sweep runs to its end in the freed slots while nothing of the
    # paused one starts.
    blocker = d.submit(slow_grid("pause-blocker", seeds=2, epochs=FOREVER))
    d.until(lambda: show(d, blocker)["running"] == 2, what="the blocker's two trials running")
    sid = d.submit(slow_grid("pause", seeds=3, lrs=(0.1,), epochs=150))
    r = d.ok({"op": "pause", "sweep": sid})
    check(r["sweep"]["state"] == "paused" and r["changed"] == 3 and r["sweep"]["queued"] == 3,
          "pause", r)
    d.ok({"op": "cancel", "sweep": blocker})
    d.wait_sweep(blocker)
    other = d.submit(tiny_grid("while-paused", seeds=2))
    check(d.wait_sweep(other)["state"] == "done", "another sweep runs while one is paused")
    s = show(d, sid)
    check(s["queued"] == 3 and s["running"] == 0 and s["state"] == "paused",
          "nothing of the paused sweep starts", s)
    r = d.ok({"op": "resume", "sweep": sid})
    check(r["changed"] == 3, "resume", r["changed"])
    s = d.wait_sweep(sid)
    check(s["state"] == "done" and s["done"] == 3, "the resumed sweep finishes", s)

    # Priorities: one slot busy on a blocker, the other on a low-priority sweep's first
    # trial (both endless, so nothing frees a slot early: CI's fast machine ended
    # 150-epoch low trials before the high sweep came); the high sweep, submitted next,
    # takes the slot the cancelled blocker frees before any queued low-priority trial.
    blocker = d.submit(slow_grid("prio-blocker", epochs=FOREVER))
    d.until(lambda: show(d, blocker)["running"] == 1, what="the blocker running")
    lo = d.submit(slow_grid("low", seeds=4, lrs=(0.1,), epochs=FOREVER))
    d.until(lambda: show(d, lo)["running"] == 1, what="low sweep running")
    hi = d.submit(tiny_grid("high", seeds=2), priority=10)
    d.ok({"op": "cancel", "sweep": blocker})
    d.wait_sweep(hi)
    started_hi = max(x for (x,) in d.sql("select started from trials where sweep_id=?", (hi,)))
    later_lo = d.sql("select count(*) from trials where sweep_id=? and started < ?", (lo, started_hi))[0][0]
    check(later_lo == 1, "higher priority runs before the queued low-priority trials", later_lo)
    d.ok({"op": "cancel", "sweep": lo})
    d.wait_sweep(lo)

    # Cancel: queued trials cancelled, running workers stopped.
    sid = d.submit(slow_grid("cancel", seeds=4, lrs=(0.1,), epochs=FOREVER))
    d.until(lambda: len(running_pids(d, sid)) == 2, what="two running trials")
    pids = running_pids(d, sid)
    r = d.ok({"op": "cancel", "sweep": sid})
    check(r["changed"] == 4 and r["sweep"]["state"] == "cancelled", "cancel counts queued + running", r)
    s = d.wait_sweep(sid, timeout=20)
    rows = [x[0] for x in d.sql("select state from trials where sweep_id=?", (sid,))]
    check(rows == ["cancelled"] * 4 and s["state"] == "cancelled", "every trial cancelled", rows)
    d.until(lambda: all(not os.path.exists("/proc/%d" % p) for p in pids),
            what="the cancelled workers to be gone")
    check(True, "cancelled workers are gone")

    # A worker killed with SIGKILL is retried and then succeeds (BRIEF: CI's fast machine
    # could end a 300-epoch trial between the poll and the kill).
    sid = d.submit(slow_grid("kill", seeds=1, lrs=(0.1,), epochs=BRIEF))
    pid = d.until(lambda: running_pids(d, sid), what="a running worker")[0]
    os.kill(pid, signal.SIGKILL)
    s = d.wait_sweep(sid)
    rows = d.sql("select state, attempts from trials where sweep_id=?", (sid,))
    check(rows == [("done", 2)] and s["state"] == "done", "a killed worker is retried and succeeds", rows)
    n_ep = d.sql("select count(*), min(attempt) from epochs e join trials t on t.id=e.trial_id "
                 "where t.sweep_id=?", (sid,))[0]
    check(n_ep == (BRIEF, 2), "only the last attempt's epoch rows are kept", n_ep)

    # Killed on every attempt: failed after max_attempts (2) with the signal.
    sid = d.submit(slow_grid("crash", seeds=1, lrs=(0.1,), epochs=FOREVER))
    for attempt in (1, 2):
        pid = d.until(lambda: [p for (p, a) in d.sql(
            "select pid, attempts from trials where sweep_id=? and state='running' and pid is not null",
            (sid,)) if a == attempt], what="attempt %d" % attempt)[0]
        os.kill(pid, signal.SIGKILL)
    s = d.wait_sweep(sid)
    row = d.sql("select state, attempts, error from trials where sweep_id=?", (sid,))[0]
    check(row[0] == "failed" and row[1] == 2 and "killed by signal 9" in row[2],
          "failed after max_attempts with the signal", row)
    tr = d.ok({"op": "trial", "id": d.sql("select id from trials where sweep_id=?", (sid,))[0][0]})["trial"]
    check(tr["state"] == "failed" and "attempt 2" in tr["log_tail"], "the trial's log has both attempts", tr["log_tail"][-200:])
    st = d.ok({"op": "status"})
    check(st["workers"]["busy"] == 0 and st["trials"]["running"] == 0, "all slots free at the end", st)
done()
