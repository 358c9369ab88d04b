#!/usr/bin/env python3
"""Notification hooks through the real mlpd with real hook scripts: mlpd.conf's
on_sweep_end runs without a shell (an argument with a space stays one word) with
MLP_* variables and the JSON summary on stdin; a grid's "notify" runs
on_trial_failed (rate-limited: once per hook_interval per sweep) and
on_sweep_blocked (first trials all failed); a hook that outlives hook_timeout
is killed with its process group while the scheduler keeps running sweeps; a
hook that fails is logged; a grid naming a missing program is refused."""
import json
import os
import stat
import time

from harness import Daemon, check, done, tiny_grid, truncated_idx_grid

with Daemon(workers=2) as d:
    out = os.path.join(d.home, "out dir")
    os.mkdir(out)
    hook = os.path.join(d.home, "hook.sh")
    with open(hook, "w") as f:
        f.write('#!/bin/sh\n'
                'f="$1/$MLP_EVENT-$MLP_SWEEP_ID-$$"\n'
                'env | grep "^MLP_" | sort > "$f.env"\n'
                'cat > "$f.json"\n'
                'echo "args=$#" >> "$f.env"\n'
                'exit "${2:-0}"\n')
    slow = os.path.join(d.home, "slow.sh")
    with open(slow, "w") as f:
        f.write('#!/bin/sh\necho $$ > "$1/slow.pid"\nsleep 300 &\necho $! > "$1/child.pid"\nwait\n')
    for p in (hook, slow):
        os.chmod(p, stat.S_IRWXU)
    d.extra = ["--on-sweep-end", "%s '%s'" % (hook, out), "--hook-timeout", "3",
               "--hook-interval", "600"]
    d.start()

    def files(prefix):
        return sorted(n for n in os.listdir(out) if n.startswith(prefix) and n.endswith(".json"))

    def complete(prefix):
        """The runs of files(prefix) that have written everything: "args=" is their last
        line (a run seen by its .json alone may still be writing it)."""
        names = []
        for name in files(prefix):
            try:
                with open(os.path.join(out, name[:-5] + ".env")) as f:
                    if "args=" in f.read():
                        names.append(name)
            except OSError:
                pass
        return names

    def read(name):
        with open(os.path.join(out, name)) as f:
            js = json.load(f)
        env = {}
        with open(os.path.join(out, name[:-5] + ".env")) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("=")
                env[k] = v
        return js, env

    a = d.submit(tiny_grid("hooked"))
    d.wait_sweep(a)
    name = d.until(lambda: complete("sweep_end-%d-" % a), what="the on_sweep_end hook")[0]
    js, env = read(name)
    check(env.get("args") == "1", "the quoted directory is one argument (no shell)", env.get("args"))
    check(env.get("MLP_EVENT") == "sweep_end" and env.get("MLP_SWEEP_NAME") == "hooked"
          and env.get("MLP_SWEEP_STATE") == "done" and env.get("MLP_DONE") == "4"
          and env.get("MLP_FAILED") == "0" and env.get("MLP_TOTAL") == "4",
          "MLP_* variables name the event, sweep, state and counts", env)
    best = d.ok({"op": "best", "sweep": a})["configs"][0]
    check(env.get("MLP_BEST_CONFIG") == str(best["config"]["id"]) and env.get("MLP_METRIC") == "val_accuracy"
          and abs(float(env.get("MLP_BEST_MEAN", "nan")) - best["stat"]["mean"]) < 1e-12
          and json.loads(env.get("MLP_BEST_PARAMS", "{}")) == best["config"]["grid"],
          "and the best configuration with its metric", (env, best["config"]))
    check(js["event"] == "sweep_end" and js["sweep"]["id"] == a and js["sweep"]["done"] == 4
          and js["best_config"]["id"] == best["config"]["id"],
          "the JSON summary arrives on stdin", js)
    check(len(files("sweep_end-%d-" % a)) == 1, "the end is reported once", files("sweep_end"))
    # Tagging the ended sweep changes it but does not end it again.
    d.ok({"op": "tag", "sweep": a, "tags": {"k": "v"}})
    time.sleep(0.5)
    check(len(files("sweep_end-%d-" % a)) == 1, "an op on an ended sweep is not a new end",
          files("sweep_end"))

    # A grid's own hooks: failures (rate-limited) and a blocked sweep; its exit 5 is logged.
    bad = truncated_idx_grid("failing", d.home, seeds=3)
    bad["notify"] = {"on_trial_failed": [hook, out, "5"], "on_sweep_blocked": [hook, out]}
    b = d.submit(bad)
    s = d.wait_sweep(b)
    d.until(lambda: complete("sweep_blocked-%d-" % b), what="the on_sweep_blocked hook")
    d.until(lambda: complete("sweep_end-%d-" % b), what="the mlpd.conf on_sweep_end hook")
    d.until(lambda: complete("trial_failed-%d-" % b), what="the on_trial_failed hook")
    tf = files("trial_failed-%d-" % b)
    check(s["failed"] == 6 and len(tf) == 1, "6 failures, one on_trial_failed hook (hook_interval)",
          (s["failed"], tf))
    js, env = read(tf[0])
    check(env.get("MLP_TRIAL_ID", "").isdigit() and "truncated" in env.get("MLP_TRIAL_ERROR", "")
          and js["trial_error"] == env.get("MLP_TRIAL_ERROR") and int(env["MLP_NEW_FAILURES"]) >= 1,
          "on_trial_failed names the trial and its error", env)
    js, env = read(files("sweep_blocked-%d-" % b)[0])
    check("all failed" in env.get("MLP_BLOCKED_REASON", "") and js["event"] == "sweep_blocked",
          "on_sweep_blocked says why", env)
    d.until(lambda: "exited 5" in d.log(), what="the failed hook in the log")
    check(True, "a hook's failure (exit 5) is logged")

    # Refused at submit: a program that does not exist.
    g = tiny_grid("nohook")
    g["notify"] = {"on_sweep_end": ["/nonexistent/prog"]}
    r = d.call({"op": "submit", "grid": g, "base_dir": d.home})
    check(not r["ok"] and r["error"]["path"] == "notify.on_sweep_end", "a missing hook program is refused", r)
    g["notify"] = {"on_sweep_ends": "true"}
    r = d.call({"op": "submit", "grid": g, "base_dir": d.home})
    check(not r["ok"] and "did you mean" in r["error"]["message"], "an unknown event gets a suggestion", r)

    # A hook that hangs is killed with its children after hook_timeout; sweeps go on meanwhile.
    g = tiny_grid("slowhook")
    g["notify"] = {"on_sweep_end": [slow, out]}
    c = d.submit(g)
    d.wait_sweep(c)
    pidf = os.path.join(out, "slow.pid")
    d.until(lambda: os.path.exists(pidf) and os.path.getsize(pidf) > 0, what="the slow hook")
    e2 = d.submit(tiny_grid("meanwhile"))
    s2 = d.wait_sweep(e2)
    check(s2["state"] == "done", "a sweep runs and ends while a hook hangs", s2["state"])
    d.until(lambda: "timed out" in d.log(), timeout=30, what="the hook's time-out")
    child = int(open(os.path.join(out, "child.pid")).read())

    def gone(pid):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            with open("/proc/%d/stat" % pid) as f:
                return f.read().split()[2] == "Z"
        except OSError:
            return True

    d.until(lambda: gone(child), timeout=10, what="the hook's child killed")
    check(True, "the hung hook's child process is killed too")

done()
