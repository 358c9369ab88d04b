#!/usr/bin/env python3
"""mlpctl trial ID --follow (issue 11): the live epochs of a running trial, each
printed once and in order, then its end; an ended trial answers at once; a
follower that goes away early leaves mlpd healthy.  `mlpctl trial ID` shows the
trial's confusion matrix.  Real mlpd, real workers, the real mlpctl."""
import json
import os
import subprocess

from harness import BRIEF, HERE, Daemon, check, done, slow_grid, tiny_grid

MLPCTL = os.environ.get("MLPCTL") or os.path.join(HERE, "../../build/cli/mlpctl")


def ctl(d, *args, timeout=120):
    return subprocess.run([MLPCTL, "--socket", d.sock] + list(args), env=d.env(),
                          capture_output=True, timeout=timeout, text=True)


with Daemon(workers=1) as d:
    d.start()
    # A trial that runs for seconds, epoch after epoch, so that both followers meet it
    # running (CI's fast machine could end 60 epochs before the followers came, and the
    # test then followed an ended trial only).
    sid = d.submit(slow_grid("followed", epochs=BRIEF))
    d.until(lambda: d.sql("select count(*) from trials where sweep_id=? and state='running'",
                          (sid,))[0][0] == 1, what="the trial running")
    tid = d.sql("select id from trials where sweep_id=?", (sid,))[0][0]

    # A follower that goes away early (killed after its first output).
    early = subprocess.Popen([MLPCTL, "--socket", d.sock, "trial", str(tid), "--follow"],
                             env=d.env(), stdout=subprocess.PIPE, text=True)
    first = early.stdout.readline()
    early.kill()
    early.wait()
    check(first.startswith("trial %d:" % tid), "an early follower saw the trial's header", first)

    p = ctl(d, "--json", "trial", str(tid), "--follow")
    check(p.returncode == 0, "--follow of a trial that ends done exits 0", p.stderr)
    events = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    epochs = [e["epoch"] for e in events if e.get("event") == "epoch"]
    end = [e for e in events if e.get("event") == "end"]
    ran = d.sql("select epochs_run from results where trial_id=?", (tid,))[0][0]
    check(epochs == list(range(epochs[0] if epochs else 1, ran + 1)) and epochs[-1:] == [ran],
          "every epoch from the first seen to the last printed once, in order",
          (epochs[:3], epochs[-3:], ran))
    check(len(epochs) > 1, "the follower saw the epochs come (more than one)", len(epochs))
    check(len(end) == 1 and events[-1] is end[0] and end[0]["state"] == "done",
          "one end event, last, with the state", end)
    check(abs(end[0]["metrics"]["val_accuracy"] -
              d.sql("select val_accuracy from results where trial_id=?", (tid,))[0][0]) < 1e-12,
          "the end event carries the recorded metrics", end[0]["metrics"])

    # Following an ended trial answers at once, with every epoch and the end.
    p = ctl(d, "trial", str(tid), "--follow", timeout=20)
    lines = p.stdout.splitlines()
    check(p.returncode == 0 and any("ended: done" in l for l in lines),
          "following an ended trial prints its end and exits 0", p.stdout[-300:])
    rows = [l for l in lines if l.strip() and l.split()[0].isdigit()]
    check(len(rows) == ran, "and its %d epoch rows" % ran, len(rows))

    # mlpd is healthy after the early follower went away.
    check(d.ok({"op": "status"})["ok"], "mlpd answers after a follower was killed")

    # A classification trial shows its test confusion matrix.
    tiny = d.submit(tiny_grid("conf", seeds=1, lrs=(0.1,)))
    d.wait_sweep(tiny)
    t2 = d.sql("select id from trials where sweep_id=?", (tiny,))[0][0]
    p = ctl(d, "trial", str(t2))
    check(p.returncode == 0 and "test confusion matrix" in p.stdout,
          "mlpctl trial prints the test confusion matrix", p.stdout[-400:])

    # A trial that fails ends the follower with exit 1.
    p = ctl(d, "trial", "999999", "--follow", timeout=20)
    check(p.returncode == 1 and "999999" in p.stderr, "an unknown trial is an error", p.stderr)
done()
