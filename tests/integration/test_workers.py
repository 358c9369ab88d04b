#!/usr/bin/env python3
"""Limits for local workers, through the real daemon (issue 19):
- a hidden width of 2147483647 is refused at submit, naming the place;
- worker_memory: a network that does not fit fails after one attempt with
  "out of memory (worker_memory 256M)", the rest of the sweep finishes;
- stall_seconds: a worker stopped with SIGSTOP is killed and its trial re-queued
  (the attempt counted), the sweep completes; a trial whose one epoch lasts
  longer than stall_seconds lives on thanks to its heartbeats."""
import os
import signal

from harness import BRIEF, Daemon, check, done

SANITIZED = os.environ.get("MLP_TEST_SANITIZED") == "1"
STALL = 3

with Daemon(workers=2, extra=["--worker-memory", "256M", "--stall-seconds", str(STALL)]) as d:
    d.start()

    # Widths are bounded at submit (HP_MAX_WIDTH), with the place named.
    r = d.call({"op": "submit", "base_dir": d.home,
                "grid": {"name": "wide", "dataset": {"name": "xor", "n": 200},
                         "grid": {"hidden": [[8], [2147483647]]}}})
    err = r.get("error", {})
    print("refusal:", err)
    check(not r["ok"] and err.get("code") == "invalid_grid" and "hidden" in err.get("path", "") +
          err.get("message", "") and "65536" in err.get("message", ""),
          "a hidden width of 2147483647 is refused at submit", r)

    # worker_memory: [9000, 9000] is 81M weights (under max_params) but over 256M of memory.
    if SANITIZED:
        print("note: worker_memory part skipped under sanitizers (ASan's allocator dies on a "
              "refused mmap instead of returning NULL)")
    else:
        sid = d.submit({"name": "mem", "dataset": {"name": "xor", "n": 200}, "seeds": 2,
                        "base": {"epochs": 2}, "grid": {"hidden": [[8], [9000, 9000]]}})
        s = d.wait_sweep(sid, timeout=120)
        rows = d.sql("SELECT c.params_json, t.state, t.attempts, t.error FROM trials t JOIN "
                     "configs c ON c.sweep_id = t.sweep_id AND c.idx = t.config_idx "
                     "WHERE t.sweep_id = ?", (sid,))
        big = [r for r in rows if "9000" in r[0]]
        small = [r for r in rows if "9000" not in r[0]]
        check(len(big) == 2 and all(r[1] == "failed" and r[2] == 1 for r in big),
              "the network too big for worker_memory fails after one attempt", big)
        check(all(r[3] and r[3].startswith("out of memory (worker_memory 256M)") for r in big),
              "its error says out of memory and the limit", [r[3] for r in big])
        check(len(small) == 2 and all(r[1] == "done" for r in small),
              "the small network of the same sweep is done", small)
        check(s["done"] == 2 and s["failed"] == 2, "the sweep ends with 2 done, 2 failed", s)

    # stall_seconds: SIGSTOP a running worker; mlpd kills it and runs the trial again.
    # BRIEF epochs: CI's fast machine could end a 150-epoch trial between the poll and
    # the SIGSTOP (then no second attempt ever came).
    sid = d.submit({"name": "stall", "dataset": {"name": "spirals", "n": 4000}, "seeds": 1,
                    "base": {"epochs": BRIEF, "hidden": [64, 64], "batch_size": 32},
                    "grid": {"lr": [0.05]}})
    tid, pid = d.until(lambda: d.sql("SELECT id, pid FROM trials WHERE sweep_id = ? AND "
                                     "state = 'running' AND pid IS NOT NULL", (sid,)) and
                       d.sql("SELECT id, pid FROM trials WHERE sweep_id = ?", (sid,))[0],
                       timeout=30, what="the trial's worker")
    os.kill(pid, signal.SIGSTOP)
    d.until(lambda: d.sql("SELECT attempts FROM trials WHERE id = ?", (tid,))[0][0] >= 2,
            timeout=30, what="the stopped worker to be replaced")
    gone = False
    try:
        with open("/proc/%d/stat" % pid) as f:
            gone = f.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        gone = True
    check(gone, "the stopped worker was killed")
    s = d.wait_sweep(sid, timeout=120)
    st, attempts = d.sql("SELECT state, attempts FROM trials WHERE id = ?", (tid,))[0]
    check(s["state"] == "done" and st == "done" and attempts == 2,
          "the stalled trial was re-queued (attempt counted) and finished", (s, st, attempts))
    check("(stall_seconds); sending SIGKILL" in d.log() and "stalled: no output" in d.log(),
          "mlpd logged the stall")

    # A slow trial: one evaluation interval of many big batches, longer than stall_seconds,
    # stays alive on its heartbeats.
    sid = d.submit({"name": "slow", "dataset": {"name": "spirals", "n": 4000}, "seeds": 1,
                    "base": {"hidden": [1024, 1024], "batch_size": 512,
                             "iterations": 120 if not SANITIZED else 20,
                             "eval_every": 120 if not SANITIZED else 20},
                    "grid": {"lr": [0.01]}})
    s = d.wait_sweep(sid, timeout=180)
    st, attempts, tid = d.sql("SELECT state, attempts, id FROM trials WHERE sweep_id = ?", (sid,))[0]
    secs = d.sql("SELECT max(seconds) FROM epochs WHERE trial_id = ?", (tid,))[0][0]
    check(st == "done" and attempts == 1, "a slow trial is not taken for a stalled one",
          (st, attempts, secs))
    if secs is not None and secs < STALL:
        print("note: its interval took %.1f s, less than stall_seconds on this machine" % secs)
    check(d.proc.poll() is None, "mlpd kept running")
done()
