#!/usr/bin/env python3
"""Daemon life cycle: one daemon per state dir, graceful and --now shutdown
then restart and finish, a crash (SIGKILL) then recovery, daemon mode with a
pid file and SIGHUP log reopening, refusing a foreign or newer database."""
import hashlib
import os
import signal
import sqlite3
import subprocess
import time

from harness import BRIEF, FOREVER, MLPD, SLOW, Daemon, check, done, slow_grid


def running(d, sid):
    return d.ok({"op": "show", "sweep": sid})["sweep"]["running"]


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child of ours is not running either.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


# 1. A second daemon on the same state dir is refused.
d = Daemon(workers=2).start()
p = subprocess.run([MLPD, "--foreground"], env=d.env(), capture_output=True, text=True, timeout=10)
check(p.returncode != 0 and ("mlpd already running (pid %d) on %s" % (d.proc.pid, d.home)) in p.stderr,
      "a second daemon refuses with the first one's pid", p.stderr)

# 2. Graceful shutdown: running trials finish, queued ones stay queued.  BRIEF trials:
# the first two must still run when the shutdown comes (CI's fast machine could end
# 400-epoch ones between the poll and the shutdown, and start the queued two).
sid = d.submit(slow_grid("grace", seeds=2, lrs=(0.1, 0.05), epochs=BRIEF))
d.until(lambda: running(d, sid) == 2, what="two running trials")
r = d.ok({"op": "shutdown"})
check(r["running"] == 2, "shutdown answers at once", r)
st = d.ok({"op": "status"})
check(st["draining"] and st["workers"]["busy"] == 2, "still serving while draining", st)
r = d.call({"op": "submit", "grid": slow_grid("late"), "base_dir": d.home})
check(not r["ok"] and r["error"]["code"] == "shutting_down", "no submits while draining", r)
rc = d.proc.wait(120 * SLOW)
check(rc == 0, "graceful shutdown exits 0", rc)
states = sorted(x[0] for x in d.sql("select state from trials"))
check(states == ["done", "done", "queued", "queued"], "running trials finished, the rest queued", states)
check(not os.path.exists(d.sock) and not os.path.exists(os.path.join(d.home, "mlpd.pid")),
      "socket and pid file removed on exit")

# 3. Restart: the queued trials run.
d.start()
s = d.wait_sweep(sid)
check(s["state"] == "done" and s["done"] == 4, "after restart the sweep finishes", s)

# 4. --now: running trials are stopped and re-queued without losing an attempt.
sid2 = d.submit(slow_grid("now", seeds=1, lrs=(0.1, 0.05), epochs=FOREVER))
d.until(lambda: running(d, sid2) == 2, what="two running trials")
pids = [x[0] for x in d.sql("select pid from trials where sweep_id=? and state='running'", (sid2,))]
t0 = time.time()
d.ok({"op": "shutdown", "now": True})
rc = d.proc.wait(30 * SLOW)
check(rc == 0 and time.time() - t0 < 10 * SLOW, "shutdown --now exits promptly", time.time() - t0)
check(not any(pid_alive(p) for p in pids if p), "its workers are gone", pids)
rows = d.sql("select state, attempts from trials where sweep_id=?", (sid2,))
check(rows == [("queued", 0), ("queued", 0)], "stopped trials re-queued, attempt given back", rows)

# 5. A crash: SIGKILL the daemon mid-trial; workers die with it; restart recovers.
d.start()
d.until(lambda: running(d, sid2) == 2, what="running again")
pids = [x[0] for x in d.sql("select pid from trials where sweep_id=? and state='running'", (sid2,))]
d.proc.kill()
d.proc.wait()
d.until(lambda: not any(pid_alive(p) for p in pids), timeout=10, what="workers to die with the daemon")
check(True, "workers died with the daemon (PR_SET_PDEATHSIG)")
check(os.path.exists(d.sock), "a stale socket is left behind by the crash")
# Shorten the re-run: cancel the long sweep after recovery and check its bookkeeping.
d.start()
rows = d.sql("select state, attempts from trials where sweep_id=?", (sid2,))
check(rows == [("running", 2), ("running", 2)], "recovered trials re-run, counting the crashed attempt", rows)
check("2 re-queued" in d.log(), "recovery is logged", d.log()[-400:])
d.ok({"op": "cancel", "sweep": sid2})
s = d.wait_sweep(sid2)
check(s["state"] == "cancelled", "cancelled after recovery", s)
n_res = d.sql("select count(*), count(distinct trial_id) from results")[0]
check(n_res[0] == n_res[1] == 4, "every finished trial recorded exactly once", n_res)
check(d.sql("pragma integrity_check")[0][0] == "ok", "integrity_check ok after the crash")
d.stop()
home = d.home

# 5b. With max_attempts 1, a trial running when the daemon died fails on restart.
with Daemon(workers=1, extra=["--max-attempts", "1"]) as d1:
    d1.start()
    sid = d1.submit(slow_grid("once", epochs=FOREVER))
    d1.until(lambda: running(d1, sid) == 1, what="a running trial")
    d1.proc.kill()
    d1.proc.wait()
    d1.start()
    row = d1.sql("select state, attempts, error from trials")[0]
    check(row[0] == "failed" and row[1] == 1 and "daemon stopped" in row[2],
          "a crashed trial past max_attempts fails at recovery", row)

# 6. Daemon mode: detaches, pid file, SIGHUP reopens the log.
env = d.env()
p = subprocess.run([MLPD, "--workers", "1"], env=env, capture_output=True, text=True, timeout=20)
check(p.returncode == 0, "mlpd detaches and returns 0 once ready", p.stderr)
with open(os.path.join(home, "mlpd.pid")) as f:
    dpid = int(f.read())
check(pid_alive(dpid) and dpid != p.returncode, "pid file names the running daemon", dpid)
os.rename(os.path.join(home, "mlpd.log"), os.path.join(home, "mlpd.log.1"))
os.kill(dpid, signal.SIGHUP)
d.until(lambda: os.path.exists(os.path.join(home, "mlpd.log")), what="a reopened log")
check(d.ok({"op": "status"})["pid"] == dpid, "the detached daemon answers")
os.kill(dpid, signal.SIGTERM)
d.until(lambda: not pid_alive(dpid), what="the daemon to exit")
with open(os.path.join(home, "mlpd.log")) as f:
    log = f.read()
check("reopened" in log and "stopped" in log, "the new log continues after SIGHUP", log[-300:])
d.remove()

# 7. A database that is not ours, or from a newer mlpd, is refused untouched.
for kind in ("garbage", "foreign", "newer"):
    d = Daemon(workers=1)
    if kind == "garbage":
        with open(d.db, "wb") as f:
            f.write(b"definitely not sqlite" * 100)
    else:
        con = sqlite3.connect(d.db)
        if kind == "foreign":
            con.execute("create table notes(x)")
        else:
            con.execute("pragma application_id = 1836150884")
            con.execute("pragma user_version = 999")
        con.commit()
        con.close()
    before = hashlib.sha256(open(d.db, "rb").read()).hexdigest()
    p = subprocess.run([MLPD, "--foreground"], env=d.env(), capture_output=True, text=True, timeout=10)
    after = hashlib.sha256(open(d.db, "rb").read()).hexdigest()
    check(p.returncode != 0 and "mlpd.db" in p.stderr and before == after,
          "%s database refused and left untouched" % kind, p.stderr.strip()[-200:])
    d.remove()
done()
