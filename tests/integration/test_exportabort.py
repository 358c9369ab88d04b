#!/usr/bin/env python3
"""Aborted and stalled exports free everything in mlpd (PROTOCOL.md, "Streamed answers").

A sweep of 1,000 trials that failed with a 4 KiB error each, with five epoch
rows each (bigsweep.py), makes `results --trials` an answer of five 1 MiB
lines and `--curves` (one export in 25) of two.  1000 exports are then
abandoned in four ways: the connection closed right after the request; closed
once the first bytes of the answer came; closed in the middle of the second
line; and stalled readers (20 connections at once that read nothing, so mlpd
stops at its 2 MiB of unsent output with the cursor open) closed together.
mlpd's resident memory (VmRSS) is read after one export, after the first 100
abandoned ones (allocator warmed up) and at the end: it must not grow from
100 to the end by more than 16 MiB (a cursor, statement or chunk leaked per
export, 1 MiB or more, would add 900 MiB), and once idle it must be back
within 16 MiB of its size after one export (mlpd gives freed memory back when
the last query ends; without that it stayed at ~90 MiB, the largest burst of
stalled readers).  mlpd must still answer, finish a full export, and exit
cleanly.  MLP_TEST_SANITIZED=1 runs 150 exports and relies on the leak
report at exit instead of RSS (ASan keeps freed memory in quarantine).
MLP_TEST_ABORTS=N changes the count (for experiments)."""
import json
import os
import socket
import time

from harness import Daemon, check, done
import bigsweep

SANITIZED = os.environ.get("MLP_TEST_SANITIZED") == "1"
TOTAL = int(os.environ.get("MLP_TEST_ABORTS", 150 if SANITIZED else 1000))
WARM = 50 if SANITIZED else 100
STALLED = 20
GROWTH_KIB = 16 * 1024


def cpu_s(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def request(sock, req):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(60)
    s.connect(sock)
    s.sendall((json.dumps(req) + "\n").encode())
    return s


def abort_one(sock, req, how):
    """One abandoned export: 0 closed at once, 1 after the first bytes, 2 mid-stream."""
    s = request(sock, req)
    try:
        if how >= 1:
            got = s.recv(65536)
            if not got:
                raise AssertionError("mlpd closed before answering")
        if how == 2:
            want, n = 1536 << 10, len(got)  # into the second line
            while n < want:
                b = s.recv(65536)
                if not b:
                    break
                n += len(b)
    finally:
        s.close()


def stalled(sock, reqs):
    """STALLED connections that send their request and read nothing, closed together."""
    conns = [request(sock, reqs[i % len(reqs)]) for i in range(STALLED)]
    # Wait until mlpd has begun answering every one (its bytes wait in our socket buffers).
    for s in conns:
        s.setblocking(True)
        s.recv(1, socket.MSG_PEEK)
    time.sleep(0.2)
    for s in conns:
        s.close()
    return len(conns)


with Daemon(workers=1) as d:
    d.start()
    # Failed trials with a 4 KiB error each: 1 MiB lines of few rows, cheap to produce.
    err = ("Traceback: " + "worker stopped: out of memory in layer 3; " * 100)[:4096]
    sid, n = bigsweep.build(d, 1000, name="abort", epochs=5, error=err)
    reqs = [{"op": "results", "sweep": sid, "trials": True}] * 24 + [
        {"op": "results", "sweep": sid, "curves": True}]
    lines = 0
    s = request(d.sock, reqs[0])
    f = s.makefile("rb")
    while True:
        doc = json.loads(f.readline())
        lines += 1
        if not doc.get("more"):
            break
    s.close()
    check(lines >= 3, "an export of the sweep takes several lines", lines)

    pid = d.proc.pid
    first, cpu0 = rss_kib(pid), cpu_s(pid)
    done_n, rounds, base, t0 = 0, 0, None, time.time()
    while done_n < TOTAL:
        rounds += 1
        if rounds % 40 == 0 and done_n + STALLED <= TOTAL:  # 20 stalled exports at once
            done_n += stalled(d.sock, reqs)
        else:
            how = rounds % 3  # mid-stream only in the trials export, 4 MiB long
            abort_one(d.sock, reqs[0] if how == 2 else reqs[rounds % len(reqs)], how)
            done_n += 1
        if base is None and done_n >= WARM:
            d.ok({"op": "status"})
            time.sleep(0.5)
            base = rss_kib(pid)
    d.ok({"op": "status"})
    time.sleep(1)  # the pool's last chunks are freed once they come back to the loop
    end = rss_kib(pid)
    print("%d exports abandoned in %.1f s (mlpd CPU %.1f s); mlpd VmRSS %d KiB after one "
          "export, %d KiB after %d, %d KiB at the end"
          % (done_n, time.time() - t0, cpu_s(pid) - cpu0, first, base, WARM, end))
    if not SANITIZED:
        check(end - base <= GROWTH_KIB,
              "mlpd's RSS after %d abandoned exports stays within 16 MiB of its size after %d"
              % (done_n, WARM), (base, end))
        check(end - first <= GROWTH_KIB,
              "idle again, mlpd's RSS is within 16 MiB of its size after one export",
              (first, end))

    # Still serving: a whole export, every row.
    s = request(d.sock, reqs[0])
    f = s.makefile("rb")
    rows = 0
    while True:
        doc = json.loads(f.readline())
        rows += len(doc.get("rows", []))
        if not doc.get("more"):
            break
    s.close()
    check(rows == n, "a complete export after the aborted ones has every row", rows)
    check(d.stop() == 0, "mlpd exits cleanly")
    check("LeakSanitizer" not in d.log(), "no leak reported")
done()
