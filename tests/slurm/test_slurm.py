#!/usr/bin/env python3
"""The Slurm executor against a real single-node Slurm (tests/slurm/cluster.sh).

One private cluster (munged, slurmctld, slurmd on 127.0.0.1, in a temporary
directory) serves every part; each part starts its own mlpd --foreground.
Exits 77 (skipped) only when the Slurm or munge programs are not installed.

1. Side by side: the same grid as a local and as a Slurm sweep in one daemon;
   every metric and every epoch row is bit-identical (seconds aside); list and
   trial answers name the executor and the Slurm task.
2. scancel from outside: the trial fails naming scancel.  mlpctl cancel: the
   running Slurm task is cancelled through scancel and the trial ends 'cancelled'.
3. A task's mlp-worker SIGKILLed mid-run: the trial runs again (attempts 2) and is done.
4. mlpd SIGKILLed while array tasks run, then restarted: it re-attaches; one
   array job for the whole sweep (no second submission), every trial done once
   with attempt 1, epoch rows complete, PRAGMA integrity_check ok.
5. sbatch failing (a partition that does not exist): the trials stay queued with
   sbatch's message, no job exists; a daemon restarted with a valid setting runs them.
6. Per-sweep "slurm" settings: a bad one is refused naming its path; a sweep's
   own partition, time and sbatch_args reach sbatch; a sweep without them uses mlpd.conf's.
7. TIMEOUT (started first, checked after part 6): a sweep with "slurm": {"time": "1"}
   and a long trial; the trial fails at once naming the Slurm time limit.
8. NODE_FAIL while mlpd is stopped, then the controller forgets the job: the state
   comes from sacct --completion and the trial is re-queued without counting the attempt.
9. The spool on a caching shared filesystem (cluster.sh cache: a bindfs view that
   keeps "no such file" and attributes for 5 s, while the tasks write to the
   "server" behind it): every result is recorded at the first attempt, none
   judged "COMPLETED without result" (the one-poll grace of old lost 4 of 6).
"""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness  # noqa: E402
from harness import check  # noqa: E402

CLUSTER = os.path.join(HERE, "cluster.sh")

if subprocess.call([CLUSTER, "check"]) == 77:
    print("SKIP: slurm-wlm/munge not installed (scripts/setup.sh --test installs them)")
    sys.exit(77)

CDIR = tempfile.mkdtemp(prefix="mlp-slurm-")


def stop_cluster():
    subprocess.call([CLUSTER, "stop", CDIR])
    subprocess.call(["rm", "-rf", CDIR])


import atexit  # noqa: E402
atexit.register(stop_cluster)  # runs on failure and on meson's SIGTERM (harness: sys.exit)
# The ports are picked free, then bound by slurmctld/slurmd a moment later: a
# cluster started at the same time elsewhere on the machine may take one in
# between.  Then the node never comes up; start again with new ports.
for attempt in range(2):
    out = subprocess.run([CLUSTER, "start", CDIR, "3"], stdout=subprocess.PIPE, text=True)
    if out.returncode == 0:
        break
    stop_cluster()
    os.makedirs(CDIR)
if out.returncode != 0:
    print("FAIL: the test cluster did not start")
    sys.exit(1)
os.environ["SLURM_CONF"] = os.path.join(CDIR, "slurm.conf")

# A short grace for the tasks the parts end without a completion marker (scancel,
# TIMEOUT, NODE_FAIL); part_caching_spool sets its own.
POLL = ["--slurm-poll", "0.2", "--slurm-grace", "1"]
NO_SECONDS = ("seconds",)


def squeue(*args):
    r = subprocess.run(["squeue", "-h", "-r", "-t", "all"] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    return r.stdout.split("\n") if r.returncode == 0 else None


def results(db, sid):
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    rows = con.execute(
        "SELECT t.config_idx, t.seed, r.* FROM results r JOIN trials t ON t.id = r.trial_id "
        "WHERE t.sweep_id = ? ORDER BY t.config_idx, t.seed", (sid,)).fetchall()
    res = [{k: r[k] for k in r.keys() if k not in NO_SECONDS + ("trial_id", "sweep_id")}
           for r in rows]
    eps = con.execute(
        "SELECT t.config_idx, t.seed, e.epoch, e.train_loss, e.train_accuracy, e.val_loss, "
        "e.val_accuracy FROM epochs e JOIN trials t ON t.id = e.trial_id WHERE t.sweep_id = ? "
        "ORDER BY t.config_idx, t.seed, e.epoch", (sid,)).fetchall()
    con.close()
    return res, [tuple(e) for e in eps]


def trial(d, tid):
    return d.ok({"op": "trial", "id": tid})["trial"]


# Waits are generous: the suite runs this next to other tests on 2 loaded cores,
# where a 1 s trial can take 10 s; they bound a hang, they do not time anything.
def wait_trial(d, tid, pred, timeout=90, what="trial condition"):
    d.until(lambda: pred(trial(d, tid)), timeout=timeout, what=what)
    return trial(d, tid)


def first_trial(d, sid):
    return d.sql("SELECT min(id) FROM trials WHERE sweep_id = ?", (sid,))[0][0]


def slow_grid(name, epochs, seeds=1, lrs=(0.1,)):
    g = harness.slow_grid(name, seeds=seeds, lrs=lrs, epochs=epochs)
    g["executor"] = "slurm"
    return g


def part_side_by_side():
    d = harness.Daemon(workers=2, extra=POLL).start()
    grid = {"dataset": {"name": "circles", "n": 300}, "seeds": 2,
            "base": {"epochs": 4, "hidden": [8]}, "grid": {"lr": [0.05, 0.2]}}
    loc = d.submit(dict(grid, name="loc"))
    slu = d.submit(dict(grid, name="slu", executor="slurm"))
    d.wait_sweep(loc, timeout=150)
    w = d.wait_sweep(slu, timeout=150)
    check(w["state"] == "done" and w["done"] == 4, "the Slurm sweep is done", w)
    rl, el = results(d.db, loc)
    rs, es = results(d.db, slu)
    check(len(rl) == 4 and rl == rs, "Slurm results equal local ones bit for bit", (rl, rs))
    check(len(el) == 16 and el == es, "Slurm epoch rows equal local ones bit for bit",
          (len(el), len(es)))
    conf = {sid: d.sql("SELECT r.confusion, r.normalize FROM results r JOIN trials t ON "
                       "t.id = r.trial_id WHERE r.sweep_id = ? ORDER BY t.config_idx, t.seed",
                       (sid,)) for sid in (loc, slu)}
    check(len(conf[slu]) == 4 and all(c and n for c, n in conf[slu]) and conf[slu] == conf[loc],
          "Slurm trials record the same confusion matrix and normalize as local ones", conf)
    ts = d.sql("SELECT min(id) FROM trials WHERE sweep_id = ?", (slu,))[0][0]
    check(os.path.isdir(os.path.join(d.home, "artifacts", str(ts))),
          "a Slurm trial gets its artifacts directory too")
    sweeps = {s["name"]: s for s in d.ok({"op": "list"})["sweeps"]}
    check(sweeps["loc"]["executor"] == "local" and sweeps["slu"]["executor"] == "slurm",
          "list names each sweep's executor", sweeps)
    check(sweeps["slu"].get("slurm_jobs") == [], "no live Slurm job once the sweep is done",
          sweeps["slu"].get("slurm_jobs"))
    t = trial(d, first_trial(d, slu))
    sl = t.get("slurm") or {}
    check(isinstance(sl.get("job"), int) and sl.get("task") == "%d_%d" % (sl["job"], sl["array_index"])
          and sl.get("state") in ("COMPLETED", "RUNNING", None),
          "a Slurm trial names its job array task", sl)
    check("slurm" not in trial(d, 1), "a local trial has no Slurm fields")
    st = d.ok({"op": "status"})
    check(st.get("executor") == "local" and isinstance(st.get("slurm"), dict),
          "status names the default executor and the Slurm executor", st.get("slurm"))
    d.stop()
    d.remove()


def running_task(d, tid):
    t = wait_trial(d, tid, lambda t: (t.get("slurm") or {}).get("state") == "RUNNING"
                   and len(t.get("curve", [])) > 0, what="task running with epochs")
    return t["slurm"]


def part_cancel():
    d = harness.Daemon(workers=2, extra=POLL).start()
    sid = d.submit(slow_grid("outside", epochs=3000))
    sl = running_task(d, 1)
    check(len(trial(d, 1)["curve"]) >= 1, "epochs are recorded while the task runs")
    subprocess.check_call(["scancel", sl["task"]])
    w = d.wait_sweep(sid, timeout=150)
    t = trial(d, 1)
    check(w["failed"] == 1 and "scancel" in (t.get("error") or ""),
          "a task cancelled outside mlpd fails naming scancel", t.get("error"))
    sid2 = d.submit(slow_grid("inside", epochs=3000))
    tid = first_trial(d, sid2)
    sl = running_task(d, tid)
    r = d.ok({"op": "cancel", "sweep": sid2})
    check(r["changed"] >= 1, "cancel reports the running Slurm trial", r.get("changed"))
    w = d.wait_sweep(sid2, timeout=150)
    check(w["cancelled"] == 1 and w["state"] == "cancelled",
          "mlpctl cancel ends the Slurm trial 'cancelled'", w)
    q = squeue("-j", str(sl["job"]), "-o", "%K %T")
    check(q is not None and any(l.strip() == "%d CANCELLED" % sl["array_index"] for l in q),
          "Slurm shows the task CANCELLED (scancel ran)", q)
    d.stop()
    d.remove()


def worker_pid(spec_dir, idx):
    spec = "%s/%d.spec" % (spec_dir, idx)
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if len(argv) > 2 and argv[0].endswith(b"mlp-worker") and argv[2] == spec.encode():
            return int(p)
    return None


def part_kill_task():
    d = harness.Daemon(workers=2, extra=POLL).start()
    sid = d.submit(slow_grid("killed", epochs=250))
    sl = running_task(d, 1)
    pid = d.until(lambda: worker_pid(sl["spool"], sl["array_index"]), timeout=30,
                  what="the task's mlp-worker")
    os.kill(pid, signal.SIGKILL)
    w = d.wait_sweep(sid, timeout=150)
    t = trial(d, 1)
    check(w["state"] == "done" and t["attempts"] == 2,
          "a task killed mid-run is run again and done (attempts 2)", (w["state"], t["attempts"]))
    check(t["slurm"]["attempt"] == 2 and t["slurm"]["job"] != sl["job"],
          "the second attempt is a new Slurm job", (sl, t["slurm"]))
    d.stop()
    d.remove()


def part_restart():
    d = harness.Daemon(workers=2, extra=POLL + ["--slurm-array-limit", "2"]).start()
    before = len([l for l in (squeue("-o", "%i") or []) if l.strip()])
    sid = d.submit(slow_grid("restart", epochs=120, seeds=3, lrs=(0.05, 0.1)))
    d.until(lambda: 1 <= d.ok({"op": "show", "sweep": sid})["sweep"]["done"] < 6, timeout=120,
            what="some trials done, some running")
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait()
    q = squeue("-o", "%j %T")
    check(q is not None and any("RUNNING" in l or "PENDING" in l for l in q),
          "Slurm tasks still run after mlpd died", q)
    d.start()
    w = d.wait_sweep(sid, timeout=150)
    check(w["state"] == "done" and w["done"] == 6, "the sweep ends done after the restart", w)
    con = sqlite3.connect(d.db)
    jobs = con.execute("SELECT count(DISTINCT job_id), count(DISTINCT batch), count(*) FROM "
                       "slurm_tasks k JOIN trials t ON t.id = k.trial_id WHERE t.sweep_id = ?",
                       (sid,)).fetchone()
    att = con.execute("SELECT max(attempts), count(*) FROM trials WHERE sweep_id = ?",
                      (sid,)).fetchone()
    nres = con.execute("SELECT count(*) FROM results WHERE sweep_id = ?", (sid,)).fetchone()[0]
    neps = con.execute("SELECT count(*) FROM epochs e JOIN trials t ON t.id = e.trial_id "
                       "WHERE t.sweep_id = ?", (sid,)).fetchone()[0]
    ok = con.execute("PRAGMA integrity_check").fetchone()[0]
    con.close()
    check(jobs == (1, 1, 6), "one array job for the whole sweep: no second submission", jobs)
    check(att == (1, 6) and nres == 6, "every trial recorded once, at attempt 1", (att, nres))
    check(neps == 6 * 120, "every epoch row is there", neps)
    check(ok == "ok", "integrity_check ok", ok)
    after = len([l for l in (squeue("-o", "%i") or []) if l.strip()])
    check(after - before == 6, "Slurm received exactly 6 tasks for the 6 trials",
          (before, after))
    d.stop()
    d.remove()


def part_sbatch_fails():
    d = harness.Daemon(workers=2, extra=POLL + ["--slurm-partition", "nosuch"]).start()
    before = len([l for l in (squeue("-o", "%i") or []) if l.strip()])
    grid = {"name": "badpart", "dataset": {"name": "xor", "n": 200}, "seeds": 2,
            "base": {"epochs": 2, "hidden": [4]}, "executor": "slurm"}
    sid = d.submit(grid)
    t = wait_trial(d, 1, lambda t: "sbatch failed" in (t.get("error") or ""), timeout=60,
                   what="the sbatch error on the trial")
    s = d.ok({"op": "show", "sweep": sid})["sweep"]
    check(s["queued"] == 2 and t["attempts"] == 0 and "partition" in t["error"].lower(),
          "sbatch failing leaves the trials queued with its message", (s["queued"], t))
    after = len([l for l in (squeue("-o", "%i") or []) if l.strip()])
    check(after == before, "no Slurm job was created", (before, after))
    d.stop()
    d.extra = POLL
    d.start()
    w = d.wait_sweep(sid, timeout=150)
    check(w["state"] == "done" and w["done"] == 2, "with a valid partition the same trials run", w)
    d.stop()
    d.remove()


def part_sweep_settings():
    d = harness.Daemon(workers=2, extra=POLL + ["--slurm-partition", "nosuch"]).start()
    r = d.call({"op": "submit", "grid": dict(slow_grid("badtime", epochs=2),
                                             slurm={"time": "1h"}), "base_dir": d.home})
    check(not r.get("ok") and r["error"].get("path") == "slurm.time",
          "a bad per-sweep Slurm setting is refused naming its path", r.get("error"))
    grid = {"name": "own", "dataset": {"name": "xor", "n": 200}, "seeds": 2,
            "base": {"epochs": 2, "hidden": [4]}, "executor": "slurm",
            "slurm": {"partition": "debug", "time": "7",
                      "sbatch_args": ["--comment=mlp-own-args"]}}
    own = d.submit(grid)
    other = d.submit(dict(grid, name="conf", slurm={"time": "7"}))
    w = d.wait_sweep(own, timeout=150)
    check(w["state"] == "done" and w["done"] == 2,
          "a sweep's own partition overrides mlpd.conf's (nosuch)", w)
    job = d.sql("SELECT DISTINCT job_id FROM slurm_tasks k JOIN trials t ON t.id = k.trial_id "
                "WHERE t.sweep_id = ?", (own,))
    q = squeue("-j", str(job[0][0]) if len(job) == 1 else "0", "-o", "%P|%l|%k")
    check(len(job) == 1 and q is not None and "debug|7:00|mlp-own-args" in q,
          "its array has the sweep's partition, time limit and sbatch_args", (job, q))
    t = wait_trial(d, first_trial(d, other), lambda t: "sbatch failed" in (t.get("error") or ""),
                   timeout=60, what="the other sweep's sbatch error")
    check("partition" in t["error"].lower() and t["attempts"] == 0,
          "a sweep without its own partition uses mlpd.conf's (and sbatch refuses it)", t)
    d.stop()
    d.remove()


def live_children(pid, name):
    """Child processes of pid called name that have not exited."""
    found = []
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                kids = f.read().split()
        except OSError:
            continue
        for k in kids:
            try:
                with open("/proc/%s/stat" % k, "rb") as f:
                    st = f.read()
            except OSError:
                continue
            comm = st[st.index(b"(") + 1:st.rindex(b")")]
            state = st[st.rindex(b")") + 2:][:1]
            if comm == name and state != b"Z":
                found.append(int(k))
    return found


def part_node_fail():
    """The node fails under a running task while mlpd is stopped, then the
    controller forgets the job (restarted with cleared state): squeue no longer
    knows it, sacct --completion says NODE_FAIL, and the trial is run again
    without counting the attempt (by its files alone it would count as a crash)."""
    d = harness.Daemon(workers=2, extra=POLL).start()
    sid = d.submit(slow_grid("nodefail", epochs=3000))  # still running when the node fails
    sl = running_task(d, 1)
    time.sleep(0.5)  # a poll or two after RUNNING: mlpd has the task's own job id
    d.proc.send_signal(signal.SIGSTOP)
    try:
        # A squeue that mlpd started just before stopping would still report the
        # task's end; let it finish first, so mlpd learns it only from sacct.
        d.until(lambda: not live_children(d.proc.pid, b"squeue"), timeout=30,
                what="mlpd's squeue to finish")
        subprocess.check_call(["scontrol", "update", "nodename=localhost", "state=down",
                               "reason=mlptest"])
        ok = False
        for _ in range(300):
            q = squeue("-j", str(sl["job"]), "-o", "%K %T") or []
            if any(l.strip() == "%d NODE_FAIL" % sl["array_index"] for l in q):
                ok = True
                break
            time.sleep(0.1)
        check(ok, "Slurm ends the task NODE_FAIL when its node goes down", q)
        # ReturnToService=2 may have returned it already: then resume is refused.
        subprocess.call(["scontrol", "update", "nodename=localhost", "state=resume"],
                        stderr=subprocess.DEVNULL)
        subprocess.check_call([CLUSTER, "forget", CDIR])
        q = squeue("-j", str(sl["job"]), "-o", "%K %T")
        check(not any(l.strip() for l in (q or [])), "the restarted controller forgot the job", q)
    finally:
        d.proc.send_signal(signal.SIGCONT)
    t = wait_trial(d, 1, lambda t: ((t.get("slurm") or {}).get("job") or 0) >= 10000,
                   what="the trial submitted again to the forgetful controller")
    check(t["attempts"] == 1,
          "NODE_FAIL learnt from sacct re-queues the trial without counting the attempt",
          (t["attempts"], t.get("error")))
    d.ok({"op": "cancel", "sweep": sid})
    w = d.wait_sweep(sid, timeout=150)
    check(w["cancelled"] == 1, "its second run is cancelled (not waited for)", w)
    log = d.log()
    check("ended NODE_FAIL (from sacct --completion)" in log,
          "the final state came from sacct --completion", log[-2000:])
    d.stop()
    d.remove()


def part_caching_spool():
    spool = os.path.join(CDIR, "nfs", "spool")
    rc = subprocess.call([CLUSTER, "cache", CDIR, "5"])
    if rc == 77:
        print("SKIP: no caching FUSE view on this machine (root, bindfs, /dev/fuse)")
        return
    check(rc == 0, "the caching view of the spool is mounted", rc)
    try:
        # The view really caches: a name looked up before it existed stays missing.
        probe = "probe-%d" % os.getpid()
        check(not os.path.exists(os.path.join(spool, probe)), "no probe yet")
        with open(os.path.join(CDIR, "nfs", "server", probe), "w") as f:
            f.write("x")
        check(not os.path.exists(os.path.join(spool, probe)),
              "the view keeps a cached 'no such file' after the server created it")
        d = harness.Daemon(workers=1, extra=["--slurm-poll", "0.2", "--slurm-grace", "20",
                                             "--slurm-spool", spool]).start()
        grid = {"name": "cached", "dataset": {"name": "xor", "n": 200}, "seeds": 3,
                "base": {"epochs": 2, "hidden": [4]}, "grid": {"lr": [0.1, 0.3]},
                "executor": "slurm"}
        sid = d.submit(grid)
        w = d.wait_sweep(sid, timeout=200)
        att = d.sql("SELECT max(attempts), min(attempts), count(*) FROM trials WHERE sweep_id = ?",
                    (sid,))[0]
        check(w["state"] == "done" and w["done"] == 6 and att == (1, 1, 6),
              "on a caching spool every result is recorded at the first attempt", (w, att))
        log = d.log()
        check("re-queued" not in log and "without a result" not in log,
              "no finished task was judged without its result", log[-2000:])
        d.stop()
        d.remove()
    finally:
        subprocess.call(["fusermount", "-u", spool])


class TimeoutSweep:
    """A trial that outlives its sweep's one-minute Slurm time limit.  Slurm
    counts limits in minutes and checks them every 30 s, so TIMEOUT comes 60 to
    90 s after the start: the task runs on the third CPU while the other parts
    run, in its own daemon, and is checked before the node is taken down."""

    def start(self):
        self.d = harness.Daemon(workers=1, extra=POLL).start()
        self.sid = self.d.submit(dict(slow_grid("timeout", epochs=100000), slurm={"time": "1"}))
        running_task(self.d, 1)

    def check(self):
        w = self.d.wait_sweep(self.sid, timeout=150)
        t = trial(self.d, 1)
        check(w["failed"] == 1 and t["attempts"] == 1 and
              "time limit reached (TIMEOUT)" in (t.get("error") or ""),
              "a task past its sweep's --time ends TIMEOUT: failed at once, naming the limit",
              (w, t.get("error"), t["attempts"]))
        self.d.stop()
        self.d.remove()


timeout_sweep = TimeoutSweep()


def part_timeout_start():
    timeout_sweep.start()


def part_timeout_check():
    timeout_sweep.check()


PARTS = (part_timeout_start, part_side_by_side, part_cancel, part_kill_task, part_restart,
             part_sbatch_fails, part_sweep_settings, part_timeout_check, part_caching_spool,
             part_node_fail)
# MLP_SLURM_PARTS=part_a,part_b runs only those (while working on one of them).
if os.environ.get("MLP_SLURM_PARTS"):
    PARTS = [p for p in PARTS if p.__name__ in os.environ["MLP_SLURM_PARTS"].split(",")]
for part in PARTS:
    print("--- %s" % part.__name__, flush=True)
    t0 = time.time()
    try:
        part()
    except Exception as ex:  # report, keep the cluster clean-up
        check(False, "%s raised" % part.__name__, repr(ex))
        for dd in list(harness._live):
            print(dd.log()[-3000:])
    print("    (%.1f s)" % (time.time() - t0), flush=True)
harness.done()
