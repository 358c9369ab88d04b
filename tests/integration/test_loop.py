#!/usr/bin/env python3
"""Work proportional to a sweep or a dataset stays off mlpd's event loop (issue 19):
status is answered while a large submit is still being stored (ordering, no
timing), a SIGKILL mid-insert leaves no partial sweep after restart, max_trials
holds even with --force, a FIFO and a CSV without newlines are refused with
the file and the reason, and a large delete answers once the rows are gone."""
import json
import os
import select
import subprocess

from harness import MLPCTL, Daemon, check, done, tiny_grid


def big_grid(name, n):
    g = tiny_grid(name, seeds=1)
    g["grid"] = {"lr": [round(0.0001 * (i + 1), 6) for i in range(n)]}
    return g


with Daemon(workers=1, extra=["--max-trials", "300000"]) as d:
    d.start()

    # status is answered while a 100,000-trial submit is being stored.
    sub = d.client(300)
    sub.send({"op": "submit", "grid": big_grid("big", 100000), "base_dir": d.home, "force": True})
    hidden = d.until(lambda: d.sql("SELECT count(*) FROM sweeps WHERE hidden = 1")[0][0] == 1,
                     timeout=120, what="the big sweep being inserted")
    r = d.call({"op": "status"})
    check(r.get("ok") and r["sweeps"] == 0 and r["trials"]["queued"] == 0,
          "status answered while the submit is stored; the half-stored sweep is not shown", r)
    r = d.call({"op": "list"})
    check(r.get("ok") and r.get("sweeps") == [], "list does not show it either", r)
    ready, _, _ = select.select([sub.sock], [], [], 0)
    check(not ready or d.sql("SELECT count(*) FROM sweeps WHERE hidden = 0")[0][0] == 1,
          "the submit had not answered when status did")
    r = sub.read()
    check(r.get("ok") and r["trials"] == 100000, "the big submit is stored", r.get("error"))
    sub.close()
    sid = r["sweep"]["id"]
    d.ok({"op": "pause", "sweep": sid})
    r = d.call({"op": "delete", "sweep": sid, "force": True}, timeout=300)
    check(r.get("ok") and r["trials"] == 100000, "a 100,000-trial sweep is deleted", r)
    check(d.sql("SELECT count(*) FROM trials")[0][0] == 0 and
          d.sql("SELECT count(*) FROM sweeps")[0][0] == 0, "its rows are gone when delete answers")

    # max_trials holds even with --force; the message counts without expanding.
    r = d.call({"op": "submit", "grid": big_grid("toobig", 400000), "base_dir": d.home,
                "force": True, "dry_run": True})
    err = r.get("error", {})
    check(not r["ok"] and err.get("code") == "too_large" and "300000" in err.get("message", "")
          and "400000" in err.get("message", "") and "even with --force" in err.get("message", ""),
          "max_trials refuses a larger sweep even with --force", r)

    # mlpctl's own check, which does not know mlpd's max_trials: past mlpd's default
    # ceiling it does not suggest --force alone; below it, it does.
    for n, hint in ((200000, "pass --force to queue it anyway"),
                    (1200000, "refuses it even with --force unless its max_trials")):
        path = os.path.join(d.home, "big%d.json" % n)
        with open(path, "w") as f:
            json.dump(big_grid("big%d" % n, n), f)
        p = subprocess.run([MLPCTL, "--socket", d.sock, "submit", "--dry-run", path],
                           capture_output=True, text=True, timeout=300)
        check(p.returncode != 0 and hint in p.stderr and str(n) in p.stderr,
              "mlpctl on a %d-trial grid without --force: %s" % (n, hint), p.stderr[-400:])

    # A FIFO as a dataset file: refused at once, never opened blocking.
    fifo = os.path.join(d.home, "train.csv")
    os.mkfifo(fifo)
    with open(os.path.join(d.home, "test.csv"), "w") as f:
        f.write("1,2,0\n3,4,1\n")
    g = tiny_grid("fifo")
    g["dataset"] = {"format": "csv", "train": "train.csv", "test": "test.csv"}
    r = d.call({"op": "submit", "grid": g, "base_dir": d.home}, timeout=60)
    check(not r["ok"] and r["error"]["code"] == "invalid_dataset" and
          ("FIFO" in r["error"]["message"] or "regular file" in r["error"]["message"]),
          "a FIFO dataset is refused", r)
    os.unlink(fifo)

    # A CSV without newlines (sparse, 64 MiB): refused with file:line, not read whole.
    with open(fifo, "wb") as f:
        f.truncate(64 << 20)
    r = d.call({"op": "submit", "grid": g, "base_dir": d.home}, timeout=120)
    check(not r["ok"] and r["error"]["code"] == "invalid_dataset" and
          "train.csv:1: line longer than" in r["error"]["message"], "a line without end is refused", r)
    os.unlink(fifo)

    # SIGKILL while a sweep is half inserted: after restart it is gone whole.
    sub = d.client(300)
    sub.send({"op": "submit", "grid": big_grid("cut", 100000), "base_dir": d.home, "force": True})
    d.until(lambda: d.sql("SELECT count(*) FROM trials t JOIN sweeps s ON s.id = t.sweep_id "
                          "WHERE s.hidden = 1")[0][0] > 0 or
            d.sql("SELECT count(*) FROM sweeps WHERE hidden = 1 AND id IN (SELECT sweep_id FROM "
                  "configs)")[0][0] > 0, timeout=120, what="a half-inserted sweep")
    d.stop(kill=True)
    sub.close()
    d.start()
    r = d.call({"op": "status"})
    check(r.get("ok") and r["sweeps"] == 0, "after restart the cut sweep is not shown", r)
    d.until(lambda: d.sql("SELECT count(*) FROM sweeps")[0][0] == 0 and
            d.sql("SELECT count(*) FROM configs")[0][0] == 0 and
            d.sql("SELECT count(*) FROM trials")[0][0] == 0, timeout=300,
            what="the cut sweep purged")
    check(True, "a crash mid-insert leaves no partial sweep")
done()
