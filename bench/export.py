#!/usr/bin/env python3
"""mlpctl's memory for a large export (issue 19): a finished sweep of N trials
with E epoch rows each is built in a private mlpd's SQLite database
(tests/integration/bigsweep.py: a 20-configuration real sweep, the other seeds
written directly), then `mlpctl results` exports it per trial (CSV, JSON) and
per epoch (--curves, CSV, JSON).  Prints, per export, the rows and bytes
written, the wall time and mlpctl's peak RSS (ru_maxrss of mlpctl run under
/usr/bin/time, i.e. its VmHWM), and mlpd's VmHWM at the end.  With --ref
OTHER_MLPCTL the same exports are also run with that binary (e.g. a build that
gathers the whole answer first) and their output compared byte for byte.

    python3 bench/export.py [--trials 1000000] [--epochs 1] [--ref PATH]
    (MLPD, MLP_WORKER, MLPCTL or build/)
"""
import argparse
import hashlib
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../tests/integration"))
os.environ.setdefault("MLPD", os.path.join(HERE, "../build/daemon/mlpd"))
os.environ.setdefault("MLP_WORKER", os.path.join(HERE, "../build/worker/mlp-worker"))
MLPCTL = os.environ.get("MLPCTL") or os.path.join(HERE, "../build/cli/mlpctl")

from harness import Daemon  # noqa: E402
import bigsweep  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--trials", type=int, default=1000000)
ap.add_argument("--epochs", type=int, default=1)
ap.add_argument("--ref", help="another mlpctl to run the same exports with")
args = ap.parse_args()


def export(binary, argv, path):
    """Run binary's export into path: (exit code, seconds, peak RSS KiB, bytes, lines, sha1)."""
    t0 = time.time()
    with open(path, "wb") as out:
        p = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M", binary] + argv, stdout=out,
                           stderr=subprocess.PIPE)
    dt = time.time() - t0
    rss = [int(x.split()[1]) for x in p.stderr.decode(errors="replace").splitlines()
           if x.startswith("MAXRSS ")]
    h, size, lines = hashlib.sha1(), 0, 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
            size += len(block)
            lines += block.count(b"\n")
    os.unlink(path)
    return p.returncode, dt, rss[-1] if rss else -1, size, lines, h.hexdigest()


def vmhwm(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmHWM"):
            return int(line.split()[1])
    return -1


with Daemon(workers=2) as d:
    d.start()
    t0 = time.time()
    sid, n = bigsweep.build(d, args.trials, name="big", epochs=args.epochs)
    print("sweep %d: %d trials, %d epoch rows each (built in %.0f s); load %s"
          % (sid, n, args.epochs, time.time() - t0, os.getloadavg()[0]))
    print("| export | mlpctl | exit | rows | bytes | seconds | peak RSS |")
    print("|---|---|---|---|---|---|---|")
    cases = [("trials CSV", ["results", str(sid), "--trials", "--format", "csv"]),
             ("trials JSON", ["--json", "results", str(sid), "--trials"]),
             ("curves CSV", ["results", str(sid), "--curves", "--format", "csv"]),
             ("curves JSON", ["--json", "results", str(sid), "--curves"])]
    out = os.path.join(d.home, "export.out")
    for what, argv in cases:
        digests = {}
        for label, binary in [("this", MLPCTL)] + ([("ref", args.ref)] if args.ref else []):
            rc, dt, rss, size, lines, sha = export(binary, ["--socket", d.sock] + argv, out)
            digests[label] = sha
            rows = lines - 1 if "CSV" in what else "-"
            print("| %s | %s | %d | %s | %d | %.1f | %.1f MiB |"
                  % (what, label, rc, rows, size, dt, rss / 1024.0), flush=True)
        if args.ref:
            print("|  | output %s |  |  |  |  |  |"
                  % ("identical" if len(set(digests.values())) == 1 else "DIFFERS"))
    print("mlpd peak RSS (VmHWM): %.1f MiB; load %s" % (vmhwm(d.proc.pid) / 1024.0,
                                                         os.getloadavg()[0]))
