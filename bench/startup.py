#!/usr/bin/env python3
"""startup.py NEW_BUILD [BASE_BUILD] [--runs N] [--trials N] [--no-share] — issue 17's figures.

NEW_BUILD and BASE_BUILD are meson build directories (worker/mlp-worker,
daemon/mlpd, cli/mlpctl in each); BASE_BUILD is a build of an older commit, so
that both are measured in the same run, interleaved (new, base, base, new, ...),
under the same load.  Full Fashion-MNIST training split, warm prepared-data
cache, one BLAS thread:

  spawn -> first batch: time.monotonic() before Popen to the worker's first_batch
      (MLP_WORKER_TIMING=1, CLOCK_MONOTONIC, when the first mini-batch begins) of
      a 784-256-128-10 trial of one batch; with the worker's first_batch_cpu (the
      process's CPU seconds by then) where the binary reports it; also for the
      new binary with MLP_EAGER_REFERENCE=1 ("new, eager": the old order);
  Private_Dirty (/proc/PID/smaps_rollup) of a 784-256-128-10 worker mid-epoch;
  share of evaluation: a 5-epoch 784-256-128-10 and 784-128-10 trial (batch 128):
      the training passes (the epochs' "seconds"), the per-epoch evaluations
      (validation + train_eval subsample, and the divergence reference),
      the final test pass, and start -> first batch, from the timing line;
  trivial trials through mlpd: a private daemon (2 worker slots) runs N xor
      trials (n 64, hidden [4], 1 epoch); wall trials/s, and trials per CPU
      second (mlpd's utime+stime plus its reaped workers' cutime+cstime), i.e.
      per core.

Prints one line per figure (median, min, max) and the load average before and after.
"""
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time


def usage():
    sys.stderr.write("usage: bench/startup.py NEW_BUILD [BASE_BUILD] [--runs N] [--trials N] "
                     "[--no-share]\n")
    sys.exit(2)


args, runs, trials, share = [], 7, 100, True
argv = sys.argv[1:]
while argv:
    a = argv.pop(0)
    if a in ("--runs", "--trials") and argv:
        v = int(argv.pop(0))
        if a == "--runs":
            runs = v
        else:
            trials = v
    elif a == "--no-share":
        share = False
    elif a.startswith("-"):
        usage()
    else:
        args.append(a)
if not 1 <= len(args) <= 2:
    usage()
builds = [("new", os.path.abspath(args[0]))]
if len(args) == 2:
    builds.append(("base", os.path.abspath(args[1])))
for _, b in builds:
    for exe in ("worker/mlp-worker", "daemon/mlpd", "cli/mlpctl"):
        if not os.access(os.path.join(b, exe), os.X_OK):
            sys.exit(f"bench/startup.py: {b}/{exe} is missing (build it first)")

env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MLP_WORKER_TIMING="1")
env.pop("MLP_NO_DATA_CACHE", None)
env.pop("MLP_EAGER_REFERENCE", None)
d = tempfile.mkdtemp(prefix="mlp-startup.")


def spec(params, name="s.json"):
    p = os.path.join(d, name)
    with open(p, "w") as f:
        json.dump({"dataset": "fashion-mnist", "seed": 1, "params": params}, f)
    return p


def worker(b):
    return os.path.join(b, "worker/mlp-worker")


def first_batch(b, eager=False):
    """(wall ms spawn -> first batch, CPU ms by then or None)"""
    s = spec({"hidden": [256, 128], "iterations": 1, "batch_size": 128})
    e = dict(env, MLP_EAGER_REFERENCE="1") if eager else env
    t0 = time.monotonic()
    r = subprocess.run([worker(b), "--spec", s], env=e, capture_output=True, text=True)
    m = re.search(r"first_batch ([0-9.]+)", r.stderr)
    if r.returncode != 0 or not m:
        sys.exit(f"bench/startup.py: {worker(b)} failed ({r.returncode}): {r.stderr[-400:]}")
    c = re.search(r"first_batch_cpu ([0-9.]+)", r.stderr)
    return (float(m.group(1)) - t0) * 1000, float(c.group(1)) * 1000 if c else None


def dirty(b):
    s = spec({"hidden": [256, 128], "epochs": 2, "batch_size": 128}, "d.json")
    p = subprocess.Popen([worker(b), "--spec", s], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    p.stdout.readline()  # the first epoch line: data loaded, training under way
    with open(f"/proc/{p.pid}/smaps_rollup") as f:
        v = int(re.search(r"Private_Dirty:\s+(\d+)", f.read()).group(1))
    p.kill()
    p.wait()
    return v / 1024


def eval_share(b, hidden):
    """{train, eval, ref, test, startup, total} seconds of a 5-epoch trial."""
    s = spec({"hidden": hidden, "epochs": 5, "batch_size": 128, "lr": 0.1}, "e.json")
    r = subprocess.run([worker(b), "--spec", s], env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"bench/startup.py: {worker(b)} failed ({r.returncode}): {r.stderr[-400:]}")
    train = sum(json.loads(l)["seconds"] for l in r.stdout.splitlines()
                if '"event":"epoch"' in l)
    t = dict(re.findall(r"(\w+) ([0-9.]+)", r.stderr.rsplit("timing:", 1)[1]))
    return {"train": train, "eval": float(t["eval_seconds"]),
            "ref": float(t.get("ref_seconds", "nan")), "test": float(t["test_seconds"]),
            "startup": float(t["first_batch"]) - float(t["start"]), "total": float(t["total"])}


def proc_cpu(pid):
    """utime + stime + cutime + cstime of pid, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def xor_trials(name, b, rep):
    """(trials/s wall, trials per CPU second) of `trials` xor trials through mlpd."""
    home = os.path.join(d, f"mlpd-{name}-{rep}")
    os.makedirs(home)
    sock = os.path.join(home, "mlpd.sock")
    e = dict(env, MLPD_HOME=home)
    e.pop("MLP_WORKER_TIMING")
    log = open(os.path.join(home, "out.log"), "w")
    dm = subprocess.Popen([os.path.join(b, "daemon/mlpd"), "--foreground", "--workers", "2",
                           "--threads", "1", "--worker", worker(b)], env=e, stdout=log,
                          stderr=subprocess.STDOUT)

    def ctl(*a):
        return subprocess.run([os.path.join(b, "cli/mlpctl"), "--socket", sock, *a], env=e,
                              capture_output=True, text=True)
    try:
        for _ in range(200):
            if ctl("status").returncode == 0:
                break
            time.sleep(0.05)
        else:
            sys.exit(f"bench/startup.py: mlpd of {b} did not come up")
        g = os.path.join(home, "xor.json")
        with open(g, "w") as f:
            json.dump({"name": "xor", "dataset": {"name": "xor", "n": 64}, "seeds": 1,
                       "base": {"hidden": [4], "epochs": 1},
                       "grid": {"lr": [round(0.001 * (i + 1), 6) for i in range(trials)]}}, f)
        c0 = proc_cpu(dm.pid)
        t0 = time.monotonic()
        r = ctl("submit", g)
        if r.returncode != 0:
            sys.exit(f"bench/startup.py: submit failed: {r.stderr}")
        r = ctl("wait", "xor")
        wall = time.monotonic() - t0
        cpu = proc_cpu(dm.pid) - c0
        st = json.loads(ctl("--json", "status").stdout)
        done = st.get("trials", {}).get("done")
        if done != trials:
            sys.exit(f"bench/startup.py: {done} of {trials} trials done ({b})")
        return trials / wall, trials / cpu
    finally:
        ctl("shutdown", "--now")
        try:
            dm.wait(timeout=10)
        except subprocess.TimeoutExpired:
            dm.send_signal(signal.SIGKILL)
            dm.wait()
        log.close()


def order(i):
    """new, base, base, new, ...: neither always goes first."""
    return builds if i % 2 == 0 else builds[::-1]


def stats(v, fmt="{:.1f}"):
    v = sorted(v)
    return (f"median {fmt.format(statistics.median(v))} (min {fmt.format(v[0])}, "
            f"max {fmt.format(v[-1])}, n {len(v)})")


try:
    print(f"load average before: {open('/proc/loadavg').read().split()[:3]}")
    for _, b in builds:
        first_batch(b)  # warm the cache (and the page cache) once
    # "new, eager": the new binary with MLP_EAGER_REFERENCE=1, the old order
    # (train_eval rows and the whole divergence reference before the first batch)
    variants = builds[:1] + [("new, eager", builds[0][1])] + builds[1:]
    fb = {n: [] for n, _ in variants}
    cpu = {n: [] for n, _ in variants}
    for i in range(runs):
        for n, b in (variants if i % 2 == 0 else variants[::-1]):
            w, c = first_batch(b, n == "new, eager")
            fb[n].append(w)
            if c is not None:
                cpu[n].append(c)
    for n, b in variants:
        line = f"spawn -> first batch ({n}, {b}): wall ms {stats(fb[n])}"
        if cpu[n]:
            line += f"; CPU ms by the first batch {stats(cpu[n])}"
        print(line)
    mem = {n: [] for n, _ in builds}
    for i in range(3):
        for n, b in order(i):
            mem[n].append(dirty(b))
    for n, _ in builds:
        print(f"Private_Dirty 784-256-128-10 worker ({n}): MB {stats(mem[n])}")
    for hidden in ([256, 128], [128]) if share else ():
        sh = {n: [] for n, _ in builds}
        for i in range(2):
            for n, b in order(i):
                sh[n].append(eval_share(b, hidden))
        for n, _ in builds:
            m = {k: statistics.median(x[k] for x in sh[n]) for k in sh[n][0]}
            ep = m["train"] / 5 + m["eval"] / 5
            print(f"784-{'-'.join(map(str, hidden))}-10, 5 epochs ({n}, medians of "
                  f"{len(sh[n])}): training passes {m['train']:.2f} s, per-epoch evaluations "
                  f"{m['eval']:.2f} s (divergence reference {m['ref']:.3f} s) = "
                  f"{100 * m['eval'] / 5 / ep:.1f} % of an epoch, final test pass "
                  f"{m['test']:.2f} s, start -> first batch {m['startup'] * 1000:.0f} ms, "
                  f"whole trial {m['total']:.2f} s")
    tps = {n: [] for n, _ in builds}
    tpc = {n: [] for n, _ in builds}
    for i in range(3):
        for n, b in order(i):
            w, c = xor_trials(n, b, i)
            tps[n].append(w)
            tpc[n].append(c)
    for n, _ in builds:
        print(f"{trials} xor trials through mlpd, 2 slots ({n}): trials/s wall {stats(tps[n])}; "
              f"trials per CPU second {stats(tpc[n])}")
    print(f"load average after: {open('/proc/loadavg').read().split()[:3]}")
finally:
    shutil.rmtree(d, ignore_errors=True)
