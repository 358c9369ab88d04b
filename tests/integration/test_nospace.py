#!/usr/bin/env python3
"""A full disk pauses dispatch instead of burning attempts (issue 19).

The artifacts dir is an 8 MiB tmpfs left with 16 KiB free: every trial's model
(~70 KB, with its decision boundary ~830 KB) fails to be written, the worker reports "no_space", mlpd re-queues
the trial without counting the attempt and pauses dispatch (status says why),
then once the filler is removed it resumes by itself and the sweep finishes
with every trial done at its first counted attempt.  A write refused with some
space left keeps the pause at least 5 s, so the retries stay slow.  Needs root
to mount a tmpfs; otherwise skipped (exit 77)."""
import os
import subprocess
import sys
import time

from harness import Daemon, check, done

if os.geteuid() != 0:
    print("skip: needs root to mount a tmpfs")
    sys.exit(77)

with Daemon(workers=2, extra=["--min-free-space", "0"]) as d:
    arts = os.path.join(d.home, "artifacts")
    os.mkdir(arts, 0o700)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", arts]).returncode:
        print("skip: cannot mount a tmpfs here")
        sys.exit(77)
    try:
        filler = os.path.join(arts, "filler")
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 4096)
            except OSError:
                pass
            f.truncate(os.path.getsize(filler) - 16384)
        d.start()
        sid = d.submit({"name": "full", "dataset": {"name": "xor", "n": 200}, "seeds": 6,
                        "base": {"epochs": 2, "hidden": [4000], "save": "model"}})
        # The first trials meet the full disk: dispatch pauses, with the reason in status.
        st = d.until(lambda: (lambda r: r if r.get("dispatch_paused") else None)(
            d.call({"op": "status"})), timeout=60, what="dispatch paused")
        check("No space left on device" in st["dispatch_paused"],
              "status says dispatch is paused for lack of space", st["dispatch_paused"])
        out = subprocess.run([os.environ.get("MLPCTL", os.path.join(os.path.dirname(__file__),
                                                                    "../../build/cli/mlpctl")),
                              "status"], env=d.env(), capture_output=True, text=True).stdout
        check("dispatch   PAUSED: " in out and "No space left" in out,
              "mlpctl status shows the pause", out)
        time.sleep(6)  # at least one pause + retry cycle
        rows = d.sql("SELECT state, attempts FROM trials WHERE sweep_id = ?", (sid,))
        check(all(r[0] in ("queued", "running") for r in rows) and
              all(r[1] <= 1 for r in rows),
              "while the disk is full no trial fails and no attempt is counted", rows)
        check(d.sql("SELECT count(*) FROM trials WHERE error LIKE '%No space left%'")[0][0] >= 1,
              "the re-queued trials keep the reason as their error")
        os.unlink(filler)
        s = d.wait_sweep(sid, timeout=60)
        check(s["state"] == "done" and s["done"] == 6 and s["failed"] == 0,
              "the sweep finishes once space is back", s)
        rows = d.sql("SELECT attempts FROM trials WHERE sweep_id = ?", (sid,))
        check(all(r[0] == 1 for r in rows), "every trial done at its first counted attempt", rows)
        check(d.call({"op": "status"}).get("dispatch_paused") is None,
              "status shows dispatch going again")
        check("dispatch paused: " in d.log() and "dispatch resumed: space is back" in d.log(),
              "mlpd logged the pause and the resume")
        check(d.proc.poll() is None, "mlpd kept running")
    finally:
        d.stop()
        subprocess.run(["umount", "-l", arts])
done()
