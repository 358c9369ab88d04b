#!/usr/bin/env python3
"""The preconditions of the ops table (daemon/ops.h, enum op_flag), through a real mlpd.

Every op that names a sweep has it resolved before its handler runs: an unknown
name is not_found and a shared prefix ambiguous (path "sweep") for each of them.
While mlpd drains, submit and retry are refused with shutting_down (their own
texts), resume only for a cancelled sweep (it would re-queue trials: refused
before anything changes), and a paused sweep may still be resumed."""
from harness import Daemon, check, done, slow_grid, tiny_grid

SWEEP_OPS = {  # op: the other required fields
    "show": {}, "best": {}, "results": {}, "compare": {"a": 1, "b": 2}, "wait": {}, "watch": {},
    "cancel": {}, "pause": {}, "resume": {}, "retry": {}, "delete": {},
    "tag": {"tags": {}}, "note": {"text": "x"},
}


def error(r):
    return (r.get("error") or {}).get("code"), (r.get("error") or {}).get("path"), \
        (r.get("error") or {}).get("message")


with Daemon(workers=1).start() as d:
    busy = d.submit(slow_grid("drain-run", epochs=100000))
    d.until(lambda: d.ok({"op": "show", "sweep": busy})["sweep"]["running"] == 1,
            what="the long trial running", timeout=60)
    cancelled = d.submit(tiny_grid("drain-cancelled"))
    paused = d.submit(tiny_grid("drain-paused"))
    d.ok({"op": "cancel", "sweep": cancelled})
    d.ok({"op": "pause", "sweep": paused})

    # The sweep is resolved by the dispatcher for every op that names one.
    for op, extra in SWEEP_OPS.items():
        r = d.call(dict({"op": op, "sweep": "no-such-sweep"}, **extra))
        code, path, msg = error(r)
        check(code == "not_found" and path == "sweep" and
              msg == 'no sweep named "no-such-sweep" (nor starting so)',
              "%s: an unknown sweep is not_found at sweep" % op, r)
        r = d.call(dict({"op": op, "sweep": 987654}, **extra))
        check(error(r)[:2] == ("not_found", "sweep") and error(r)[2] == "no sweep 987654",
              "%s: an unknown id is not_found at sweep" % op, r)
        r = d.call(dict({"op": op, "sweep": "drain-"}, **extra))
        code, path, msg = error(r)
        check(code == "ambiguous" and path == "sweep" and msg.startswith('"drain-" starts the names'),
              "%s: a shared prefix is ambiguous" % op, r)
    r = d.ok({"op": "tag", "sweep": "drain-pa", "tags": {"k": "v"}})
    check(r["sweep"]["id"] == paused and r["tags"] == {"k": "v"}, "a unique prefix names the sweep", r)

    # Drain: the long trial keeps mlpd draining while we ask.
    d.ok({"op": "shutdown"})
    check(d.ok({"op": "status"})["draining"], "mlpd is draining")
    r = d.call({"op": "submit", "grid": tiny_grid("late"), "base_dir": d.home})
    check(error(r) == ("shutting_down", None, "mlpd is shutting down and accepts no new sweeps"),
          "submit refused while draining", r)
    r = d.call({"op": "retry", "sweep": cancelled, "cancelled": True})
    check(error(r) == ("shutting_down", None, "mlpd is shutting down"), "retry refused while draining", r)
    r = d.call({"op": "retry", "sweep": "no-such-sweep"})
    check(error(r)[0] == "not_found", "an unknown sweep is not_found before the drain refusal", r)
    r = d.call({"op": "resume", "sweep": cancelled})
    check(error(r) == ("shutting_down", None, "mlpd is shutting down"),
          "resume of a cancelled sweep refused while draining", r)
    s = d.ok({"op": "show", "sweep": cancelled})["sweep"]
    check(s["state"] == "cancelled" and s["queued"] == 0, "the refused resume changed nothing", s)
    r = d.ok({"op": "resume", "sweep": paused})
    check(r["changed"] == 4 and r["sweep"]["paused"] is False,
          "resume of a paused sweep is served while draining", r)
    r = d.ok({"op": "cancel", "sweep": busy})
    check(r["changed"] >= 1, "cancel is served while draining", r)
    rc = d.proc.wait(60)
    check(rc == 0, "mlpd exits once the drain is over", rc)
done()
