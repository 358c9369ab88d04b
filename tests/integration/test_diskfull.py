#!/usr/bin/env python3
"""The database on a full filesystem: mlpd keeps running, loses nothing that
was committed, pauses dispatch (status says why) without counting the
attempts of the trials it could not record, and carries on by itself once
space is back.  Needs root to
mount a small tmpfs; otherwise skipped (exit 77)."""
import os
import subprocess
import sys
import tempfile

from harness import Daemon, check, done

# Under sanitizers a trial takes a second or more on a loaded machine: a smaller sweep.
N = 60 if os.environ.get("MLP_TEST_SANITIZED") == "1" else 200

if os.geteuid() != 0:
    print("skip: needs root to mount a tmpfs")
    sys.exit(77)
mnt = tempfile.mkdtemp(prefix="mlpd-full-")
if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mnt]).returncode != 0:
    os.rmdir(mnt)
    print("skip: cannot mount a tmpfs here")
    sys.exit(77)
try:
    home = os.path.join(mnt, "home")
    os.mkdir(home, 0o700)
    # min_free_space stays 64M: on this 16M filesystem an eighth of it (2M) is needed.
    with Daemon(workers=2, home=home) as d:
        d.start()
        sid = d.submit({"name": "full", "dataset": {"name": "xor", "n": 64}, "seeds": N,
                        "base": {"epochs": 20, "hidden": [4]}})
        d.until(lambda: d.sql("select count(*) from results")[0][0] >= N // 10, timeout=60,
                what="some results")
        filler = os.path.join(mnt, "filler")
        # Unbuffered: a buffered file would raise ENOSPC again when it flushes on close.
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
            except OSError:
                pass
        # While the disk is full: queries still answer, submits fail with a storage error.
        # (60,000 trials need more than any reusable space left in the WAL file.)
        r = d.call({"op": "submit", "grid": {"dataset": "xor", "seeds": 60000}, "base_dir": home})
        check(not r["ok"] and r["error"]["code"] == "storage", "a submit on a full disk is a storage error", r)
        check(d.call({"op": "status"})["ok"], "status answers on a full disk")
        st = d.until(lambda: (lambda r: r if r.get("dispatch_paused") else None)(
            d.call({"op": "status"})), timeout=30, what="dispatch paused")
        check(st["dispatch_paused"].startswith("no space left: "),
              "status says dispatch is paused for lack of space", st["dispatch_paused"])
        os.unlink(filler)
        s = d.wait_sweep(sid, timeout=180)
        check(s["state"] == "done" and s["done"] == N, "the sweep finishes once space is back", s)
        n = d.sql("select count(*), count(distinct trial_id) from results")[0]
        check(n == (N, N), "every trial recorded exactly once", n)
        a = d.sql("select max(attempts) from trials")[0][0]
        check(a == 1, "no attempt was counted for the full disk", a)
        check(d.call({"op": "status"}).get("dispatch_paused") is None, "dispatch resumed")
        check(d.sql("pragma integrity_check")[0][0] == "ok", "integrity_check ok")
        # Its partly stored rows could not be removed while the disk was full (the
        # removal needs space too): mlpd tries again, backing off to once a minute.
        left = d.until(lambda: (lambda n: n if n == 1 else None)(
            d.sql("select count(*) from sweeps")[0][0]), timeout=90, what="the failed submit removed")
        check(left == 1 and d.sql("select count(*) from trials")[0][0] == N,
              "the failed submit left nothing behind", left)
        check(d.proc.poll() is None, "mlpd kept running")
finally:
    subprocess.run(["umount", "-l", mnt])
    os.rmdir(mnt)
done()
