#!/usr/bin/env python3
"""startup.py NEW_WORKER [OLD_WORKER] — issue 17's start-up figures on the full
Fashion-MNIST training split, warm cache, one BLAS thread:
  spawn -> first batch: time.monotonic() before Popen to the worker's first_batch
  (MLP_WORKER_TIMING=1, CLOCK_MONOTONIC, the moment the first mini-batch begins);
  Private_Dirty (/proc/PID/smaps_rollup) of a 784-256-128-10 worker mid-epoch,
  for NEW and, when given, OLD (a build of the code before the cache)."""
import os, re, subprocess, sys, tempfile, time, json
new = sys.argv[1]; old = sys.argv[2] if len(sys.argv) > 2 else None
env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MLP_WORKER_TIMING="1")
d = tempfile.mkdtemp()
def spec(params):
    p = os.path.join(d, "s.json")
    json.dump({"dataset": "fashion-mnist", "seed": 1, "params": params}, open(p, "w")); return p
def first_batch(w):
    s = spec({"hidden": [256, 128], "iterations": 1, "batch_size": 128})
    t0 = time.monotonic()
    r = subprocess.run([w, "--spec", s], env=env, capture_output=True, text=True)
    m = re.search(r"first_batch ([0-9.]+)", r.stderr)
    return (float(m.group(1)) - t0) * 1000
def dirty(w):
    s = spec({"hidden": [256, 128], "epochs": 2, "batch_size": 128})
    p = subprocess.Popen([w, "--spec", s], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    p.stdout.readline()  # the first epoch line: data loaded, training under way
    v = int(re.search(r"Private_Dirty:\s+(\d+)", open(f"/proc/{p.pid}/smaps_rollup").read()).group(1))
    p.kill(); p.wait(); return v / 1024
first_batch(new)  # warm the cache
fb = sorted(first_batch(new) for _ in range(7))
print(f"spawn -> first batch (new, warm cache), 7 runs: median {fb[3]:.1f} ms, min {fb[0]:.1f}, max {fb[-1]:.1f}")
print(f"Private_Dirty 784-256-128-10 worker: new {dirty(new):.1f} MB" + (f", old {dirty(old):.1f} MB" if old else ""))
