#!/usr/bin/env python3
"""Watch fan-out (issue 19): each watch event is built and encoded once per sweep
change and its bytes shared by every watcher, not once per watcher.

200 connections watch every sweep and 50 watch one sweep while a 40-trial xor
sweep runs.  Asserted: every watcher gets well-formed events in order and its
final "end"; the counts mlpd logs at shutdown ("N watch events sent to watchers,
M built and encoded") show the sharing: M is far below N (per-watcher encoding
gives M == N).  No timing is asserted.
"""
import json
import os
import re
import selectors
import socket
import time

import rlib
from rlib import check

N_ALL, N_ONE = 200, 50


def main():
    t = rlib.tempdir()
    home = os.path.join(t, "home")
    d = rlib.Daemon(home, workers=2, extra=["--max_clients", str(N_ALL + N_ONE + 20)])
    d.start()
    sid = d.call({"op": "submit", "grid": rlib.xor_grid("fan", 40, {"lr": [0.1]},
                                                        base={"epochs": 3})})["sweep"]["id"]
    # Paused until every watcher is parked: CI's fast machine can end the whole sweep
    # while the 250 connections are still being made, and a watcher that comes after its
    # end sees no progress at all.
    check(d.call({"op": "pause", "sweep": sid}).get("ok"), "the sweep is paused")
    sel = selectors.DefaultSelector()
    state = {}
    for i in range(N_ALL + N_ONE):
        s = socket.socket(socket.AF_UNIX)
        s.connect(d.sock)
        req = {"op": "watch"} if i < N_ALL else {"op": "watch", "sweep": sid}
        s.sendall((json.dumps(req) + "\n").encode())
        s.setblocking(False)
        state[s] = {"buf": b"", "events": [], "one": i >= N_ALL, "eof": False}
        sel.register(s, selectors.EVENT_READ)
    # Every watcher's first event (mlpd sends one as it parks it), then the sweep goes on.
    for s, st in state.items():
        s.settimeout(60)
        while b"\n" not in st["buf"]:
            data = s.recv(1 << 16)
            if not data:
                break
            st["buf"] += data
        s.setblocking(False)
    check(d.call({"op": "resume", "sweep": sid}).get("ok"), "every watcher parked; resumed")
    t0 = time.time()
    open_socks = len(state)
    while open_socks and time.time() - t0 < 300:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            st = state[s]
            try:
                data = s.recv(1 << 16)
            except BlockingIOError:
                continue
            if not data:
                st["eof"] = True
                sel.unregister(s)
                open_socks -= 1
                continue
            st["buf"] += data
            while b"\n" in st["buf"]:
                line, st["buf"] = st["buf"].split(b"\n", 1)
                st["events"].append(json.loads(line))
            if st["events"] and st["events"][-1].get("event") == "end":
                sel.unregister(s)
                open_socks -= 1
    bad = 0
    total = 0
    for s, st in state.items():
        ev = st["events"]
        total += len(ev)
        ok = bool(ev) and all(e.get("ok") for e in ev) and ev[-1].get("event") == "end" and \
            all(e.get("event") == "progress" for e in ev[:-1])
        if st["one"]:
            ok = ok and all(e["sweep"]["id"] == sid for e in ev) and \
                ev[-1]["sweep"]["state"] == "done"
        else:
            ok = ok and ev[-1]["sweep"] is None
        bad += not ok
        s.close()
    check(bad == 0, "all %d watchers got progress events then their end (%d did not; %d events)"
          % (len(state), bad, total))
    check(d.call({"op": "status"}).get("ok"), "mlpd still answers status")
    rc = d.stop()
    check(rc == 0, "mlpd stopped cleanly (%s)" % rc)
    m = re.search(r"(\d+) watch events sent to watchers, (\d+) built and encoded", d.output())
    check(m is not None, "mlpd logs its watch fan-out counts at shutdown")
    if m:
        sent, built = int(m.group(1)), int(m.group(2))
        check(sent >= total, "sent count %d covers the %d events received" % (sent, total))
        check(built * 20 <= sent, "events are encoded once and shared: %d built for %d sent"
              % (built, sent))
    return rlib.report()


if __name__ == "__main__":
    raise SystemExit(main())
