#!/usr/bin/env python3
"""The dashboard's trial table at 100k trials: one page of mlpd's `results` op.

A finished sweep of CONFIGS x SEEDS trials (default 1000 x 100) is made cheaply: the
grid is submitted to a private mlpd (paused, so nothing trains), mlpd is stopped and
every trial is given a synthetic result straight in its SQLite file, with a 2 x 2 test
confusion matrix as a classification trial records one (a few trials are left queued,
so "missing values last" is exercised), then mlpd is started again.
Each page the dashboard can ask for -- every sortable column of its table, both
directions, the first, middle and last page of 50 rows -- is requested REPS times on
mlpd's socket; the median wall time and mlpd's CPU time for that request (utime +
stime from /proc, less disturbed by other load on the machine) are printed.

Then (unless --no-http) the dashboard itself: `mlpctl dashboard` on that mlpd, and
each kind of page it serves fetched over HTTP REPS times: the sweeps list, the
sweep page (the first request, which draws the ranking and plots, and the ones
after it), the sweep page sorted on a page deep inside, the trial table alone
(/trials, as the page's links fetch it) and a trial page; the median wall time,
mlpd's CPU and mlpctl's CPU per page are printed.

  bench/dashboard_page.py [--configs 1000] [--seeds 100] [--reps 5] [--build build] [--no-http]
"""
import argparse
import json
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import re
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
COLS = ["trial", "config", "seed", "state", "val_accuracy", "val_loss", "train_accuracy",
        "test_accuracy", "epochs_run", "seconds"]
PER_PAGE = 50


def conn(sock, timeout=600):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(sock)
    return s


def call(sock, req):
    """The answer's lines (a streamed answer has several), parsed."""
    s = conn(sock)
    f = s.makefile("rb")
    s.sendall((json.dumps(req) + "\n").encode())
    out = []
    while True:
        line = f.readline()
        if not line:
            raise OSError("mlpd closed the connection")
        doc = json.loads(line)
        out.append(doc)
        if not doc.get("more"):
            break
    s.close()
    return out


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return int(parts[11]) + int(parts[12])  # utime + stime


def start(mlpd, worker, home):
    p = subprocess.Popen([mlpd, "--foreground", "--state-dir", home, "--workers", "1",
                          "--worker", worker, "--max-trials", "2000000"],
                         stdout=subprocess.DEVNULL, stderr=open(os.path.join(home, "err"), "a"))
    sock = os.path.join(home, "mlpd.sock")
    for _ in range(3000):
        try:
            call(sock, {"op": "status"})
            return p, sock
        except OSError:
            time.sleep(0.1)
    raise SystemExit("mlpd did not start: " + open(os.path.join(home, "err")).read())


def stop(p):
    p.send_signal(signal.SIGTERM)
    p.wait(600)


def http_pages(mlpctl, sock, mlpd_pid, sid, n, reps):
    """The dashboard's pages over HTTP: median wall, mlpd CPU and mlpctl CPU per page."""
    dash = subprocess.Popen([mlpctl, "--socket", sock, "dashboard"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        m = re.search(r"(http://127\.0\.0\.1:\d+/)\?token=([0-9a-f]{32})", dash.stdout.readline())
        if not m:
            raise SystemExit("mlpctl dashboard printed no URL")
        base, token = m.group(1), m.group(2)
        hz = os.sysconf("SC_CLK_TCK")
        deep = n // PER_PAGE * 617 // 1000
        pages = [("sweeps list", "?"), ("sweep page, first", "sweep?id=%d&" % sid),
                 ("sweep page", "sweep?id=%d&" % sid),
                 ("sweep page, sorted, deep", "sweep?id=%d&sort=val_accuracy&dir=desc&page=%d&" % (sid, deep)),
                 ("trial table (/trials)", "trials?id=%d&sort=seconds&dir=asc&page=%d&" % (sid, deep)),
                 ("trial page", "trial?id=%d&" % (n // 2))]
        print("%-26s %9s %9s %11s %9s" % ("dashboard page", "wall ms", "mlpd cpu", "mlpctl cpu", "bytes"))
        for name, path in pages:
            w, c, cc = [], [], []
            for _ in range(1 if name.endswith("first") else reps):
                c0, d0 = cpu_ticks(mlpd_pid), cpu_ticks(dash.pid)
                t1 = time.perf_counter()
                with urllib.request.urlopen(base + path + "token=" + token, timeout=600) as f:
                    body = f.read()
                    if f.status != 200:
                        raise SystemExit("%s: HTTP %d" % (path, f.status))
                w.append((time.perf_counter() - t1) * 1000)
                c.append((cpu_ticks(mlpd_pid) - c0) * 1000.0 / hz)
                cc.append((cpu_ticks(dash.pid) - d0) * 1000.0 / hz)
            print("%-26s %9.1f %9.1f %11.1f %9d" % (name, statistics.median(w), statistics.median(c),
                                                     statistics.median(cc), len(body)), flush=True)
    finally:
        dash.send_signal(signal.SIGTERM)
        try:
            dash.wait(60)
        except subprocess.TimeoutExpired:  # an mlpctl from before its watch read could be cut
            dash.kill()
            dash.wait(60)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--configs", type=int, default=1000)
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--build", default=os.path.join(HERE, "../build"))
    ap.add_argument("--no-http", action="store_true", help="only mlpd's results pages")
    ap.add_argument("--keep", action="store_true", help="keep the state directory (its path is printed)")
    a = ap.parse_args()
    mlpd = os.path.join(a.build, "daemon/mlpd")
    worker = os.path.join(a.build, "worker/mlp-worker")
    home = tempfile.mkdtemp(prefix="mlpd-dashpage-")
    p = None
    try:
        p, sock = start(mlpd, worker, home)
        grid = {"name": "big", "dataset": {"name": "xor", "n": 64}, "seeds": a.seeds,
                "base": {"hidden": [4], "epochs": 1},
                "grid": {"lr": [round(1e-4 * (i + 1), 6) for i in range(a.configs)]}}
        t0 = time.perf_counter()
        r = call(sock, {"op": "submit", "grid": grid, "force": True, "base_dir": home})[0]
        if not r.get("ok"):
            raise SystemExit("submit: %s" % r)
        sid = r["sweep"]["id"]
        call(sock, {"op": "pause", "sweep": sid})
        stop(p)
        p = None
        db = sqlite3.connect(os.path.join(home, "mlpd.db"))
        with db:
            # All but the last 37 trials finished, with values that tie now and then.
            db.execute("UPDATE trials SET state = 'done', attempts = 1, started = created, "
                       "finished = created + 1 WHERE sweep_id = ?1 AND id <= "
                       "(SELECT max(id) FROM trials WHERE sweep_id = ?1) - 37", (sid,))
            db.execute("INSERT OR REPLACE INTO results (trial_id, sweep_id, config_idx, attempt, "
                       "train_loss, train_accuracy, val_loss, val_accuracy, test_loss, "
                       "test_accuracy, epochs_run, best_epoch, seconds, diverged, confusion) "
                       "SELECT id, sweep_id, config_idx, 1, 0.5, 0.6 + (id * 7 % 1000) / 5000.0, "
                       "0.6 + (id * 11 % 997) / 3000.0, 0.5 + (id * 13 % 1000) / 2500.0, 0.6, "
                       "0.5 + (id * 17 % 1000) / 2600.0, 1 + id % 30, 1, 0.01 + (id % 5000) / 1e4, 0, "
                       "printf('[[%d,%d],[%d,%d]]', 10 + id % 5, 6 - id % 5, 3 + id % 3, 13 - id % 3) "
                       "FROM trials WHERE sweep_id = ?1 AND state = 'done'", (sid,))
        db.close()
        p, sock = start(mlpd, worker, home)
        n = a.configs * a.seeds
        print("sweep of %d trials made in %.0f s" % (n, time.perf_counter() - t0))
        hz = os.sysconf("SC_CLK_TCK")
        pages = {"first": 0, "middle": n // PER_PAGE // 2, "last": (n - 1) // PER_PAGE}
        walls, cpus = [], []
        worst = (0, "")
        print("%-15s %-4s %-6s %9s %9s" % ("sort", "dir", "page", "wall ms", "cpu ms"))
        for col in COLS:
            for desc in (False, True):
                for pname, pg in pages.items():
                    req = {"op": "results", "sweep": sid, "trials": True, "sort": col,
                           "desc": desc, "offset": pg * PER_PAGE, "limit": PER_PAGE}
                    w, c = [], []
                    for _ in range(a.reps):
                        c0 = cpu_ticks(p.pid)
                        t1 = time.perf_counter()
                        lines = call(sock, req)
                        w.append((time.perf_counter() - t1) * 1000)
                        c.append((cpu_ticks(p.pid) - c0) * 1000.0 / hz)
                        rows = [x for ln in lines for x in ln.get("rows", [])]
                        if not lines[-1].get("ok") or len(rows) != min(PER_PAGE, n - pg * PER_PAGE):
                            raise SystemExit("bad answer for %s: %s" % (req, str(lines[-1])[:300]))
                    mw, mc = statistics.median(w), statistics.median(c)
                    walls.append(mw)
                    cpus.append(mc)
                    if mw > worst[0]:
                        worst = (mw, "%s %s %s" % (col, "desc" if desc else "asc", pname))
                    print("%-15s %-4s %-6s %9.1f %9.1f" % (col, "desc" if desc else "asc", pname, mw, mc),
                          flush=True)
        print("pages: %d, median of medians %.1f ms wall (%.1f ms mlpd CPU), worst %.1f ms (%s); "
              "load average %s" % (len(walls), statistics.median(walls), statistics.median(cpus),
                                   worst[0], worst[1], open("/proc/loadavg").read().split()[0]))
        if not a.no_http:
            http_pages(os.path.join(a.build, "cli/mlpctl"), sock, p.pid, sid, n, a.reps)
            print("load average %s" % open("/proc/loadavg").read().split()[0])
    finally:
        if p:
            stop(p)
        if a.keep:
            print("state directory kept:", home)
        else:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
