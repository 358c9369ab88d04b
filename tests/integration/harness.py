"""Shared set-up for the mlpd integration tests.

Daemon(...) starts a private `mlpd --foreground` on a fresh temporary state
dir (MLPD_HOME) with its own socket, and stops it (SIGTERM, then SIGKILL) and
removes the dir when the test ends, whatever happens: the tests use it as a
context manager and register an atexit/signal clean-up as a trap would.
Paths of the binaries come from meson (MLPD, MLP_WORKER) or the build dir.
"""
import atexit
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mlpclient import Client  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MLPD = os.environ.get("MLPD") or os.path.join(HERE, "../../build/daemon/mlpd")
WORKER = os.environ.get("MLP_WORKER") or os.path.join(HERE, "../../build/worker/mlp-worker")

_live = []

# Waits are bounds, never timing assertions: under AddressSanitizer (the CI's
# second pass, MLP_TEST_SANITIZED=1) everything runs several times slower, so
# every wait here stretches by SLOW (MLP_TEST_SLOW overrides it), as meson's
# --timeout-multiplier stretches the test's own limit.
SLOW = float(os.environ.get("MLP_TEST_SLOW") or (3 if os.environ.get("MLP_TEST_SANITIZED") else 1))


def _cleanup(*_):
    for d in list(_live):
        d.stop(kill=True)
        d.remove()


atexit.register(_cleanup)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))

failures = 0


def check(cond, what, detail=None):
    """Record a check; prints both the claim and the detail on failure."""
    global failures
    if not cond:
        failures += 1
        print("FAIL: %s%s" % (what, "" if detail is None else ": %r" % (detail,)), flush=True)
    else:
        print("ok: %s" % what, flush=True)
    return cond


def done():
    print("%d failure(s)" % failures)
    sys.exit(1 if failures else 0)


MLPCTL = os.environ.get("MLPCTL") or os.path.join(HERE, "../../build/cli/mlpctl")


def ctl_out(d, *args):
    """mlpctl ARGS against d's socket: its standard output, or AssertionError naming the
    verb, the exit status and the end of its standard error."""
    p = subprocess.run([MLPCTL, "--socket", d.sock] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120 * SLOW)
    if p.returncode != 0:
        raise AssertionError("mlpctl %s: exit %d: %s" % (" ".join(args), p.returncode,
                                                         p.stderr.decode()[-500:]))
    return p.stdout.decode()


def tiny_grid(name, seeds=2, epochs=2, lrs=(0.1, 0.3), **extra):
    g = {"name": name, "dataset": {"name": "xor", "n": 200}, "seeds": seeds,
         "base": {"epochs": epochs, "hidden": [8]}, "grid": {"lr": list(lrs)}}
    g.update(extra)
    return g


def truncated_idx_grid(name, directory, seeds=2, lrs=(0.1, 0.3)):
    """A grid whose dataset passes the submit-time check but fails in the worker.

    The training images are a gzip file whose header promises 100 images of
    2x2 pixels but whose payload holds 50: the daemon reads only IDX headers
    at submit (decompressing a whole .gz there would be too slow), the worker
    finds the truncation and exits 4 (invalid configuration)."""
    import gzip
    import struct
    files = {
        "train-images.gz": gzip.compress(struct.pack(">IIII", 0x803, 100, 2, 2) + bytes(200)),
        "train-labels": struct.pack(">II", 0x801, 100) + bytes(i % 2 for i in range(100)),
        "test-images": struct.pack(">IIII", 0x803, 10, 2, 2) + bytes(40),
        "test-labels": struct.pack(">II", 0x801, 10) + bytes(i % 2 for i in range(10)),
    }
    for fname, data in files.items():
        with open(os.path.join(directory, fname), "wb") as f:
            f.write(data)
    ds = {"format": "idx", "train_images": os.path.join(directory, "train-images.gz"),
          "train_labels": os.path.join(directory, "train-labels"),
          "test_images": os.path.join(directory, "test-images"),
          "test_labels": os.path.join(directory, "test-labels")}
    return tiny_grid(name, seeds=seeds, lrs=lrs, dataset=ds)


# Spirals trials (slow_grid) train at ~1 ms an epoch on a quiet fast machine (CI's) and
# several times slower here under load or ASan, so an epoch count is no clock:
# FOREVER: a trial that the test must stop itself (cancel, kill, delete, shutdown --now);
#   it cannot end first on any machine (a quarter of an hour on the fastest).
# BRIEF: a trial that must still be running when the test acts on it (kill it, follow
#   it, shut down around it), yet end by itself afterwards: ~2 s on the fastest machine,
#   30 times a poll's latency there, ~10 s here under load.
FOREVER = 1000000
BRIEF = 2000


def slow_grid(name, seeds=1, lrs=(0.1,), epochs=400):
    """Spirals trials of ~1 ms an epoch or more (see FOREVER, BRIEF)."""
    return {"name": name, "dataset": {"name": "spirals", "n": 4000}, "seeds": seeds,
            "base": {"epochs": epochs, "hidden": [64, 64], "batch_size": 32},
            "grid": {"lr": list(lrs)}}


class Daemon:
    def __init__(self, workers=2, home=None, extra=(), env=None):
        self.home = home or tempfile.mkdtemp(prefix="mlpd-it-")
        self.sock = os.path.join(self.home, "mlpd.sock")
        self.db = os.path.join(self.home, "mlpd.db")
        self.workers = workers
        self.extra = list(extra)
        self.extra_env = dict(env or {})  # e.g. MLPD_WORKER: a stand-in worker
        self.preexec = None  # run in mlpd's process before exec (e.g. to join a cgroup)
        self.proc = None
        self.stderr_path = os.path.join(self.home, "stderr.txt")
        _live.append(self)

    def env(self):
        e = dict(os.environ)
        e["MLPD_HOME"] = self.home
        e.pop("MLPD_SOCKET", None)
        e.pop("MLPD_DATA", None)
        e["MLPD_WORKER"] = WORKER
        e.update(self.extra_env)
        return e

    def start(self, wait=True):
        self.errf = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(
            [MLPD, "--foreground", "--workers", str(self.workers)] + self.extra,
            env=self.env(), stdout=self.errf, stderr=self.errf, preexec_fn=self.preexec)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=30):
        t0 = time.time()
        while time.time() - t0 < timeout * SLOW:
            if self.proc.poll() is not None:
                raise RuntimeError("mlpd exited %d: %s" % (self.proc.returncode, self.log()))
            try:
                r = self.call({"op": "hello", "protocol": 1})
                if r.get("ok"):
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("mlpd did not start: " + self.log())

    def log(self):
        try:
            with open(self.stderr_path, errors="replace") as f:
                return f.read()[-20000:]
        except OSError:
            return ""

    def client(self, timeout=60):
        return Client(self.sock, timeout * SLOW)

    def call(self, req, timeout=60):
        c = self.client(timeout)
        try:
            return c.call(req)
        finally:
            c.close()

    def ok(self, req, timeout=60):
        r = self.call(req, timeout)
        if not r.get("ok"):
            raise AssertionError("request %s failed: %s" % (json.dumps(req)[:200], r))
        return r

    def submit(self, grid, **kw):
        req = {"op": "submit", "grid": grid, "base_dir": self.home}
        req.update(kw)
        return self.ok(req)["sweep"]["id"]

    def wait_sweep(self, sweep, timeout=60):
        return self.ok({"op": "wait", "sweep": sweep}, timeout)["sweep"]

    def until(self, pred, timeout=20, what="condition"):
        t0 = time.time()
        while time.time() - t0 < timeout * SLOW:
            v = pred()
            if v:
                return v
            time.sleep(0.05)
        raise AssertionError("timed out waiting for " + what)

    def sql(self, q, args=()):
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=10)
        try:
            return con.execute(q, args).fetchall()
        finally:
            con.close()

    def stop(self, kill=False, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.check_sanitizers()
        return self.proc.returncode if self.proc else None

    def check_sanitizers(self):
        """Under -Dsanitize=true a report in mlpd's stderr is a failure."""
        text = self.log() if os.path.exists(self.stderr_path) else ""
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if marker in text:
                check(False, "mlpd sanitizer report", text[text.index(marker) - 200:][:1500])
                break

    def remove(self):
        if self in _live:
            _live.remove(self)
        shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.stop(kill=a[0] is not None)
        self.remove()
