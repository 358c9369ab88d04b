#!/usr/bin/env python3
"""Daily use (issue 11): sweep states after cancel, `changed` counts and refusals,
reviving a cancelled sweep, unique-prefix sweep names, list filters and --wide,
delete (refused while running, --force), wait --timeout, running trials in
status.  Through the protocol and the real mlpctl."""
import os
import subprocess

from harness import HERE, Daemon, check, done, slow_grid, tiny_grid, truncated_idx_grid

MLPCTL = os.environ.get("MLPCTL") or os.path.join(HERE, "../../build/cli/mlpctl")


def ctl(d, *args, timeout=60):
    return subprocess.run([MLPCTL, "--socket", d.sock] + list(args), env=d.env(),
                          capture_output=True, timeout=timeout, text=True)


with Daemon(workers=1) as d:
    d.start()
    # A sweep with failed trials, then cancelled while more are queued: 'cancelled'.
    bad = truncated_idx_grid("broken-then-cancelled", d.home, seeds=1)
    slow = slow_grid("slow-one", epochs=100000)
    sid = d.submit(bad)
    d.wait_sweep(sid)
    # The one worker busy first, so the retried trial stays queued (a retry before it
    # could run and fail again at once, ending the sweep before the cancel).
    blocker = d.submit(slow, priority=5)
    d.until(lambda: d.sql("select count(*) from trials where sweep_id=? and state='running'",
                          (blocker,))[0][0] == 1, what="the slow trial running")
    d.ok({"op": "retry", "sweep": sid})
    r = d.ok({"op": "cancel", "sweep": sid})
    s = d.ok({"op": "show", "sweep": sid})["sweep"]
    check(s["state"] == "cancelled", "a cancelled sweep with failed trials shows cancelled", s["state"])
    r2 = d.call({"op": "cancel", "sweep": sid})
    check(not r2["ok"] and r2["error"]["code"] == "conflict" and "ended" in r2["error"]["message"],
          "cancel of an ended sweep is a conflict saying why", r2)
    r2 = d.call({"op": "pause", "sweep": sid})
    check(not r2["ok"] and r2["error"]["code"] == "conflict", "so is pause", r2)

    # pause/resume count what changed.
    q = d.submit(tiny_grid("pausable", seeds=2))
    r = d.ok({"op": "pause", "sweep": q})
    check(r["changed"] == 4, "pause counts the queued trials", r["changed"])
    r = d.ok({"op": "pause", "sweep": q})
    check(r["changed"] == 0, "pausing again changes nothing", r["changed"])
    r = d.ok({"op": "resume", "sweep": q})
    r = d.ok({"op": "resume", "sweep": q})
    check(r["changed"] == 0, "resuming a running sweep changes nothing", r["changed"])

    # Reviving: retry --cancelled (via mlpctl) and resume on a cancelled sweep.
    p = ctl(d, "retry", "broken-then-cancelled", "--cancelled")
    s = d.ok({"op": "show", "sweep": sid})["sweep"]
    check(p.returncode == 0 and s["cancelled"] == 0 and s["queued"] + s["running"] == 2,
          "retry --cancelled re-queues the cancelled (and failed) trials", (p.stderr, s))
    d.ok({"op": "cancel", "sweep": sid})
    r = d.ok({"op": "resume", "sweep": sid})
    check(r["changed"] == 2 and r["sweep"]["state"] != "cancelled",
          "resume on a cancelled sweep re-queues its cancelled trials", r)

    # Unique prefixes.
    a = d.submit(tiny_grid("alpha-first"))
    d.submit(tiny_grid("alpha-second"))
    r = d.ok({"op": "show", "sweep": "alpha-f"})
    check(r["sweep"]["id"] == a, "a unique prefix names the sweep", r["sweep"]["name"])
    r = d.call({"op": "show", "sweep": "alpha"})
    check(not r["ok"] and r["error"]["code"] == "ambiguous"
          and "alpha-first" in r["error"]["message"] and "alpha-second" in r["error"]["message"],
          "an ambiguous prefix lists the candidates", r)
    p = ctl(d, "show", "alph")
    check(p.returncode == 1 and "alpha-second" in p.stderr, "mlpctl shows the candidates", p.stderr)

    # list: --state, --limit, --wide with full names.
    long_name = "a-very-long-sweep-name-" + "x" * 90 + "-end"
    d.submit(tiny_grid(long_name))
    r = d.ok({"op": "list", "state": "paused,cancelled", "limit": 10})
    check(all(x["state"] in ("paused", "cancelled") for x in r["sweeps"]), "list filters by state",
          [x["state"] for x in r["sweeps"]])
    r = d.ok({"op": "list", "limit": 2})
    check(len(r["sweeps"]) == 2, "list --limit", len(r["sweeps"]))
    r = d.call({"op": "list", "state": "finished"})
    check(not r["ok"] and "finished" in r["error"]["message"], "an unknown state is named", r)
    p = ctl(d, "list", "--wide")
    check(long_name in p.stdout and "EXECUTOR" in p.stdout and "PRIO" in p.stdout
          and "CREATED" in p.stdout, "list --wide prints full names and more columns", p.stdout[-400:])
    p = ctl(d, "list", "--state", "paused", "--state", "running", "--limit", "1")
    check(p.returncode == 0 and len(p.stdout.strip().splitlines()) == 2,
          "mlpctl list --state (repeated) --limit 1", p.stdout)

    # status lists the running trial.
    p = ctl(d, "status")
    check("running trials" in p.stdout and "slow-one" in p.stdout and "local" in p.stdout,
          "status lists running trials", p.stdout)
    r = d.ok({"op": "status"})
    check(len(r["running"]) == 1 and r["running"][0]["sweep"] == blocker
          and r["running"][0]["attempt"] == 1, "status op: running trials", r["running"])

    # wait --timeout on a sweep that does not end.
    p = ctl(d, "wait", "slow-one", "--timeout", "0.5")
    check(p.returncode == 1 and "has not ended after 0.5 s" in p.stderr,
          "wait --timeout exits 1 with a clear message", (p.returncode, p.stderr))

    # delete: refused while running, --force stops the trial; logs and artifacts go.
    trial = d.sql("select id from trials where sweep_id=? and state='running'", (blocker,))[0][0]
    adir = os.path.join(d.home, "artifacts", str(trial))
    os.makedirs(adir, exist_ok=True)  # mlpd creates it for every trial it starts
    open(os.path.join(adir, "model.npz"), "wb").write(b"x")
    p = ctl(d, "delete", "slow-one")
    check(p.returncode == 1 and "running" in p.stderr and "--force" in p.stderr,
          "delete refuses a running sweep", p.stderr)
    p = ctl(d, "delete", "slow-one", "--force")
    check(p.returncode == 0 and "deleted sweep" in p.stdout, "delete --force", (p.stdout, p.stderr))
    check(d.sql("select count(*) from trials where sweep_id=?", (blocker,))[0][0] == 0
          and d.sql("select count(*) from sweeps where id=?", (blocker,))[0][0] == 0,
          "its rows are gone")
    check(not os.path.exists(adir) and not os.path.exists(os.path.join(d.home, "logs", "%d.log" % trial)),
          "its artifacts and log are gone")
    d.until(lambda: d.ok({"op": "status"})["workers"]["busy"] == 0, what="the worker stopped")
    w = d.wait_sweep(q)
    check(w["state"] == "done", "other sweeps go on after the delete", w["state"])
    p = ctl(d, "delete", "pausable")
    check(p.returncode == 0, "a finished sweep is deleted without --force", p.stderr)
    check(d.ok({"op": "status"})["sweeps"] == 4, "four sweeps remain")
done()
