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
7. TIMEOUT (started first, checked after part 12): a sweep with "slurm": {"time": "1"}
   and a long trial, its mlpd killed; after the TIMEOUT the controller forgets the
   job and the completion log is moved aside: the restarted mlpd learns TIMEOUT from
   the task's marker and fails the trial at once naming the Slurm time limit.
8. NODE_FAIL while mlpd is stopped, then the controller forgets the job: the state
   comes from sacct --completion and the trial is re-queued without counting the attempt.
9. The spool on a caching shared filesystem (cluster.sh cache: a bindfs view that
   keeps "no such file" and attributes for 5 s, while the tasks write to the
   "server" behind it): every result is recorded at the first attempt, none
   judged "COMPLETED without result" (the one-poll grace of old lost 4 of 6).
10. A sweep Slurm refuses (mlpd.conf's bad partition, higher priority) shows a blocked
   note with sbatch's message in list/status, another sweep runs meanwhile, and after
   slurm_submit_tries=3 refusals it fails with that message; mlpctl wait returns.
11. Site limits (MaxArraySize=8): arrays sized from scontrol, slurm_array_limit per sweep
   across arrays, an array Slurm refuses as too large shrunk.
12. A slow sbatch: cancel during a failing one (cancelled, spool cleaned, 0700), cancel
   during a good one (array scancelled), mlpd SIGKILLed during one (found by name);
   then slurm_spool_keep=0 prunes the finished batches' directories.
13. Controller load: one squeue -u per poll for all jobs; back-off while nothing changes.
14. Found by name: mlpd SIGKILLed during sbatch, the array runs to its end and the
   controller forgets it; the restarted mlpd finds it by name with sacct --completion,
   records its job id, ingests its results; tasks OOM-killed under the array's --mem
   (cluster.sh enforces it with task/cgroup where it can) fail "out of memory" from
   their completion markers, at attempt 1.
15. Adaptive: a halving and a racing sweep, each locally and through Slurm in one
   daemon: the same configurations pruned, the same seeds raced, the same trial
   states, bit-identical results; the pruned configuration's tasks scancelled.
16. A pruned configuration's tasks still running when mlpd dies (its scancel a no-op):
   the restarted mlpd scancels them and they end 'pruned', without a result.
17. mlpd SIGKILLed during a slow sbatch, restarted, the sweep cancelled before the
   array exists: found by name, it is scancelled; the trials end 'cancelled'.
18. Refusals counted across a restart (slurm_submit_tries=4, restarted after 3): the
   restarted mlpd shows the stored note and fails the sweep at the 4th refusal overall,
   with sbatch's message in status and wait; a later successful submission drops the note.
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
MLPCTL = os.environ.get("MLPCTL") or os.path.join(HERE, "../../build/cli/mlpctl")

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
# MaxArraySize=8, as the site whose 9-trial sweep never ran (part_site_limits).
os.environ["MLP_SLURM_MAX_ARRAY"] = "8"
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


def mlpctl(d, *args):
    return subprocess.run([MLPCTL, "--socket", d.sock] + list(args), env=d.env(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)


def slurm_bin(name, sbatch_body, omit=(), squeue_body=None):
    """A directory of Slurm's commands (but omit) whose sbatch (squeue) runs sbatch_body
    (squeue_body) in sh first."""
    d = os.path.join(CDIR, "bin-" + name)
    os.makedirs(d, exist_ok=True)
    if squeue_body is not None:
        real = subprocess.run(["sh", "-c", "command -v squeue"], stdout=subprocess.PIPE,
                              text=True).stdout.strip()
        with open(os.path.join(d, "squeue"), "w") as f:
            f.write("#!/bin/sh\n%s\nexec %s \"$@\"\n" % (squeue_body, real))
        os.chmod(os.path.join(d, "squeue"), 0o755)
        omit = tuple(omit) + ("squeue",)
    for prog in ("squeue", "scancel", "sacct", "scontrol", "sacctmgr"):
        if prog in omit:
            continue
        real = subprocess.run(["sh", "-c", "command -v " + prog], stdout=subprocess.PIPE,
                              text=True).stdout.strip()
        if real and not os.path.exists(os.path.join(d, prog)):
            os.symlink(real, os.path.join(d, prog))
    real = subprocess.run(["sh", "-c", "command -v sbatch"], stdout=subprocess.PIPE,
                          text=True).stdout.strip()
    with open(os.path.join(d, "sbatch"), "w") as f:
        f.write("#!/bin/sh\n%s\nexec %s \"$@\"\n" % (sbatch_body, real))
    os.chmod(os.path.join(d, "sbatch"), 0o755)
    return d


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
    # Long enough that a quiet machine does not finish it before a poll sees it running
    # (250 epochs took 1.6 s in a CI check: done before the test could kill it).
    sid = d.submit(slow_grid("killed", epochs=1500))
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
    d = harness.Daemon(workers=2, extra=POLL + ["--slurm-partition", "nosuch",
                                                "--slurm-submit-tries", "3"]).start()
    r = d.call({"op": "submit", "grid": dict(slow_grid("badtime", epochs=2),
                                             slurm={"time": "1h"}), "base_dir": d.home})
    check(not r.get("ok") and r["error"].get("path") == "slurm.time",
          "a bad per-sweep Slurm setting is refused naming its path", r.get("error"))
    grid = {"name": "own", "dataset": {"name": "xor", "n": 200}, "seeds": 2,
            "base": {"epochs": 2, "hidden": [4]}, "executor": "slurm",
            "slurm": {"partition": "debug", "time": "7",
                      "sbatch_args": ["--comment=mlp-own-args"]}}
    # The sweep Slurm refuses comes first (higher priority): the other still runs.
    other = d.submit(dict(grid, name="conf", slurm={"time": "7"}), priority=5)
    own = d.submit(grid)
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
    # The refused sweep says why, in every view, then fails after 3 tries with that message.
    sw = {s["name"]: s for s in d.ok({"op": "list"})["sweeps"]}
    b = sw["conf"].get("blocked") or {}
    check(sw["conf"]["state"] in ("queued", "failed") and "partition" in b.get("message", "").lower()
          and b.get("tries") == 3, "list names the blocked sweep with sbatch's message", b)
    st = mlpctl(d, "status")
    check("blocked" in st.stdout and "partition" in st.stdout.lower() or "refused its" in st.stdout,
          "mlpctl status shows the blocked note", st.stdout)
    r = mlpctl(d, "watch", "conf")  # a pipe: one plain line per event, until the end
    check(r.returncode == 1 and "blocked: Slurm refuses its submission (" in r.stdout and
          "partition" in r.stdout.lower(), "mlpctl watch shows the blocked note", r.stdout)
    w = d.wait_sweep(other, timeout=120)
    t = trial(d, first_trial(d, other))
    check(w["state"] == "failed" and w["failed"] == 2 and "refused the submission 3 times" in
          (t.get("error") or "") and "partition" in t["error"].lower(),
          "after 3 refused submissions the sweep fails with sbatch's message", (w, t.get("error")))
    r = mlpctl(d, "wait", "conf")
    check(r.returncode == 1 and "refused its submission 3 times" in r.stdout,
          "mlpctl wait returns, naming why", r.stdout)
    r = mlpctl(d, "list")
    check("sweep %d: Slurm refused" % other in r.stdout, "mlpctl list shows the note", r.stdout)
    d.stop()
    d.remove()


def part_refused_restart():
    """A sweep Slurm keeps refusing (a bad partition), slurm_submit_tries=4, its mlpd
    restarted after 3 refusals: the count is stored, so the restarted mlpd shows the note
    (3 of 4) and fails the sweep at the 4th sbatch overall, not the 4th after the restart;
    status and wait name sbatch's message.  A later successful submission drops the note.
    The sbatch wrapper holds its 3rd and 4th calls while the gate file exists, so the
    restart falls between the same two calls however fast or slow the machine is."""
    calls = os.path.join(CDIR, "refused-calls")
    gate = os.path.join(CDIR, "refused-gate")
    b = slurm_bin("refused", 'n=$(cat %s 2>/dev/null | wc -l); echo x >>%s\n'
                  'if [ "$n" -ge 2 ]; then while [ -e %s ]; do sleep 0.05; done; fi'
                  % (calls, calls, gate))

    def ncalls():
        try:
            with open(calls) as f:
                return len(f.read().split())
        except OSError:
            return 0

    def note(d, sid):
        return d.ok({"op": "show", "sweep": sid})["sweep"].get("blocked") or {}

    def stored(d, sid):
        return d.sql("SELECT failures, gave_up FROM slurm_blocked WHERE sweep_id = ?", (sid,))

    open(gate, "w").close()
    refuse = POLL + ["--slurm-bin", b, "--slurm-partition", "nosuch", "--slurm-submit-tries", "4"]
    d = harness.Daemon(workers=2, extra=refuse).start()
    grid = {"name": "refused", "dataset": {"name": "xor", "n": 200}, "seeds": 1,
            "base": {"epochs": 2, "hidden": [4]}, "executor": "slurm"}
    sid = d.submit(grid)
    d.until(lambda: ncalls() == 3, timeout=120, what="the 3rd sbatch (held by the gate)")
    n = note(d, sid)
    check(n.get("failures") == 2 and n.get("tries") == 4 and n.get("counted") is True and
          "partition" in n.get("message", "").lower(),
          "two refusals counted, with sbatch's message", n)
    # A graceful stop waits for the sbatch in flight: release it once the stop began.
    d.proc.send_signal(signal.SIGTERM)
    d.until(lambda: "shutdown requested" in d.log(), timeout=30, what="the shutdown")
    os.unlink(gate)
    d.proc.wait(60)
    d.check_sanitizers()
    check(ncalls() == 3 and stored(d, sid) == [(3, 0)],
          "the first mlpd stored 3 counted refusals", (ncalls(), stored(d, sid)))
    open(gate, "w").close()
    d.start()
    d.until(lambda: ncalls() == 4, timeout=60, what="the restarted mlpd's sbatch")
    n = note(d, sid)
    check(n.get("failures") == 3 and n.get("tries") == 4 and not n.get("gave_up") and
          "partition" in n.get("message", "").lower(),
          "the restarted mlpd shows the stored note: 3 of 4 tries", n)
    st = mlpctl(d, "status")
    check("Slurm refuses its submission (3 of 4 tries)" in st.stdout,
          "mlpctl status shows the restored note", st.stdout)
    os.unlink(gate)
    w = d.wait_sweep(sid, timeout=120)
    t = trial(d, first_trial(d, sid))
    check(w["state"] == "failed" and "refused the submission 4 times" in (t.get("error") or "")
          and "partition" in t["error"].lower() and ncalls() == 4,
          "the sweep fails at the 4th refusal overall (1 after the restart), with sbatch's "
          "message", (w, t.get("error"), ncalls()))
    r = mlpctl(d, "wait", "refused")
    check(r.returncode == 1 and "refused its submission 4 times" in r.stdout and
          "partition" in r.stdout.lower(), "mlpctl wait returns naming why", r.stdout)
    st = mlpctl(d, "status")
    check("refused its submission 4 times" in st.stdout, "mlpctl status names why", st.stdout)
    check(stored(d, sid) == [(0, 1)], "the stored note says it gave up, the count back at 0",
          stored(d, sid))
    d.stop()
    d.extra = POLL + ["--slurm-bin", b, "--slurm-submit-tries", "4"]
    d.start()
    r = mlpctl(d, "retry", "refused")
    check(r.returncode == 0, "mlpctl retry re-queues the failed trial", r.stdout)
    w = d.wait_sweep(sid, timeout=150)
    check(w["state"] == "done" and "blocked" not in w and stored(d, sid) == [],
          "submitted with a valid partition, it runs and its note is gone (also from the store)",
          (w, stored(d, sid)))
    d.stop()
    d.remove()


def part_site_limits():
    """The cluster has MaxArraySize=8.  A 9-trial sweep runs as arrays sized to it from
    scontrol show config, with slurm_array_limit=2 capping the sweep's running tasks
    across its arrays.  A daemon that cannot read the limit (no scontrol) sends an
    array of 9, which Slurm refuses; it shrinks it to 4 and the sweep runs."""
    grid = {"name": "limits", "dataset": {"name": "xor", "n": 200}, "seeds": 3,
            "base": {"epochs": 40, "hidden": [4]}, "grid": {"lr": [0.1, 0.2, 0.3]},
            "executor": "slurm"}
    d = harness.Daemon(workers=2, extra=POLL + ["--slurm-array-limit", "2"]).start()
    sid = d.submit(grid)
    most = 0
    while d.ok({"op": "show", "sweep": sid})["sweep"]["state"] not in ("done", "failed"):
        batches = set(b for (b,) in d.sql("SELECT DISTINCT batch FROM slurm_tasks"))
        q = squeue("-o", "%j %T") or []
        most = max(most, sum(1 for l in q if l.split(" ")[0] in batches and
                             l.strip().endswith(" RUNNING")))
        time.sleep(0.1)
    w = d.wait_sweep(sid)
    arrays = d.sql("SELECT count(DISTINCT batch), max(array_idx) FROM slurm_tasks")[0]
    check(w["done"] == 9 and arrays[0] >= 2 and arrays[1] <= 7 and
          "Slurm limits: arrays of at most 8 tasks" in d.log() and "refused" not in d.log(),
          "a 9-trial sweep runs as arrays sized to MaxArraySize=8", (w, arrays))
    check(most <= 2, "slurm_array_limit=2 caps the sweep's running tasks across arrays", most)
    d.stop()
    d.remove()
    blind = slurm_bin("blind", "", omit=("scontrol",))
    d = harness.Daemon(workers=2, extra=POLL + ["--slurm-bin", blind]).start()
    sid = d.submit(dict(grid, name="shrink"))
    w = d.wait_sweep(sid, timeout=150)
    arrays = d.sql("SELECT count(DISTINCT batch), max(array_idx) FROM slurm_tasks")[0]
    check(w["state"] == "done" and w["done"] == 9 and arrays[1] <= 7 and
          "a site limit refused an array of 9 tasks; trying 4" in d.log(),
          "an array Slurm refuses as too large is shrunk and the sweep runs",
          (w, arrays, d.log()[-1500:]))
    d.stop()
    d.remove()


def part_controller_load():
    """Two sweeps whose tasks stay pending (--begin=now+1hour): one squeue for all of
    the daemon's jobs per poll (-u, not per array), and polls back off while nothing
    changes (at poll 0.2 s, 6 s would take 30 queries without back-off)."""
    calls = os.path.join(CDIR, "squeue-calls")
    b = slurm_bin("count", "", squeue_body='echo "$*" >>%s' % calls)
    d = harness.Daemon(workers=2, extra=POLL + ["--slurm-bin", b]).start()
    g = dict(slow_grid("pend", epochs=2), slurm={"sbatch_args": ["--begin=now+1hour"]})
    a = d.submit(g)
    c = d.submit(dict(g, name="pend2"))
    d.until(lambda: len(d.sql("SELECT DISTINCT job_id FROM slurm_tasks WHERE job_id IS NOT "
                              "NULL")) == 2, timeout=60, what="both arrays submitted")
    time.sleep(2)  # the back-off sets in
    with open(calls) as f:
        before = f.read().split("\n")
    time.sleep(6)
    with open(calls) as f:
        during = f.read().split("\n")[len(before) - 1:]
    during = [l for l in during if l.strip()]
    check(all(" -u " in " " + l + " " and "--name" not in l for l in before + during if l),
          "squeue asks once for all the user's jobs (-u), never per array", during[:3])
    check(1 <= len(during) <= 12, "polls back off while nothing changes (<= 12 in 6 s, not 30)",
          len(during))
    for sid in (a, c):
        d.ok({"op": "cancel", "sweep": sid})
    for sid in (a, c):
        w = d.wait_sweep(sid, timeout=60)
        check(w["state"] == "cancelled", "a pending sweep is cancelled at once", w)
    d.stop()
    d.remove()


def part_inflight():
    """sbatch slow (3 s): mlpctl cancel while a failing sbatch runs leaves the sweep
    cancelled (not queued) and no batch directory; cancel while a good sbatch runs
    scancels the array once its id is known; mlpd SIGKILLed during sbatch and
    restarted finds the array by its job name and never submits it again."""
    bad = slurm_bin("bad", "sleep 3; echo 'sbatch: error: Batch job submission failed: "
                           "Invalid account or account/partition combination specified' >&2; exit 1")
    slow = slurm_bin("slow", "sleep 3")
    d = harness.Daemon(workers=2, extra=POLL + ["--slurm-bin", bad]).start()
    sid = d.submit(slow_grid("inflight-bad", epochs=50, seeds=2))
    d.until(lambda: "submitting 2 trial(s)" in d.log(), timeout=30, what="sbatch started")
    d.ok({"op": "cancel", "sweep": sid})
    w = d.wait_sweep(sid, timeout=60)
    check(w["state"] == "cancelled" and w["cancelled"] == 2,
          "cancel during a failing sbatch: the sweep stays cancelled", w)
    time.sleep(0.5)
    sw = d.ok({"op": "show", "sweep": sid})["sweep"]
    st = d.ok({"op": "status"})["slurm"]
    check("blocked" not in sw and st.get("blocked") == [],
          "a cancelled sweep carries no blocked note", (sw.get("blocked"), st.get("blocked")))
    spool = os.path.join(d.home, "spool")
    left = [n for n in os.listdir(spool) if n.startswith("mlpd-") and n != "mlpd-task.sh"]
    check(left == [], "the batch that never ran leaves no spool directory", left)
    check(os.stat(spool).st_mode & 0o077 == 0, "the spool is private (0700)",
          oct(os.stat(spool).st_mode))
    d.stop()
    d.extra = POLL + ["--slurm-bin", slow]
    d.start()
    sid = d.submit(slow_grid("inflight-cancel", epochs=3000, seeds=2))
    d.until(lambda: d.log().count("submitting 2 trial(s)") >= 2, timeout=30,
            what="sbatch started")
    d.ok({"op": "cancel", "sweep": sid})
    w = d.wait_sweep(sid, timeout=90)
    job = d.sql("SELECT DISTINCT job_id FROM slurm_tasks k JOIN trials t ON t.id = k.trial_id "
                "WHERE t.sweep_id = ?", (sid,))
    q = squeue("-j", str(job[0][0]) if job and job[0][0] else "0", "-o", "%T") or []
    check(w["state"] == "cancelled" and w["cancelled"] == 2 and len(job) == 1 and
          job[0][0] and not any(l.strip() in ("RUNNING", "PENDING") for l in q),
          "cancel during a good sbatch: the array is scancelled once its id is known", (w, job, q))
    sid = d.submit(slow_grid("inflight-crash", epochs=30, seeds=3))
    d.until(lambda: "submitting 3 trial(s)" in d.log(), timeout=30, what="sbatch started")
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait()
    d.extra = POLL
    d.start()
    w = d.wait_sweep(sid, timeout=150)
    rows = d.sql("SELECT count(DISTINCT k.job_id), max(t.attempts), count(*) FROM slurm_tasks k "
                 "JOIN trials t ON t.id = k.trial_id WHERE t.sweep_id = ?", (sid,))[0]
    check(w["state"] == "done" and rows == (1, 1, 3),
          "mlpd killed during sbatch: the restarted one finds the array by name; no second "
          "submission", (w, rows))
    check("again by name" in d.log(), "the array was found again by its job name", d.log()[-1500:])
    d.stop()
    # slurm_spool_keep 0: a daemon started now prunes every batch it does not follow.
    ran = [n for n in os.listdir(spool) if n.startswith("mlpd-") and n != "mlpd-task.sh"]
    d.extra = POLL + ["--slurm-spool-keep", "0"]
    time.sleep(2.5)  # older than the cutoff (whole seconds, minus one)
    d.start()
    left = d.until(lambda: [n for n in os.listdir(spool)
                            if n.startswith("mlpd-") and n != "mlpd-task.sh"] == [] or None,
                   timeout=30, what="the spool pruned")
    check(len(ran) >= 2 and left, "finished batches' spool directories are pruned", ran)
    d.stop()
    d.remove()


def part_prune():
    """A configuration pruned at a rung: its running Slurm tasks are scancelled."""
    d = harness.Daemon(workers=2, extra=POLL).start()
    epochs = 400
    grid = slow_grid("pruned", epochs=epochs, seeds=3, lrs=(0.1, 0.05, 0.00001))
    grid["prune"] = {"kind": "halving", "min_epochs": 1, "eta": 3, "min_configs": 2}
    sid = d.submit(grid)
    w = d.wait_sweep(sid, timeout=400)
    cfg = dict(d.sql("SELECT idx, pruned_epoch FROM configs WHERE sweep_id = ?", (sid,)))
    check(cfg.get(3) is not None, "the configuration that cannot learn (lr 1e-5) is pruned", cfg)
    rows = d.sql("SELECT t.id, t.state, k.job_id, k.array_idx, (SELECT max(epoch) FROM epochs e "
                 "WHERE e.trial_id = t.id), (SELECT count(*) FROM results r WHERE "
                 "r.trial_id = t.id) FROM trials t LEFT JOIN slurm_tasks k ON k.trial_id = t.id "
                 "WHERE t.sweep_id = ? AND t.config_idx = 3", (sid,))
    check(rows and all(r[1] == "pruned" and r[5] == 0 for r in rows),
          "its trials end 'pruned' without a result", rows)
    ran = [r for r in rows if r[2] and r[4]]
    check(ran and all(r[4] < epochs for r in ran),
          "a task that ran stopped before its last epoch, its curve kept", rows)
    states = []
    for r in ran:
        q = squeue("-j", str(r[2]), "-o", "%K %T") or []
        states += [l.strip() for l in q if l.strip().startswith("%d " % r[3])]
    check(states and all(x.endswith("CANCELLED") for x in states) and
          "scancel of" in d.log() and "pruned (Slurm task" in d.log(),
          "Slurm shows its running tasks CANCELLED (scancel ran)", (states, d.log()[-1500:]))
    check(w["state"] == "done" and w["pruned"] >= 1 and w["done"] + w["pruned"] == w["total"],
          "the sweep ends done, counting its pruned trials", w)
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
        # The state dir on the login node's own disk (the compute node cannot see it).
        home = tempfile.mkdtemp(prefix="home-", dir=os.path.join(CDIR, "login"))
        d = harness.Daemon(workers=1, home=home, extra=["--slurm-poll", "0.2", "--slurm-grace",
                                                        "20", "--slurm-spool", spool]).start()
        grid = {"name": "cached", "dataset": {"name": "xor", "n": 200}, "seeds": 3,
                "base": {"epochs": 2, "hidden": [4], "save": "model"}, "grid": {"lr": [0.1, 0.3]},
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
        ids = [i for (i,) in d.sql("SELECT id FROM trials WHERE sweep_id = ?", (sid,))]
        arts = [trial(d, i).get("artifacts") or [] for i in ids]
        check(all(any(a.get("name") == "model.npz" and a.get("bytes", 0) > 0 for a in al)
                  for al in arts),
              "artifacts written on the shared spool reach the login node's state dir", arts)
        left = subprocess.run(["sh", "-c", "ls %s/nfs/server/mlpd-*/artifacts/*/ 2>/dev/null"
                               % CDIR], stdout=subprocess.PIPE, text=True).stdout.split()
        check(left == [], "no artifact is left in the spool once moved", left)
        d.stop()
        d.remove()
    finally:
        subprocess.call(["fusermount", "-u", spool])


def part_found_by_name():
    """mlpd SIGKILLed while a slow sbatch runs; the array runs to its end and the
    controller then forgets it (as after MinJobAge), so squeue knows nothing by the
    batch's name.  The restarted mlpd finds the batch by name in accounting (here the
    completion log, sacct --completion), records its real job id and ingests the
    results from the spool: no second submission, every trial done at attempt 1.
    Where the cluster enforces memory (cluster.sh: task/cgroup), half the array is a
    network too big for the array's --mem: those tasks are OOM-killed, and since the
    completion log cannot say which task of the array ended how, only each task's
    completion marker tells it: they fail at once with "out of memory", never
    re-queued as crashes."""
    memcg = os.path.exists(os.path.join(CDIR, "memcg"))
    slow = slurm_bin("slow", "sleep 3")
    d = harness.Daemon(workers=2, extra=POLL + ["--slurm-bin", slow]).start()
    grid = {"name": "byname", "dataset": {"name": "xor", "n": 200}, "seeds": 2,
            "base": {"epochs": 5}, "grid": {"hidden": [[4], [8]]}, "executor": "slurm"}
    if memcg:
        grid["grid"]["hidden"] = [[4], [3000, 3000]]
        grid["slurm"] = {"sbatch_args": ["--mem=100M"]}
    sid = d.submit(grid)
    d.until(lambda: "submitting 4 trial(s)" in d.log(), timeout=30, what="sbatch started")
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait()
    batch = d.sql("SELECT DISTINCT batch FROM slurm_tasks k JOIN trials t ON t.id = k.trial_id "
                  "WHERE t.sweep_id = ?", (sid,))
    check(len(batch) == 1, "one batch recorded before sbatch ran", batch)
    name = batch[0][0]
    ends = ("COMPLETED", "OUT_OF_MEMORY", "FAILED")
    last = []

    def ended():
        last[:] = [l.strip() for l in (squeue("-n", name, "-o", "%F %K %T") or []) if l.strip()]
        return last if len(last) == 4 and all(x.split()[2] in ends for x in last) else None
    try:
        seen = d.until(ended, timeout=120, what="the array submitted by the dead mlpd to end")
    except AssertionError:
        check(False, "the array submitted by the dead mlpd ends", last)
        raise
    job = int(seen[0].split()[0])
    oom_idx = sorted(int(l.split()[1]) for l in seen if l.split()[2] == "OUT_OF_MEMORY")
    big = sorted(i for (i,) in d.sql("SELECT k.array_idx FROM slurm_tasks k JOIN trials t ON "
                                     "t.id = k.trial_id WHERE t.sweep_id = ? AND t.config_idx = 2",
                                     (sid,)))
    check(oom_idx == (big if memcg else []) and len(big) == 2,
          "Slurm ends the tasks over their --mem OUT_OF_MEMORY (no memory limit without cgroups)",
          seen)
    check(d.sql("SELECT count(*) FROM slurm_tasks WHERE batch = ? AND job_id > 0", (name,))[0][0]
          == 0, "the dead mlpd never learnt the job id")
    subprocess.check_call([CLUSTER, "forget", CDIR, "30000"])
    q = squeue("-n", name, "-o", "%i")
    check(not any(l.strip() for l in (q or [])), "the restarted controller forgot the array", q)
    d.extra = POLL
    d.start()
    w = d.wait_sweep(sid, timeout=150)
    rows = d.sql("SELECT count(DISTINCT k.batch), min(k.job_id), max(k.job_id), max(t.attempts), "
                 "count(*), (SELECT count(*) FROM results r WHERE r.sweep_id = ?) FROM "
                 "slurm_tasks k JOIN trials t ON t.id = k.trial_id WHERE t.sweep_id = ?",
                 (sid, sid))[0]
    log = d.log()
    nok = 2 if memcg else 4
    check(w["done"] == nok and rows == (1, job, job, 1, 4, nok),
          "the finished array is followed by its real job id and its results ingested; "
          "nothing submitted again", (w, rows, job))
    check("again by name (from sacct --completion)" in log and "unknown to Slurm" not in log,
          "the batch was found by name in the completion log", log[-2000:])
    if not memcg:
        print("SKIP: no memory cgroups for Slurm here: the OOM kill is not exercised")
    else:
        fails = d.sql("SELECT config_idx, state, attempts, error FROM trials WHERE sweep_id = ? "
                      "AND state != 'done' ORDER BY id", (sid,))
        check(w["failed"] == 2 and len(fails) == 2 and
              all(c == 2 and st == "failed" and a == 1 and err.startswith("out of memory:") and
                  "from its completion marker" in err for c, st, a, err in fails),
              "the OOM-killed tasks fail at once with 'out of memory', known from their "
              "completion markers", fails)
        t = mlpctl(d, "trial", str(d.sql("SELECT min(id) FROM trials WHERE sweep_id = ? AND "
                                         "config_idx = 2", (sid,))[0][0]))
        check("out of memory" in t.stdout, "mlpctl trial shows the out of memory", t.stdout)
    d.stop()
    d.remove()

def adaptive_outcome(d, sid):
    """What an adaptive sweep decided: configurations pruned and their racing verdicts,
    every trial's (config, seed, confirm, state), and the results of the done ones."""
    cfg = d.sql("SELECT idx, pruned_epoch IS NOT NULL, race FROM configs WHERE sweep_id = ? "
                "ORDER BY idx", (sid,))
    tr = d.sql("SELECT config_idx, seed, confirm, state FROM trials WHERE sweep_id = ? "
               "ORDER BY config_idx, seed, confirm", (sid,))
    return cfg, tr, results(d.db, sid)[0]


def part_adaptive():
    """A halving sweep ("prune") and a racing sweep ("seeds": {"min": 2, "max": 5}) run
    side by side locally and through Slurm in one daemon: the same configurations are
    pruned (the rung each stopped at depends on timing, and is not compared), the same
    seeds are raced, every trial ends in the same state and the done ones have
    bit-identical results.  The pruned configuration's Slurm tasks were scancelled.
    Racing judges a configuration when its seeds have ended, against the leader's
    seeds ended by then: the one that cannot learn trains 5 times longer, so that
    its seeds always end after the leaders' (else, on a slow machine, it may be
    judged against 1 leader seed and stay tied one seed longer than elsewhere)."""
    # The rank rule (plain ASHA): the worse of the two at a rung stops from one seed each,
    # so the outcome does not hang on how many seeds ran side by side (the t-test needs
    # two at one rung: a slow machine may run one to its end first).
    # The one that cannot learn trains 3000 epochs, so that its Slurm tasks cannot end
    # before the scancel that follows its pruning reaches them (on a fast machine 200
    # epochs ended within a poll or two, and nothing was left to cancel).
    halv = slow_grid("halving", epochs=200, seeds=3, lrs=(0.1, 0.00001))
    halv["dataset"] = {"name": "circles", "n": 4000, "noise": 0.1}
    del halv["base"]["epochs"]
    halv["grid"] = [{"lr": [0.1], "epochs": [200]}, {"lr": [0.00001], "epochs": [3000]}]
    halv["prune"] = {"kind": "halving", "min_epochs": 1, "eta": 3, "min_configs": 2,
                     "rule": "rank"}
    race = {"name": "racing", "dataset": {"name": "circles", "n": 400, "noise": 0.1},
            "seeds": {"min": 2, "max": 5},
            "base": {"hidden": [16], "batch_size": 16},
            "grid": [{"lr": [0.1], "max_seconds": [1000, 2000], "epochs": [8]},
                     {"lr": [0.00001], "epochs": [40]}]}
    d = harness.Daemon(workers=3, extra=POLL).start()
    ids = {}
    for g in (halv, race):
        for ex in ("local", "slurm"):
            ids[(g["name"], ex)] = d.submit(dict(g, name=g["name"] + "-" + ex, executor=ex))
    for sid in ids.values():
        w = d.wait_sweep(sid, timeout=300)
        check(w["state"] == "done", "the adaptive sweep ends done", w)
    # A Slurm task of the pruned configuration may end before its scancel reaches it
    # (mlpd learns of epochs at its polls, a local worker is stopped at once): it then
    # ends done with its result. Every other outcome must be the local one.
    def same_but_late(lt, st):
        return len(lt) == len(st) and all(
            a == b or (a[0] == 2 and a[:3] == b[:3] and {a[3], b[3]} == {"pruned", "done"})
            for a, b in zip(lt, st))

    for name in ("halving", "racing"):
        loc = adaptive_outcome(d, ids[(name, "local")])
        slu = adaptive_outcome(d, ids[(name, "slurm")])
        check(loc[0] == slu[0], "%s: the same configurations pruned / raced as locally" % name,
              (loc[0], slu[0]))
        check(loc[1] == slu[1] or (name == "halving" and same_but_late(loc[1], slu[1])),
              "%s: every trial ends as it does locally" % name, (loc[1], slu[1]))
        lr = {(r["config_idx"], r["seed"]): r for r in loc[2]}
        sr = {(r["config_idx"], r["seed"]): r for r in slu[2]}
        both = set(lr) & set(sr)
        check(loc[2] and all(k in both for k in lr if k[0] == 1) and
              all(lr[k] == sr[k] for k in both),
              "%s: the done trials' results are bit-identical" % name,
              (len(loc[2]), len(slu[2])))
    h = adaptive_outcome(d, ids[("halving", "slurm")])
    check([c for c, p, _ in h[0] if p] == [2] and
          all(st == "done" for c, _, _, st in h[1] if c != 2) and
          any(st == "pruned" for c, _, _, st in h[1] if c == 2),
          "halving: the configuration that cannot learn is pruned, the other runs", h[:2])
    r = adaptive_outcome(d, ids[("racing", "slurm")])
    seeds = {}
    for c, _, _, _ in r[1]:
        seeds[c] = seeds.get(c, 0) + 1
    check(seeds.get(3, 0) in (2, 3) and seeds.get(1) == 5 and seeds.get(2) == 5,
          "racing: the configuration that cannot learn stops early, the tied ones race to 5",
          seeds)
    ran = d.sql("SELECT k.job_id, k.array_idx FROM slurm_tasks k JOIN trials t ON "
                "t.id = k.trial_id WHERE t.sweep_id = ? AND t.config_idx = 2 AND "
                "t.state = 'pruned' AND k.job_id > 0", (ids[("halving", "slurm")],))
    states = []
    for job, idx in ran:
        states += [l.split()[1] for l in (squeue("-j", str(job), "-o", "%K %T") or [])
                   if l.strip().startswith("%d " % idx)]
    # A pending array task scancelled before it started may already be gone from squeue.
    check(ran and all(x == "CANCELLED" for x in states),
          "the pruned configuration's running Slurm tasks were scancelled", (ran, states))
    d.stop()
    d.remove()


def part_prune_restart():
    """A configuration pruned while its Slurm tasks run, and mlpd dies before they
    end (here its scancel does nothing, as when mlpd is killed right after the
    decision): the restarted mlpd, which finds the configuration pruned in the store
    (adapt_recover may also have just decided it), scancels them; they end 'pruned'
    before their last epoch, without a result."""
    b = slurm_bin("noscancel", "", omit=("scancel",))
    with open(os.path.join(b, "scancel"), "w") as f:
        f.write("#!/bin/sh\nexit 0\n")
    os.chmod(os.path.join(b, "scancel"), 0o755)
    d = harness.Daemon(workers=2, extra=POLL + ["--slurm-bin", b]).start()
    grid = slow_grid("prune-restart", epochs=30, seeds=3)
    del grid["base"]["epochs"]
    grid["grid"] = [{"lr": [0.1], "epochs": [30]}, {"lr": [0.00001], "epochs": [3000]}]
    grid["prune"] = {"kind": "halving", "min_epochs": 1, "eta": 3, "min_configs": 2}
    sid = d.submit(grid)
    d.until(lambda: d.sql("SELECT pruned_epoch FROM configs WHERE sweep_id = ? AND idx = 2",
                          (sid,))[0][0], timeout=120, what="configuration 2 pruned")
    d.until(lambda: "scancel of" in d.log(), timeout=30, what="the (idle) scancel")
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait()
    ran = d.sql("SELECT t.id, k.job_id, k.array_idx FROM trials t JOIN slurm_tasks k ON "
                "k.trial_id = t.id WHERE t.sweep_id = ? AND t.config_idx = 2 AND "
                "t.state = 'running' AND k.job_id > 0", (sid,))

    def slurm_states():
        out = []
        for _, job, idx in ran:
            out += [l.split()[1] for l in (squeue("-j", str(job), "-o", "%K %T") or [])
                    if l.strip().startswith("%d " % idx)]
        return out
    check(ran and all(x == "RUNNING" for x in slurm_states()),
          "the pruned configuration's tasks still run in Slurm when mlpd dies",
          (ran, slurm_states()))
    d.extra = POLL
    d.start()
    w = d.wait_sweep(sid, timeout=120)
    rows = d.sql("SELECT t.state, (SELECT max(epoch) FROM epochs e WHERE e.trial_id = t.id), "
                 "(SELECT count(*) FROM results r WHERE r.trial_id = t.id) FROM trials t "
                 "WHERE t.sweep_id = ? AND t.config_idx = 2", (sid,))
    check(w["state"] == "done" and all(st == "pruned" and (ep or 0) < 3000 and nr == 0
                                       for st, ep, nr in rows),
          "after the restart they end 'pruned', stopped early, without a result", (w, rows))
    check(all(x == "CANCELLED" for x in slurm_states()) and
          "its configuration was pruned at epoch" in d.log(),
          "the restarted mlpd scancelled them", (slurm_states(), d.log()[-1500:]))
    d.stop()
    d.remove()


def part_cancel_after_restart():
    """mlpd SIGKILLed while a slow sbatch runs, restarted, and the sweep cancelled
    before that orphaned sbatch has created the array: once the restarted mlpd finds
    the array by its name, it scancels it; the trials end 'cancelled', not run."""
    slow = slurm_bin("slow", "sleep 3")
    d = harness.Daemon(workers=2, extra=POLL + ["--slurm-bin", slow]).start()
    sid = d.submit(slow_grid("cancel-restart", epochs=3000, seeds=2))
    d.until(lambda: "submitting 2 trial(s)" in d.log(), timeout=30, what="sbatch started")
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait()
    d.extra = POLL
    d.start()
    r = d.ok({"op": "cancel", "sweep": sid})
    check(r["changed"] == 2 and not d.sql("SELECT job_id FROM slurm_tasks WHERE job_id > 0"),
          "cancelled while the array's job id is unknown", r)
    w = d.wait_sweep(sid, timeout=120)
    job = d.sql("SELECT DISTINCT job_id FROM slurm_tasks k JOIN trials t ON t.id = k.trial_id "
                "WHERE t.sweep_id = ?", (sid,))
    q = [l.strip() for l in (squeue("-j", str(job[0][0] or 0), "-o", "%T") or []) if l.strip()]
    check(w["state"] == "cancelled" and w["cancelled"] == 2 and w["done"] == 0 and
          len(job) == 1 and q and all(x == "CANCELLED" for x in q) and
          "again by name" in d.log(),
          "the array found by name is scancelled, its trials cancelled", (w, job, q))
    d.stop()
    d.remove()


class TimeoutSweep:
    """A trial that outlives its sweep's one-minute Slurm time limit while its mlpd is
    dead, on a cluster without accounting: the controller then forgets the job and
    the job completion log is out of reach (moved aside), so only the task's own
    marker can say TIMEOUT.  Slurm counts limits in minutes and checks them every
    30 s, so TIMEOUT comes 60 to 90 s after the start: the task runs on the third
    CPU while the other parts run, and is checked before the node is taken down."""

    def start(self):
        self.d = harness.Daemon(workers=1, extra=POLL).start()
        self.sid = self.d.submit(dict(slow_grid("timeout", epochs=100000), slurm={"time": "1"}))
        self.job = running_task(self.d, 1)["job"]
        self.d.stop(kill=True)

    def check(self):
        d = self.d
        q = harness.Daemon.until(None, lambda: any(
            l.strip() == "TIMEOUT" for l in (squeue("-j", str(self.job), "-o", "%T") or [])),
            timeout=150, what="Slurm ends the task TIMEOUT")
        comp = os.path.join(CDIR, "jobcomp.txt")
        os.rename(comp, comp + ".aside")
        try:
            subprocess.check_call([CLUSTER, "forget", CDIR, "5000"])
            d.start()
            w = d.wait_sweep(self.sid, timeout=150)
            t = trial(d, 1)
        finally:
            with open(comp + ".aside") as f:
                old = f.read()
            newer = open(comp).read() if os.path.exists(comp) else ""
            with open(comp, "w") as f:
                f.write(old + newer)
            os.unlink(comp + ".aside")
        check(q and w["failed"] == 1 and t["attempts"] == 1 and
              "time limit reached (TIMEOUT)" in (t.get("error") or ""),
              "a task past its --time ends TIMEOUT, known from its own marker without "
              "squeue or accounting: failed at once, naming the limit",
              (w, t.get("error"), t["attempts"]))
        d.stop()
        d.remove()


timeout_sweep = TimeoutSweep()


def part_timeout_start():
    timeout_sweep.start()


def part_timeout_check():
    timeout_sweep.check()


PARTS = (part_timeout_start, part_side_by_side, part_cancel, part_kill_task, part_restart,
             part_sbatch_fails, part_sweep_settings, part_refused_restart, part_site_limits, part_controller_load,
             part_inflight, part_prune,
             part_timeout_check, part_caching_spool,
             part_node_fail, part_found_by_name, part_adaptive,
             part_prune_restart, part_cancel_after_restart)
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
