#!/usr/bin/env python3
"""Does mlpd's event loop stay responsive while work proportional to a sweep or a
dataset runs?  (issue 19)  A private mlpd (2 workers, max_trials raised) gets, one
after the other:

  submit   a 1,000,000-trial grid (--force): lr 100 values × l2 100 values × 100 seeds,
           a request of a few kB as users write them
  delete   that sweep (--force)
  csv      a submit whose 1 GiB CSV training file is checked at submit
           (its test file is tiny, so the check reads the big one)

while one client times `status` every 20 ms.  Prints, per phase, how long the
phase took, status p50/p99/max in ms and the count of status answers, and
mlpd's peak RSS (VmHWM).  With --base PATH it runs the same phases against
another mlpd binary (e.g. one built from an older commit) in the same run.

    python3 bench/loop.py [--trials N] [--csv-mib M] [--base OLD_MLPD]
        (MLPD, MLP_WORKER or build/)
"""
import argparse
import json
import os
import socket
import subprocess
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MLPD = os.environ.get("MLPD") or os.path.join(HERE, "../build/daemon/mlpd")
WORKER = os.environ.get("MLP_WORKER") or os.path.join(HERE, "../build/worker/mlp-worker")


def conn(sock, timeout=None):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(sock)
    return s


def call(s, req):
    s.sendall((json.dumps(req) + "\n").encode())
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(1 << 20)
        if not chunk:
            raise OSError("closed")
        buf += chunk
    return json.loads(buf.split(b"\n")[0])


def pct(v, q):
    return v[min(len(v) - 1, max(0, int(round(q * len(v))) - 1))]


def run(mlpd, trials, csv_mib):
    home = tempfile.mkdtemp(prefix="mlpd-loop-")
    sock = os.path.join(home, "mlpd.sock")
    p = subprocess.Popen([mlpd, "--foreground", "--state-dir", home, "--workers", "2",
                          "--worker", WORKER, "--max-trials", str(trials + 1000)],
                         stdout=subprocess.DEVNULL, stderr=open(os.path.join(home, "err"), "w"))
    out = []
    try:
        for _ in range(400):
            try:
                call(conn(sock), {"op": "status"})
                break
            except OSError:
                time.sleep(0.05)
        # The big CSV: d feature columns and a label, about csv_mib MiB.
        big = os.path.join(home, "big.csv")
        row = ",".join(["0.5"] * 16) + ",1\n"
        with open(big, "w") as f:
            block = row * 8192
            for _ in range(csv_mib * (1 << 20) // len(block)):
                f.write(block)
        with open(os.path.join(home, "small.csv"), "w") as f:
            f.write(row.replace(",1\n", ",0\n") + row)
        sweep = {}
        grid = {"name": "big", "dataset": {"name": "xor", "n": 64},
                "base": {"hidden": [4], "epochs": 1},
                "grid": {"lr": [round(1e-4 * (i + 1), 6) for i in range(100)],
                         "l2": [round(1e-6 * i, 8) for i in range(100)]},
                "seeds": max(1, trials // 10000)}
        csv_grid = {"name": "csv", "dataset": {"format": "csv", "train": big, "test":
                    os.path.join(home, "small.csv")}, "base": {"hidden": [4], "epochs": 1}}

        def phase_submit(c):
            r = call(c, {"op": "submit", "grid": grid, "force": True, "base_dir": home})
            if not r.get("ok"):
                raise SystemExit("submit failed: %s" % r)
            sweep["id"] = r["sweep"]["id"]
            call(c, {"op": "pause", "sweep": sweep["id"]})

        def phase_delete(c):
            r = call(c, {"op": "delete", "sweep": sweep["id"], "force": True})
            if not r.get("ok"):
                raise SystemExit("delete failed: %s" % r)

        def phase_csv(c):
            r = call(c, {"op": "submit", "grid": csv_grid, "base_dir": home, "dry_run": True})
            if not r.get("ok"):
                raise SystemExit("csv submit failed: %s" % r)

        for name, fn in (("submit", phase_submit), ("delete", phase_delete), ("csv", phase_csv)):
            c = conn(sock)
            t0 = time.perf_counter()
            th = threading.Thread(target=fn, args=(c,))
            th.start()
            s = conn(sock, 600)
            lat = []
            while th.is_alive():
                t1 = time.perf_counter()
                call(s, {"op": "status"})
                lat.append((time.perf_counter() - t1) * 1000)
                time.sleep(0.02)
            th.join()
            took = time.perf_counter() - t0
            lat.sort()
            if lat:
                out.append("%-7s %6.1f s  status n=%d p50=%.1f ms p99=%.1f ms max=%.1f ms" % (
                    name, took, len(lat), pct(lat, 0.5), pct(lat, 0.99), lat[-1]))
            else:
                out.append("%-7s %6.1f s  (no status answered during it)" % (name, took))
        hwm = [l for l in open("/proc/%d/status" % p.pid) if l.startswith("VmHWM")][0].split()[1]
        out.append("mlpd VmHWM %.0f MB" % (int(hwm) / 1024))
    finally:
        p.kill()
        p.wait()
        subprocess.run(["rm", "-rf", home])
    return out


ap = argparse.ArgumentParser()
ap.add_argument("--trials", type=int, default=1000000, help="a multiple of 10000")
ap.add_argument("--csv-mib", type=int, default=1024)
ap.add_argument("--base", help="another mlpd binary, run the same phases after")
a = ap.parse_args()
print("load before: %s" % open("/proc/loadavg").read().strip())
for label, binary in (("mlpd", MLPD),) + ((("base", a.base),) if a.base else ()):
    print("== %s (%s), %d trials, %d MiB CSV" % (label, binary, a.trials, a.csv_mib))
    for line in run(binary, a.trials, a.csv_mib):
        print("   " + line)
print("load after: %s" % open("/proc/loadavg").read().strip())
