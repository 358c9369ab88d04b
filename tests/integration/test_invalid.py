#!/usr/bin/env python3
"""Invalid grids are refused with the exact path and nothing is stored; bad
requests of every kind get an error line and never crash or block mlpd."""
import json
import socket

from harness import Daemon, check, done, tiny_grid, truncated_idx_grid

with Daemon(workers=1) as d:
    d.start()

    def refused(grid, code, path, what, **kw):
        req = {"op": "submit", "grid": grid, "base_dir": d.home}
        req.update(kw)
        r = d.call(req)
        err = r.get("error", {})
        check(not r["ok"] and err.get("code") == code and err.get("path") == path,
              "%s -> %s at %s" % (what, code, path), r)
        return err

    g = tiny_grid("bad")
    g["grid"]["lr"] = [0.1, "fast"]
    e = refused(g, "invalid_grid", "grid.lr[1]", "a string learning rate")
    check("fast" in e.get("message", ""), "the message quotes the bad value", e)
    g = tiny_grid("bad")
    g["base"]["activaton"] = "relu"
    e = refused(g, "invalid_grid", "base.activaton", "a misspelt key")
    check("activation" in e.get("message", ""), "did-you-mean in the message", e)
    g = tiny_grid("bad")
    g["grid"]["lr"] = []
    refused(g, "invalid_grid", "grid.lr", "an empty value list")
    g = tiny_grid("bad")
    g["dataset"] = {"format": "csv", "train": "missing-train.csv", "test": "missing-test.csv"}
    r = d.call({"op": "submit", "grid": g, "base_dir": d.home})
    check(not r["ok"] and r["error"]["code"] == "invalid_dataset" and "missing-train.csv" in r["error"]["message"]
          and r["error"].get("path", "").endswith("missing-train.csv"), "a missing dataset file is named", r)
    big = tiny_grid("huge", seeds=1000)
    big["grid"] = {"lr": [0.1 * (i + 1) for i in range(200)], "l2": [0.0001 * i for i in range(1000)]}
    r = d.call({"op": "submit", "grid": big, "base_dir": d.home})
    check(not r["ok"] and r["error"]["code"] == "too_large", "a grid over the trial limit", r)
    check(d.sql("select count(*) from sweeps")[0][0] == 0 and d.sql("select count(*) from trials")[0][0] == 0,
          "nothing stored after invalid grids")

    sid = d.submit(tiny_grid("dup", seeds=1))
    r = d.call({"op": "submit", "grid": tiny_grid("dup"), "base_dir": d.home, "name": "dup"})
    check(not r["ok"] and r["error"]["code"] == "conflict" and r["error"]["path"] == "name",
          "an explicit name that is taken", r)
    r = d.call({"op": "submit", "grid": tiny_grid("dup"), "base_dir": d.home})
    check(r["ok"] and r["sweep"]["name"] == "dup-2", "a name derived from the grid is made unique", r)
    r = d.call({"op": "submit", "grid": {k: v for k, v in tiny_grid("x").items() if k != "name"},
                "base_dir": d.home, "default_name": "007"})
    check(r["ok"] and r["sweep"]["name"] == "sweep-007", "an all-digit default name gets a prefix", r)
    r = d.call({"op": "submit", "grid": tiny_grid("x"), "name": "123"})
    check(not r["ok"] and r["error"]["path"] == "name", "an all-digit name is refused", r)
    noname = tiny_grid("x")
    del noname["name"]
    sid2 = d.submit(noname)
    check(d.ok({"op": "list"})["sweeps"][0]["name"] == "sweep-%d" % sid2, "default name sweep-<id>")
    check(d.sql("select count(*) from sweeps")[0][0] == 4, "only the valid sweeps are stored")

    # Request-level errors, all on ONE connection, answered in order.
    c = d.client()
    cases = [
        (b"this is not json\n", "invalid_request", None),
        (b"[1,2,3]\n", "invalid_request", None),
        (b'{"op": 5}\n', "invalid_request", "op"),
        (b'{"no_op": true}\n', "invalid_request", "op"),
        (b'{"op": "frobnicate"}\n', "unknown_op", "op"),
        (b'{"op": "show", "sweep": [1]}\n', "invalid_request", "sweep"),
        (b'{"op": "best", "sweep": 1, "top": 1e400}\n', "invalid_request", "top"),
        (b'{"op": "best", "sweep": 1, "top": 0}\n', "invalid_request", "top"),
        (b'{"op": "trial", "id": 1.5}\n', "invalid_request", "id"),
        (b'{"op": "show", "sweep": 99999999999999999999}\n', "invalid_request", "sweep"),
        (b'{"op": "show", "sweep": "nosuch"}\n', "not_found", "sweep"),
        (b'{"op": "submit", "grid": "x"}\n', "invalid_request", "grid"),
        (b"[" * 5000 + b"]" * 5000 + b"\n", "invalid_request", None),
        (bytes(range(256)).replace(b"\n", b"") + b"\n", "invalid_request", None),
        (b'{"op": "st\xffatus"}\n', "invalid_request", None),
        (b'{"op": "submit", "name": "\xc3\x28", "grid": {}}\n', "invalid_request", None),
        (b'{"op": "status"}}\n', "invalid_request", None),
        (b'{"op": "status"}\0trailing\n', "invalid_request", None),
        (b'{"op": "status\\u0000"}\n', "unknown_op", "op"),
        (b'{"op": "status", "extra": {"ignored": true}}\n', None, None),
    ]
    c.send_raw(b"".join(x[0] for x in cases))  # pipelined
    for raw, code, path in cases:
        r = c.read()
        if code is None:
            check(r["ok"], "unknown extra fields are ignored", r)
        else:
            check(not r["ok"] and r["error"]["code"] == code and r["error"].get("path") == path,
                  "%r -> %s" % (raw[:40], code), r)
    r = c.call({"op": "hello", "protocol": 1})
    check(r["ok"], "the connection still works after bad requests", r)
    # A line over 16 MiB: too_large, then the connection is closed.
    c.send_raw(b'{"op": "status", "pad": "' + b"x" * (17 << 20))
    r = c.read()
    check(not r["ok"] and r["error"]["code"] == "too_large", "a 17 MiB line is refused", r)
    try:
        c.send_raw(b"\n")
        eof = c.read_line() is None
    except OSError:
        eof = True
    check(eof, "and the connection is closed")
    c.close()
    # A client that connects, sends half a line and goes away; one that never reads.
    s = socket.socket(socket.AF_UNIX)
    s.connect(d.sock)
    s.sendall(b'{"op": "sta')
    s.close()
    lazy = socket.socket(socket.AF_UNIX)
    lazy.connect(d.sock)
    lazy.sendall(b'{"op": "list"}\n' * 2000)
    st = d.ok({"op": "status"})
    check(st["pid"] == d.proc.pid, "mlpd still serves others while a client does not read")
    lazy.close()
    check(d.proc.poll() is None, "mlpd is alive after every bad input")
    d.wait_sweep(sid)
    d.wait_sweep(sid2)

# The per-trial log is capped (log_max_bytes), with one truncation line.
with Daemon(workers=1, extra=["--log-max-bytes", "1024"]) as d:
    d.start()
    # One trial whose log fills up over attempts: 30 runs of the same trial id
    # via retry (each attempt appends a header and the worker's stderr line).
    bad = truncated_idx_grid("logcap", d.home, seeds=1, lrs=(0.1,))
    sid = d.submit(bad)
    for _ in range(12):
        d.wait_sweep(sid)
        d.ok({"op": "retry", "sweep": sid})
    d.wait_sweep(sid)
    tid = d.sql("select id from trials")[0][0]
    tail = d.ok({"op": "trial", "id": tid})["trial"]["log_tail"]
    size = len(open("%s/logs/%d.log" % (d.home, tid), "rb").read())
    check(tail.endswith("[log truncated]\n") and size <= 1024 + len("\n[log truncated]\n"),
          "the trial log is capped with a truncation line", (size, tail))
done()
