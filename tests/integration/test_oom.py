#!/usr/bin/env python3
"""Out of memory is a failure, not a crash to retry (SPEC.md, worker_memory).

mlpd runs with worker_memory 256M and max_attempts 3.  A sweep whose
configurations need more than that in different places (hidden [60000]: the
BLAS buffer of the first product, which the worker once waited for for ever
inside OpenBLAS; [6000, 6000]: the network) next to one that fits ([8]), and a sweep whose dataset does
not fit (spirals, 8,000,000 rows).  Checked through the real daemon and
workers, bounded in time: every trial that cannot fit ends `failed` after one
attempt (none re-queued, no retry burnt) with an error that starts "out of
memory (worker_memory 256M)"; the one that fits is done; mlpd's log says
failed, never re-queued.

The worker run by hand with MLPD_WORKER_MEMORY and no OPENBLAS_NUM_THREADS
(OpenBLAS then picks its thread count itself): hidden [60000] must end with
its nomem line, not wait inside OpenBLAS for a buffer it cannot get (its
warm-up product was too small to make OpenBLAS reserve the calling thread's
buffer before the limit applied).

How the worker ends after reporting nomem does not matter: mlpd runs a
stand-in worker (a script, as a real worker cannot be made to crash on
demand) that prints the nomem error line and then aborts, or hangs until
stall_seconds kills it: both trials fail after one attempt "out of memory"
(they were re-queued as crashes, burning every attempt); one that aborts
without a line is still a crash, retried up to max_attempts.

Skipped under sanitizers (ASan's allocator dies on a refused mmap instead of
returning NULL)."""
import json
import os
import subprocess
import sys

from harness import WORKER, Daemon, check, done

if os.environ.get("MLP_TEST_SANITIZED") == "1":
    print("skipped under sanitizers: ASan's allocator aborts on a refused mmap")
    sys.exit(77)

PREFIX = "out of memory (worker_memory 256M)"


def trials(d, sid):
    return d.sql("SELECT c.params_json, t.state, t.attempts, t.error FROM trials t JOIN configs c "
                 "ON c.sweep_id = t.sweep_id AND c.idx = t.config_idx WHERE t.sweep_id = ? "
                 "ORDER BY t.id", (sid,))


def settled(d, sid, timeout):
    """Wait (bounded) until no trial of the sweep is queued or running."""
    try:
        d.until(lambda: not d.sql("SELECT 1 FROM trials WHERE sweep_id = ? AND state IN "
                                  "('queued', 'running')", (sid,)),
                timeout=timeout, what="the sweep's end")
        return True
    except AssertionError:
        return False


with Daemon(workers=2, extra=["--worker-memory", "256M", "--max-attempts", "3"]) as d:
    d.start()
    sid = d.submit({"name": "oom", "dataset": {"name": "xor", "n": 200}, "seeds": 2,
                    "base": {"epochs": 2},
                    "grid": {"hidden": [[8], [60000], [6000, 6000]]}})
    ended = settled(d, sid, 120)
    check(ended, "the sweep ends (no worker waits for memory for ever)",
          trials(d, sid) if not ended else None)
    rows = trials(d, sid)
    big = [r for r in rows if '"hidden":[8]' not in r[0].replace(" ", "")]
    small = [r for r in rows if '"hidden":[8]' in r[0].replace(" ", "")]
    print("\n".join("%s %s %s %s" % (r[0][:60], r[1], r[2], r[3]) for r in big))
    check(len(big) == 4 and all(r[1] == "failed" for r in big),
          "every configuration that cannot fit ends failed", [(r[1], r[3]) for r in big])
    check(all(r[2] == 1 for r in big), "after one attempt each (no retry burnt)",
          [r[2] for r in big])
    check(all((r[3] or "").startswith(PREFIX) for r in big),
          "each error starts \"%s\"" % PREFIX, [r[3] for r in big])
    check(len(small) == 2 and all(r[1] == "done" and r[2] == 1 for r in small),
          "the configuration that fits is done", small)

    # A dataset that does not fit.
    sid2 = d.submit({"name": "oomdata", "dataset": {"name": "spirals", "n": 8000000}, "seeds": 1,
                     "base": {"epochs": 1, "hidden": [8]}, "grid": {"lr": [0.1]}})
    ended = settled(d, sid2, 300)
    rows = trials(d, sid2)
    check(ended and len(rows) == 1 and rows[0][1] == "failed" and rows[0][2] == 1
          and (rows[0][3] or "").startswith(PREFIX),
          "a dataset too large for worker_memory fails once, out of memory", rows)
    log = d.log()
    check("re-queued" not in log, "mlpd re-queued no trial",
          [x for x in log.splitlines() if "re-queued" in x][:3])
    check(log.count("failed: " + PREFIX) == 5, "mlpd logs each as failed, out of memory",
          log.count("failed: " + PREFIX))
    check(d.stop() == 0, "mlpd exits cleanly")

# The worker by hand: OpenBLAS's thread count its own, the memory limit applied.
env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
env["MLPD_WORKER_MEMORY"] = str(256 << 20)
spec = {"dataset": {"name": "xor", "n": 200}, "seed": 1, "params": {"epochs": 1, "hidden": [60000]}}

def by_hand():
    try:
        p = subprocess.run([WORKER], input=json.dumps(spec).encode(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env, timeout=60)
        return (p.returncode, p.stdout.decode().strip().splitlines()[-1:])
    except subprocess.TimeoutExpired:
        return ("no end in 60 s", [])


# Four runs: whether OpenBLAS's own thread had reserved its buffer when the limit was
# measured was a race (about one run in two waited for ever).
outs = []
for _ in range(4):
    outs.append(by_hand())
    if not (outs[-1][0] == 1 and outs[-1][1] and json.loads(outs[-1][1][0]).get("code") == "nomem"):
        break
check(len(outs) == 4, "the worker run by hand ends with nomem, 4 runs of 4, never waiting "
      "inside OpenBLAS", outs)

# A stand-in worker: nomem then abort (hidden 1), nomem then hang (2), abort alone (3).
STANDIN = """#!%s
import json, os, sys, time
spec = json.loads(sys.stdin.read())
how = spec["params"]["hidden"][0]
if how in (1, 2):
    print(json.dumps({"event": "error", "code": "nomem",
                      "message": "out of memory allocating the network"}), flush=True)
if how == 2:
    time.sleep(600)
os.abort()
""" % sys.executable
with Daemon(workers=2, extra=["--worker-memory", "256M", "--max-attempts", "3",
                              "--stall-seconds", "2"]) as d:
    path = os.path.join(d.home, "standin-worker")
    with open(path, "w") as f:
        f.write(STANDIN)
    os.chmod(path, 0o700)
    d.extra += ["--worker", path]
    d.start()
    sid = d.submit({"name": "standin", "dataset": {"name": "xor", "n": 200}, "seeds": 1,
                    "base": {"epochs": 1}, "grid": {"hidden": [[1], [2], [3]]}})
    ended = settled(d, sid, 120)
    rows = {json.loads(r[0])["hidden"][0]: r[1:] for r in trials(d, sid)}
    print(rows)
    for how, what in ((1, "then aborts"), (2, "then hangs")):
        r = rows.get(how, (None, None, None))
        check(ended and r[0] == "failed" and r[1] == 1 and (r[2] or "").startswith(PREFIX),
              "a worker that reports nomem %s: failed after one attempt, out of memory" % what,
              r)
    r = rows.get(3, (None, None, None))
    check(ended and r[0] == "failed" and r[1] == 3 and "signal 6" in (r[2] or ""),
          "a worker that aborts without a line is a crash, retried up to max_attempts", r)
    check(d.stop() == 0, "mlpd exits cleanly")
done()
