"""Shared helpers of the reliability tests: a private mlpd, its client, the store.

Every test starts its own `mlpd --foreground` on a temporary state dir and
kills it (and removes the dir) at exit, whatever happens.  Paths of the
programs come from the environment meson gives the tests (MLPD, MLP_WORKER,
MLPCLIENT_DIR); run by hand, they default to build-reliability/.
"""
import atexit
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("MLP_BUILD", os.path.join(ROOT, "build-reliability"))
MLPD = os.environ.get("MLPD", os.path.join(BUILD, "daemon", "mlpd"))
WORKER = os.environ.get("MLP_WORKER", os.path.join(BUILD, "worker", "mlp-worker"))
WRAPPER = os.path.join(HERE, "worker-wrapper.sh")
sys.path.insert(0, os.environ.get("MLPCLIENT_DIR", os.path.join(ROOT, "tests", "integration")))
from mlpclient import Client  # noqa: E402

_daemons = []
_dirs = []
failures = 0


def _cleanup():
    for d in _daemons:
        d.kill9(check_orphans=False)
    for t in _dirs:
        shutil.rmtree(t, ignore_errors=True)


atexit.register(_cleanup)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))


def check(cond, what):
    """Record one assertion; print it either way so the log shows what was checked."""
    global failures
    if cond:
        print("ok   " + what, flush=True)
    else:
        failures += 1
        print("FAIL " + what, flush=True)
    return cond


def report():
    print("%d failure(s)" % failures, flush=True)
    return 1 if failures else 0


def tempdir(prefix="mlprel-"):
    t = tempfile.mkdtemp(prefix=prefix)
    _dirs.append(t)
    return t


def worker_pids(daemon_pid):
    """Pids of processes started by that daemon (MLPD_PARENT_PID in their environment)."""
    mark = ("MLPD_PARENT_PID=%d" % daemon_pid).encode()
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % p, "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if mark in env:
            out.append(int(p))
    return out


def connect(path, timeout=60):
    """A Client whose connect() blocks while the listen backlog is full (as mlpctl's
    does) instead of failing with EAGAIN, as a socket with a timeout would."""
    c = Client.__new__(Client)
    c.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        c.sock.connect(path)
    except OSError:
        c.sock.close()
        raise
    c.sock.settimeout(timeout)
    c.buf = b""
    return c


class Daemon:
    """A private mlpd on home; extra = more --key value flags."""

    def __init__(self, home, workers=2, worker=None, extra=(), env=None):
        self.home = home
        self.sock = os.path.join(home, "mlpd.sock")
        self.db = os.path.join(home, "mlpd.db")
        self.args = [MLPD, "--foreground", "--state_dir", home, "--workers", str(workers),
                     "--kill_grace", "0.2", "--worker", worker or WORKER] + list(extra)
        self.env = dict(os.environ)
        self.env["MLP_REAL_WORKER"] = WORKER
        self.env.pop("MLPD_SOCKET", None)
        if env:
            self.env.update(env)
        self.proc = None
        self.starts = 0
        _daemons.append(self)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self, timeout=30):
        logf = open(os.path.join(os.path.dirname(self.home.rstrip("/")) or "/tmp",
                                 os.path.basename(self.home.rstrip("/")) + "-mlpd.out"), "ab")
        self.proc = subprocess.Popen(self.args, stdout=logf, stderr=subprocess.STDOUT,
                                     env=self.env, start_new_session=True)
        logf.close()
        self.starts += 1
        t0 = time.time()
        while time.time() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError("mlpd exited with %d at start (see %s)" %
                                   (self.proc.returncode, self.outfile()))
            try:
                r = self.call({"op": "status"}, timeout=5)
                if r.get("ok"):
                    return r
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError("mlpd did not answer within %ds" % timeout)

    def outfile(self):
        return os.path.join(os.path.dirname(self.home.rstrip("/")),
                            os.path.basename(self.home.rstrip("/")) + "-mlpd.out")

    def output(self):
        try:
            with open(self.outfile(), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def client(self, timeout=60):
        return connect(self.sock, timeout)

    def call(self, obj, timeout=60):
        c = connect(self.sock, timeout)
        try:
            return c.call(obj)
        finally:
            c.close()

    def kill9(self, check_orphans=True):
        """SIGKILL the daemon; returns the pids of its workers still alive 3 s later."""
        if not self.proc or self.proc.poll() is not None:
            self.proc = None
            return []
        pid = self.proc.pid
        os.kill(pid, signal.SIGKILL)
        self.proc.wait()
        self.proc = None
        left = worker_pids(pid)
        t0 = time.time()
        while left and time.time() - t0 < 3:
            time.sleep(0.05)
            left = worker_pids(pid)
        if not check_orphans:
            for p in left:
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
        return left

    def stop(self, timeout=30):
        """Graceful shutdown --now; SIGKILL when it does not end.  Returns the exit status."""
        if not self.proc:
            return None
        try:
            self.call({"op": "shutdown", "now": True}, timeout=5)
        except OSError:
            pass
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9(check_orphans=False)
            return -9
        self.proc = None
        return rc

    def wait_sweep(self, sweep, timeout=120):
        r = self.call({"op": "wait", "sweep": sweep}, timeout=timeout)
        return r

    def sql(self, query, args=()):
        """Rows of a query on the database (read-only; fine while the daemon runs: WAL)."""
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=10)
        try:
            return con.execute(query, args).fetchall()
        finally:
            con.close()


def xor_grid(name, seeds, grid, base=None, n=64):
    g = {"name": name, "dataset": {"name": "xor", "n": n}, "seeds": seeds,
         "base": {"hidden": [4]}, "grid": grid}
    if base:
        g["base"].update(base)
    return g


def check_store(d, sweep_ids, expect_done=True):
    """The exactly-once invariants on the database of d for the given sweeps."""
    where = "sweep_id IN (%s)" % ",".join(str(int(s)) for s in sweep_ids)
    n = d.sql("SELECT count(*) FROM trials WHERE " + where)[0][0]
    if expect_done:
        notdone = d.sql("SELECT id, state, attempts, error FROM trials WHERE %s AND state != 'done'"
                        % where)
        check(not notdone, "every trial of sweeps %s is done (%d trials; not done: %s)" %
              (sweep_ids, n, notdone[:5]))
    res = d.sql("SELECT count(*), count(DISTINCT trial_id) FROM results WHERE " + where)[0]
    done = d.sql("SELECT count(*) FROM trials WHERE state = 'done' AND " + where)[0][0]
    check(res[0] == res[1] == done,
          "one result row per done trial (results %d, distinct %d, done %d)" % (res[0], res[1], done))
    orphan = d.sql("SELECT count(*) FROM results r JOIN trials t ON t.id = r.trial_id "
                   "WHERE t.state != 'done' AND t." + where)[0][0]
    check(orphan == 0, "no result row for a trial that is not done (%d)" % orphan)
    wrong_attempt = d.sql("SELECT count(*) FROM results r JOIN trials t ON t.id = r.trial_id "
                          "WHERE r.attempt != t.attempts AND t." + where)[0][0]
    check(wrong_attempt == 0, "results belong to the trial's last attempt (%d differ)" % wrong_attempt)
    stale = d.sql("SELECT count(*) FROM epochs e JOIN results r ON r.trial_id = e.trial_id "
                  "WHERE e.attempt != r.attempt AND r." + where)[0][0]
    check(stale == 0, "no epoch row of an earlier attempt (%d)" % stale)
    bad = d.sql("SELECT r.trial_id, r.epochs_run, count(e.epoch), min(e.epoch), max(e.epoch) "
                "FROM results r LEFT JOIN epochs e ON e.trial_id = r.trial_id WHERE r." + where +
                " GROUP BY r.trial_id HAVING count(e.epoch) != r.epochs_run OR "
                "min(e.epoch) != 1 OR max(e.epoch) != r.epochs_run")
    check(not bad, "epochs 1..epochs_run contiguous for every result (bad: %s)" % bad[:5])
    ic = d.sql("PRAGMA integrity_check")
    check(ic == [("ok",)], "PRAGMA integrity_check = %s" % ic)
    return n
