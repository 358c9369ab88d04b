#!/usr/bin/env python3
"""bench/slurm.py — the Slurm executor's throughput and per-trial overhead vs local.

    bench/slurm.py [N]        (N trivial trials, default 200)

Starts a private single-node Slurm with tests/slurm/cluster.sh (2 CPUs), then:
  (a) bare Slurm: `sbatch --array=0-(N-1) --wrap true`, submit to last task
      ended (squeue polled every 0.1 s): the cluster's own array throughput;
  (b) the same sweep of N trivial trials (xor n 64, hidden [4], 1 epoch) run
      by mlpd locally (workers 2) and through Slurm (slurm_poll 0.2,
      slurm_array_limit 100, 2 CPUs): submit to sweep done, trials/s, and the
      per-trial overhead = wall x slots / N - the worker's own time run alone.
Prints a Markdown table for bench/RESULTS.md.  Binaries from $BENCH_BUILD or build/.
"""
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BENCH_BUILD") or os.path.join(ROOT, "build")
os.environ["MLPD"] = os.path.join(BUILD, "daemon", "mlpd")
os.environ["MLP_WORKER"] = os.path.join(BUILD, "worker", "mlp-worker")
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200
CLUSTER = os.path.join(ROOT, "tests", "slurm", "cluster.sh")
CDIR = tempfile.mkdtemp(prefix="mlp-slurm-bench-")
if subprocess.call([CLUSTER, "start", CDIR, "2"], stdout=subprocess.DEVNULL) != 0:
    sys.exit("bench/slurm.py: the cluster did not start")
os.environ["SLURM_CONF"] = os.path.join(CDIR, "slurm.conf")


def grid(name, executor):
    return {"name": name, "dataset": {"name": "xor", "n": 64}, "seeds": N,
            "base": {"epochs": 1, "hidden": [4]}, "executor": executor}


def worker_alone(reps=20):
    spec = ('{"dataset":{"name":"xor","n":64},"seed":1,"params":{"epochs":1,"hidden":[4]}}\n')
    t0 = time.time()
    for _ in range(reps):
        subprocess.run([os.environ["MLP_WORKER"]], input=spec, text=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    return (time.time() - t0) / reps


def bare_array():
    t0 = time.time()
    job = subprocess.check_output(["sbatch", "--parsable", "--array=0-%d" % (N - 1),
                                   "-o", "/dev/null", "--wrap", "true"], text=True).strip()
    while True:
        out = subprocess.check_output(["squeue", "-h", "-j", job, "-t", "PD,R,CG", "-o", "%i"],
                                      text=True)
        if not out.strip():
            return time.time() - t0
        time.sleep(0.1)


def sweep(executor):
    d = harness.Daemon(workers=2, extra=["--slurm-poll", "0.2", "--slurm-array-limit", "100"])
    d.start()
    t0 = time.time()
    sid = d.submit(grid("b-" + executor, executor))
    w = d.wait_sweep(sid, timeout=3600)
    wall = time.time() - t0
    assert w["done"] == N, w
    d.stop()
    d.remove()
    return wall


try:
    alone = worker_alone()
    bare = bare_array()
    loc = sweep("local")
    slu = sweep("slurm")
finally:
    subprocess.call([CLUSTER, "stop", CDIR])
    subprocess.call(["rm", "-rf", CDIR])

print("N = %d trivial trials, 2 slots (2 CPUs), worker alone %.1f ms\n" % (N, alone * 1e3))
print("| run | wall (s) | tasks/s | overhead per trial (ms, x2 slots, minus worker) |")
print("|---|---:|---:|---:|")
print("| bare Slurm array (`--wrap true`) | %.2f | %.1f | — |" % (bare, N / bare))
for name, wall in (("mlpd local (workers 2)", loc), ("mlpd slurm (poll 0.2 s)", slu)):
    print("| %s | %.2f | %.1f | %.1f |" % (name, wall, N / wall, (wall * 2 / N - alone) * 1e3))
