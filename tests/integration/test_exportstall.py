#!/usr/bin/env python3
"""A stalled export reader does not pin the WAL (PROTOCOL.md, "Streamed answers").

A finished sweep of 20,000 trials with three epoch rows each (bigsweep.py) is
exported over raw sockets three ways (per trial, per epoch, and one page of
the trials by val_accuracy); each client reads the first bytes and then
stops, so mlpd holds the rest of the answer (its unsent output over 2 MiB).
Meanwhile a real sweep runs and its results are written.  Checked: mlpd
keeps answering; a TRUNCATE checkpoint of the WAL (Python's sqlite3 on the
database file, as an operator's backup would) succeeds and empties the WAL
while the three readers stall (before, each stream kept its read snapshot
until its last chunk, so the checkpoint stayed busy and the WAL grew for as
long as the reader stalled); then the readers resume and each answer is
complete: every row once, in order, equal to the database's."""
import json
import os
import socket
import sqlite3
import time

from harness import SLOW, Daemon, check, done, tiny_grid
import bigsweep

N = 20000  # every answer several MiB: more than the socket buffers and mlpd's 2 MiB


def request(sock, req):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(120 * SLOW)
    s.connect(sock)
    s.sendall((json.dumps(req) + "\n").encode())
    s.recv(1, socket.MSG_PEEK)  # mlpd has begun answering
    return s


def read_all(s):
    f = s.makefile("rb")
    rows, lines = [], 0
    while True:
        line = f.readline()
        if not line:
            raise AssertionError("the answer ended without its last line")
        doc = json.loads(line)
        lines += 1
        if not doc.get("ok"):
            raise AssertionError("error mid-stream: %r" % doc)
        rows.extend(doc.get("rows", []))
        if not doc.get("more"):
            break
    s.close()
    return rows, lines


def wal_bytes(d):
    try:
        return os.path.getsize(d.db + "-wal")
    except OSError:
        return 0


def checkpoint(d):
    """One TRUNCATE checkpoint attempt: (busy, wal frames, frames checkpointed)."""
    con = sqlite3.connect(d.db, timeout=1)
    try:
        return con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        con.close()


with Daemon(workers=1) as d:
    d.start()
    sid, n = bigsweep.build(d, N, name="stall", epochs=3)
    ref = bigsweep.reference(d, sid)
    ref_ep = bigsweep.reference(d, sid, curves=True)
    page = max(1, n - 7)
    reqs = {"trials": {"op": "results", "sweep": sid, "trials": True},
            "curves": {"op": "results", "sweep": sid, "curves": True},
            "page": {"op": "results", "sweep": sid, "trials": True, "sort": "val_accuracy",
                     "desc": True, "limit": page}}
    conns = {k: request(d.sock, r) for k, r in reqs.items()}
    time.sleep(1)  # mlpd fills the sockets and stops at its 2 MiB of unsent output

    # Results keep arriving while the readers stall.
    live = d.submit(tiny_grid("live", seeds=6, epochs=3))
    s = d.wait_sweep(live, timeout=300)
    check(s["done"] == 12, "a sweep runs to the end while three exports stall", s)
    st = d.ok({"op": "status"})
    check(st.get("ok"), "mlpd answers status during the stall")
    grown = wal_bytes(d)
    print("WAL before the checkpoint: %d bytes" % grown)

    res, t0 = None, time.time()
    while time.time() - t0 < 30 * SLOW:
        res = checkpoint(d)
        if res[0] == 0:
            break
        time.sleep(0.2)
    check(res is not None and res[0] == 0,
          "a TRUNCATE checkpoint succeeds while the exports stall (no snapshot pinned)", res)
    check(wal_bytes(d) == 0, "the WAL is emptied", wal_bytes(d))
    check(all(c.fileno() >= 0 for c in conns.values()), "the stalled connections are still open")

    # The readers resume: every answer is complete and in order.
    rows, lines = read_all(conns["trials"])
    ids = [r["trial"] for r in rows]
    check(lines >= 3, "the trials export took several lines", lines)
    check(ids == sorted(ref), "the resumed trials export has every trial once, by id",
          (len(ids), len(ref)))
    bad = [r for r in rows if ref[r["trial"]] != (r["config"], r["seed"], r["state"],
                                                  r.get("val_accuracy"))]
    check(not bad, "its rows equal the database's", bad[:3])

    rows, lines = read_all(conns["curves"])
    keys = [(r["trial"], r["epoch"]) for r in rows]
    check(keys == sorted(ref_ep), "the resumed curves export has every epoch row once, in order",
          (len(keys), len(ref_ep)))
    bad = [r for r in rows if ref_ep[(r["trial"], r["epoch"])] != (r["config"], r["seed"],
                                                                  r.get("val_loss"))]
    check(not bad, "its rows equal the database's", bad[:3])

    rows, lines = read_all(conns["page"])
    acc = [r.get("val_accuracy") for r in rows]
    check(len(rows) == page and len({r["trial"] for r in rows}) == page
          and all(a is not None for a in acc) and acc == sorted(acc, reverse=True),
          "the resumed page has its %d trials once, by val_accuracy descending" % page,
          (len(rows), acc[:3]))
    check(d.stop() == 0, "mlpd exits cleanly")
done()
