#!/usr/bin/env python3
"""status latency with N watchers (issue 19): a private mlpd runs a sweep of
short xor trials (so watch events flow) while N connections watch every sweep;
one client times `status` requests.  Prints p50/p99/max in ms and the daemon's
peak RSS (VmHWM).

    python3 bench/watchers.py [N=1000] [REQUESTS=300]   (MLPD, MLP_WORKER or build/)
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MLPD = os.environ.get("MLPD") or os.path.join(HERE, "../build/daemon/mlpd")
WORKER = os.environ.get("MLP_WORKER") or os.path.join(HERE, "../build/worker/mlp-worker")
N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
REQ = int(sys.argv[2]) if len(sys.argv) > 2 else 300

home = tempfile.mkdtemp(prefix="mlpd-bench-")
sock = os.path.join(home, "mlpd.sock")
p = subprocess.Popen([MLPD, "--foreground", "--state_dir", home, "--workers", "2",
                      "--worker", WORKER, "--max_clients", str(N + 50)],
                     stdout=subprocess.DEVNULL, stderr=open(os.path.join(home, "err"), "w"))


def conn():
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    return s


def call(s, req):
    s.sendall((json.dumps(req) + "\n").encode())
    buf = b""
    while not buf.endswith(b"\n"):
        buf += s.recv(1 << 20)
    return json.loads(buf.split(b"\n")[0])


try:
    for _ in range(200):
        try:
            call(conn(), {"op": "status"})
            break
        except OSError:
            time.sleep(0.05)
    c = conn()
    grid = {"name": "w", "dataset": {"name": "xor", "n": 64}, "seeds": 2000,
            "base": {"hidden": [4], "epochs": 3}}
    call(c, {"op": "submit", "grid": grid})
    watchers = []
    for _ in range(N):
        w = conn()
        w.setblocking(False)
        w.sendall(b'{"op":"watch"}\n')
        watchers.append(w)
    time.sleep(1)
    lat = []
    for i in range(REQ):
        for w in watchers:  # keep the watchers drained, as live clients would
            try:
                while w.recv(1 << 16):
                    pass
            except BlockingIOError:
                pass
        t0 = time.perf_counter()
        call(c, {"op": "status"})
        lat.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.01)
    lat.sort()
    hwm = [l for l in open("/proc/%d/status" % p.pid) if l.startswith("VmHWM")][0].split()[1]
    print("watchers=%d requests=%d status_ms p50=%.1f p99=%.1f max=%.1f mlpd_VmHWM_kB=%s" % (
        N, REQ, lat[len(lat) // 2], lat[int(len(lat) * 0.99) - 1], lat[-1], hwm))
finally:
    p.kill()
    p.wait()
    subprocess.run(["rm", "-rf", home])
