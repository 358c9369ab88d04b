#!/usr/bin/env python3
"""A worker killed by the kernel's OOM killer fails at once, out of memory (SPEC.md).

As root, the test makes a child memory cgroup of its own (cgroup v1:
memory.limit_in_bytes 300M; v2: memory.max) and starts mlpd inside it (its
preexec writes its pid to cgroup.procs), with worker_memory out of the way
(1024G) and max_attempts 3.  A trial whose network cannot fit in 300 MB
(hidden [9000, 9000]: 81M weights) is killed by the kernel (SIGKILL from the
OOM killer, not from mlpd): it must end `failed` after one attempt with
"out of memory (killed by the kernel's OOM killer)", never re-queued; the
cgroup's oom_kill counter shows the kill was the kernel's; mlpd itself
survived (the worker is the OOM killer's pick: mlpd raises its oom_score_adj
to 500), answers `mlpctl status` and runs a small trial to the end.

Then the other side, in the same cgroup (its counter no longer 0): a stand-in
worker that prints its oom_score_adj and SIGKILLs itself is a crash as before,
retried up to max_attempts ("killed by signal 9"); its log shows the 500 mlpd
gave it.

Skipped (77) when a memory cgroup cannot be made here: not root, no memory
controller, a read-only cgroup file system, or a kernel without the oom_kill
counter (before 4.13).  The cgroup is removed at the end."""
import os
import sys
import time

from harness import SLOW, Daemon, check, ctl_out, done, tiny_grid

MESSAGE = "out of memory (killed by the kernel's OOM killer)"
LIMIT = 300 << 20


def skip(why):
    print("skipped: " + why)
    sys.exit(77)


def unescape(s):
    """mountinfo's octal escapes (\\040 for a blank)."""
    out, i = "", 0
    while i < len(s):
        if s[i] == "\\" and i + 3 < len(s) and s[i + 1:i + 4].isdigit():
            out += chr(int(s[i + 1:i + 4], 8))
            i += 4
        else:
            out += s[i]
            i += 1
    return out


def my_memcg():
    """("v1" | "v2", directory of this process's memory cgroup), or None."""
    with open("/proc/self/cgroup") as f:
        lines = [ln.split(":", 2) for ln in f.read().splitlines()]
    with open("/proc/self/mountinfo") as f:
        mounts = f.read().splitlines()
    v1 = [p for i, c, p in lines if "memory" in c.split(",")]
    v2 = [p for i, c, p in lines if i == "0" and c == ""]
    for kind, path in (("v1", v1[0] if v1 else None), ("v2", v2[0] if v2 and not v1 else None)):
        if path is None:
            continue
        for m in mounts:
            left, _, right = m.partition(" - ")
            f, r = left.split(), right.split()
            if len(f) < 5 or len(r) < 3:
                continue
            if kind == "v1" and not (r[0] == "cgroup" and "memory" in r[2].split(",")):
                continue
            if kind == "v2" and r[0] != "cgroup2":
                continue
            root, point = unescape(f[3]), unescape(f[4])
            if root == "/":
                return kind, point.rstrip("/") + path
            if path == root or path.startswith(root + "/"):
                return kind, point.rstrip("/") + path[len(root):]
    return None


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def make_cgroup():
    """(kind, dir) of a new child memory cgroup limited to LIMIT; skips if impossible."""
    if os.geteuid() != 0:
        skip("not root: cannot create a memory cgroup")
    found = my_memcg()
    if not found:
        skip("no memory cgroup controller mounted")
    kind, parent = found
    cg = os.path.join(parent, "mlp-oomtest-%d" % os.getpid())
    try:
        os.mkdir(cg)
    except OSError as e:
        skip("cannot create %s: %s" % (cg, e))
    try:
        if kind == "v1":
            write(os.path.join(cg, "memory.limit_in_bytes"), str(LIMIT))
            counter = os.path.join(cg, "memory.oom_control")
        else:
            if not os.path.exists(os.path.join(cg, "memory.max")):
                write(os.path.join(parent, "cgroup.subtree_control"), "+memory")
            write(os.path.join(cg, "memory.max"), str(LIMIT))
            counter = os.path.join(cg, "memory.events")
        for f, v in (("memory.memsw.limit_in_bytes", LIMIT), ("memory.swap.max", 0)):
            try:  # no swapping instead of an OOM kill (where swap is on)
                write(os.path.join(cg, f), str(v))
            except OSError:
                pass
        if oom_kills(counter) is None:
            raise OSError("no oom_kill line in %s (kernel before 4.13?)" % counter)
    except OSError as e:
        remove_cgroup(cg, parent)
        skip("cannot set up the memory cgroup %s: %s" % (cg, e))
    return kind, cg, parent, counter


def oom_kills(counter):
    with open(counter) as f:
        for ln in f.read().splitlines():
            if ln.startswith("oom_kill "):
                return int(ln.split()[1])
    return None


def remove_cgroup(cg, parent):
    """Move whatever is left to the parent, then remove the cgroup."""
    try:
        with open(os.path.join(cg, "cgroup.procs")) as f:
            for pid in f.read().split():
                try:
                    write(os.path.join(parent, "cgroup.procs"), pid)
                except OSError:
                    pass
    except OSError:
        pass
    for _ in range(100):
        try:
            os.rmdir(cg)
            return True
        except FileNotFoundError:
            return True
        except OSError:
            time.sleep(0.1)
    print("could not remove %s" % cg)
    return False


def trials(d, sid):
    return d.sql("SELECT id, state, attempts, error FROM trials WHERE sweep_id = ? ORDER BY id",
                 (sid,))


def settled(d, sid, timeout):
    try:
        d.until(lambda: not d.sql("SELECT 1 FROM trials WHERE sweep_id = ? AND state IN "
                                  "('queued', 'running')", (sid,)),
                timeout=timeout, what="the sweep's end")
        return True
    except AssertionError:
        return False


STANDIN = """#!%s
import json, os, signal, sys
spec = json.loads(sys.stdin.read())
with open("/proc/self/oom_score_adj") as f:
    sys.stderr.write("oom_score_adj %%s\\n" %% f.read().strip())
sys.stderr.flush()
os.kill(os.getpid(), signal.SIGKILL)
""" % sys.executable


def in_cgroup(cg):
    procs = os.path.join(cg, "cgroup.procs")
    return lambda: write(procs, str(os.getpid()))


kind, cg, parent, counter = make_cgroup()
print("memory cgroup (%s): %s, limit %d MB, oom_kill %s" % (kind, cg, LIMIT >> 20, oom_kills(counter)))
try:
    opts = ["--worker-memory", "1024G", "--max-attempts", "3"]
    with Daemon(workers=2, extra=opts) as d:
        d.preexec = in_cgroup(cg)
        d.start()
        with open(os.path.join(cg, "cgroup.procs")) as f:
            check(str(d.proc.pid) in f.read().split(), "mlpd runs in the test's memory cgroup")
        before = oom_kills(counter)
        sid = d.submit({"name": "oomkill", "dataset": {"name": "xor", "n": 200}, "seeds": 1,
                        "base": {"epochs": 2}, "grid": {"hidden": [[9000, 9000]]}})
        ended = settled(d, sid, 120)
        rows = trials(d, sid)
        print(rows)
        check(ended and len(rows) == 1, "the trial that cannot fit ends", rows)
        check(oom_kills(counter) > before, "the kernel's OOM killer struck in the cgroup",
              (before, oom_kills(counter)))
        r = rows[0] if rows else (None, None, None, None)
        check(r[1] == "failed" and r[2] == 1, "it failed after one attempt (none retried)", r)
        check(r[3] == MESSAGE, "its error is \"%s\"" % MESSAGE, r[3])
        check(d.proc.poll() is None, "mlpd survived (the worker was the OOM killer's pick)")
        try:
            st = ctl_out(d, "status")
        except AssertionError as e:
            st = str(e)
        check("failed" in st and "1" in st, "mlpctl status answers", st[-400:])
        log = d.log()
        check("re-queued" not in log, "mlpd re-queued nothing",
              [x for x in log.splitlines() if "re-queued" in x][:3])
        check(("trial %d failed: %s" % (r[0], MESSAGE)) in log,
              "mlpd logs the trial failed, killed by the OOM killer",
              [x for x in log.splitlines() if "OOM" in x][:3])
        small = d.submit(tiny_grid("after", seeds=1, lrs=(0.1,)))
        sw = d.wait_sweep(small, timeout=120 * SLOW)
        check(sw.get("state") == "done", "a small trial still runs to the end", sw.get("state"))
        check(d.stop() == 0, "mlpd exits cleanly")

    # A SIGKILL that is not the OOM killer's is a crash, retried.
    with Daemon(workers=1, extra=opts) as d:
        path = os.path.join(d.home, "standin-worker")
        write(path, STANDIN)
        os.chmod(path, 0o700)
        d.extra += ["--worker", path]
        d.preexec = in_cgroup(cg)
        d.start()
        before = oom_kills(counter)
        sid = d.submit(tiny_grid("selfkill", seeds=1, lrs=(0.1,)))
        ended = settled(d, sid, 120)
        rows = trials(d, sid)
        print(rows)
        r = rows[0] if rows else (None, None, None, None)
        check(ended and r[1] == "failed" and r[2] == 3 and "killed by signal 9" in (r[3] or "")
              and "out of memory" not in (r[3] or ""),
              "a worker killed by a SIGKILL not the OOM killer's is a crash, retried up to "
              "max_attempts", r)
        check(oom_kills(counter) == before, "no OOM kill meanwhile", (before, oom_kills(counter)))
        try:
            with open(os.path.join(d.home, "logs", "%d.log" % r[0])) as f:
                wlog = f.read()
        except (OSError, TypeError) as e:
            wlog = str(e)
        adj = [int(x.split()[1]) for x in wlog.splitlines() if x.startswith("oom_score_adj ")]
        check(len(adj) == 3 and all(a >= 500 for a in adj),
              "each attempt's worker ran with oom_score_adj 500 (or mlpd's own if higher)",
              wlog[-300:])
        check(d.stop() == 0, "mlpd exits cleanly")
finally:
    check(remove_cgroup(cg, parent), "the test's cgroup is removed")
done()
