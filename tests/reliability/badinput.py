#!/usr/bin/env python3
"""Bad input: the daemon answers every malformed or hostile request with a clear
error and keeps serving everyone else.

Each case is sent over a real socket to a private mlpd; the expected error code
is checked, and after every group the daemon must still answer status.  At the
end the database passes PRAGMA integrity_check and nothing was queued by any
bad request.  A table of what was sent, how often, and what came back is printed.
"""
import json
import os
import random
import socket
import sys
import threading
import time

import rlib
from rlib import check

SEED = int(os.environ.get("RELIABILITY_SEED", "20261123"))
table = []
T0 = time.time()


def row(case, times, answer):
    table.append((case, times, answer))
    print("  (%.1f s into the test)" % (time.time() - T0), flush=True)
    print("TABLE|%s|%s|%s|0|0" % (case, times, answer), flush=True)


def alive(d, what):
    r = d.call({"op": "status"}, timeout=10)
    return check(r.get("ok") is True, "daemon still answers status after %s" % what)


def raw_lines(d, payload, n_expected, timeout=30):
    """Send payload bytes on one connection, read n_expected response lines."""
    c = d.client(timeout)
    try:
        c.send_raw(payload)
        out = []
        for _ in range(n_expected):
            line = c.read_line()
            if line is None:
                break
            out.append(json.loads(line))
        return out
    finally:
        c.close()


def code(r):
    return r.get("error", {}).get("code") if not r.get("ok") else "ok"


def expect_codes(d, case, reqs, want):
    """Send each raw line on one connection; every answer must carry error code want."""
    payload = b"".join(x if x.endswith(b"\n") else x + b"\n" for x in reqs)
    got = raw_lines(d, payload, len(reqs))
    codes = [code(r) for r in got]
    good = len(got) == len(reqs) and all(c == want for c in codes)
    msgs = sorted({r.get("error", {}).get("message", "")[:60] for r in got})
    check(good, "%s: %d requests -> %s (%s)" % (case, len(reqs),
                                                  sorted(set(codes)), msgs[:2]))
    row(case, len(reqs), "%s: \"%s\"" % (want, msgs[0] if msgs else ""))
    return got


def main():
    print("RELIABILITY_SEED=%d" % SEED, flush=True)
    rng = random.Random(SEED)
    t = rlib.tempdir()
    d = rlib.Daemon(os.path.join(t, "home"), workers=2, worker=rlib.WRAPPER)
    d.start()

    # A small real sweep, so the queries below have something to read.
    grid = rlib.xor_grid("base", 2, {"lr": [0.1, 0.3]})
    sid = d.call({"op": "submit", "grid": grid})["sweep"]["id"]
    d.wait_sweep(sid)

    # 1. Malformed JSON.
    bad_json = [b"{", b"}", b"{\"op\":", b"{\"op\":\"status\"", b"nul", b"{'op':'status'}",
                b"{\"op\":\"status\",}", b"[1,2", b"\"unterminated", b"{\"op\" \"status\"}",
                b"01", b"{\"op\":\"status\"}}", b"tru", b"-", b"1e", b"\xff\xfe{}"]
    expect_codes(d, "malformed JSON", bad_json, "invalid_request")
    alive(d, "malformed JSON")

    # 2. Valid JSON of the wrong shape.
    shapes = [b"[]", b"[{\"op\":\"status\"}]", b"\"status\"", b"42", b"null", b"true",
              b"{}", b"{\"op\":null}", b"{\"op\":1}", b"{\"op\":[\"status\"]}",
              b"{\"op\":{\"name\":\"status\"}}", b"{\"op\":true}",
              b"{\"op\":\"submit\"}", b"{\"op\":\"submit\",\"grid\":[]}",
              b"{\"op\":\"submit\",\"grid\":\"x.json\"}",
              b"{\"op\":\"submit\",\"grid\":{},\"priority\":\"high\"}",
              b"{\"op\":\"submit\",\"grid\":{},\"priority\":1.5}",
              b"{\"op\":\"submit\",\"grid\":{},\"dry_run\":1}",
              b"{\"op\":\"show\"}", b"{\"op\":\"show\",\"sweep\":[1]}", b"{\"op\":\"show\",\"sweep\":\"\"}",
              b"{\"op\":\"show\",\"sweep\":1.5}", b"{\"op\":\"show\",\"sweep\":true}",
              b"{\"op\":\"best\",\"sweep\":1,\"top\":\"3\"}", b"{\"op\":\"trial\",\"id\":\"1\"}",
              b"{\"op\":\"trial\"}", b"{\"op\":\"hello\"}", b"{\"op\":\"hello\",\"protocol\":\"1\"}",
              b"{\"op\":\"results\",\"sweep\":1,\"trials\":\"yes\"}",
              b"{\"op\":\"shutdown\",\"now\":\"yes\"}", b"{\"op\":\"wait\",\"sweep\":{}}"]
    expect_codes(d, "valid JSON, wrong shape or field types", shapes, "invalid_request")
    alive(d, "wrong shapes")

    # 3. Unknown ops.
    unknown = [b"{\"op\":\"\"}", b"{\"op\":\"stauts\"}", b"{\"op\":\"STATUS\"}",
               b"{\"op\":\"drop table sweeps\"}", b"{\"op\":\"" + b"x" * 100000 + b"\"}",
               b"{\"op\":\"status\\u0000\"}", b"{\"op\":\"\\u00e9t\\u00e4t\"}"]
    expect_codes(d, "unknown ops", unknown, "unknown_op")
    alive(d, "unknown ops")

    # 4. Huge numbers: out-of-range values where integers are expected.
    huge = [b"{\"op\":\"best\",\"sweep\":1,\"top\":1e400}",
            b"{\"op\":\"best\",\"sweep\":1,\"top\":1180591620717411303424}",
            b"{\"op\":\"submit\",\"grid\":{},\"priority\":1180591620717411303424}",
            b"{\"op\":\"submit\",\"grid\":{},\"priority\":-1e400}",
            b"{\"op\":\"trial\",\"id\":1e400}", b"{\"op\":\"show\",\"sweep\":1e400}",
            b"{\"op\":\"trial\",\"id\":9223372036854775808}",
            b"{\"op\":\"hello\",\"protocol\":1e308}"]
    got = raw_lines(d, b"\n".join(huge) + b"\n", len(huge))
    codes = [code(r) for r in got]
    check(len(got) == len(huge) and all(c in ("invalid_request", "not_found", "protocol")
                                         for c in codes),
          "huge numbers refused: %s" % codes)
    row("huge numbers (1e400, 2^70 as top/priority/id)", len(huge),
        "/".join(sorted(set(codes))))
    # In-range but absurd: top 2^62 and priority at the limit are fine or refused, never a crash.
    edge = [{"op": "best", "sweep": sid, "top": 2 ** 62},
            {"op": "best", "sweep": sid, "top": 0}, {"op": "best", "sweep": sid, "top": -5},
            {"op": "best", "sweep": sid, "min_seeds": 2 ** 62},
            {"op": "trial", "id": -1}, {"op": "trial", "id": 2 ** 63 - 1},
            {"op": "show", "sweep": 2 ** 63 - 1}, {"op": "hello", "protocol": 2 ** 62}]
    got = raw_lines(d, b"".join(json.dumps(x).encode() + b"\n" for x in edge), len(edge))
    check(len(got) == len(edge), "edge integers answered: %s" % [code(r) for r in got])
    row("edge integers (top 2^62, 0, -5; id 2^63-1, -1)", len(edge),
        "/".join(sorted(set(code(r) for r in got))))
    alive(d, "huge numbers")

    # 5. Deep nesting.
    deep = [b"[" * 100000, b"{\"op\":\"status\",\"x\":" + b"[" * 100000 + b"]" * 100000 + b"}",
            b"{\"a\":" * 50000 + b"1" + b"}" * 50000]
    expect_codes(d, "deep nesting (100000 '[')", deep, "invalid_request")
    alive(d, "deep nesting")

    # 6. Binary garbage, with NUL bytes.
    garbage = []
    for _ in range(200):
        b = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
        b = b.replace(b"\n", b"\0")
        garbage.append(b)
    garbage.append(b"\0" * 1000)
    garbage.append(b"{\"op\":\"status\"}\0garbage")
    got = raw_lines(d, b"\n".join(garbage) + b"\n", len(garbage))
    codes = sorted(set(code(r) for r in got))
    check(len(got) == len(garbage) and codes == ["invalid_request"],
          "binary garbage: %d lines -> %d answers %s" % (len(garbage), len(got), codes))
    row("binary garbage incl. NUL bytes (random lines)", len(garbage), "/".join(codes))
    alive(d, "binary garbage")

    # 7. A line over 16 MiB: too_large, then the connection is closed (once the
    #    oversize line has ended, so the client can read the error first).
    c = d.client(60)
    err = None
    try:
        c.send_raw(b"{\"op\":\"status\"}\n")
        chunk = b"a" * (1 << 20)
        for _ in range(17):
            c.send_raw(chunk)
        c.send_raw(b"\n")  # the line ends: the daemon may close now
    except OSError as ex:
        err = ex
    first = c.read()
    second = c.read()
    try:
        eof = c.read_line()
    except ConnectionResetError:  # closed with our unread bytes still queued: a close
        eof = None
    c.close()
    check(first.get("ok") is True and code(second) == "too_large" and eof is None,
          "16 MiB + 1 line: the line before answered, then too_large and close "
          "(%s / %s / eof=%s, send error %s)" % (code(first), code(second), eof is None, err))
    row("line over 16 MiB (one 17 MiB line)", 1,
        "%s: \"%s\", connection closed" % (code(second), second.get("error", {}).get("message")))
    alive(d, "a 17 MiB line")

    # 8. Clients that disconnect mid-line (and mid-response).
    for i in range(100):
        s = socket.socket(socket.AF_UNIX)
        s.connect(d.sock)
        s.sendall(b"{\"op\":\"status\"}\n{\"op\":\"sub" if i % 2 else b"{\"op\":\"li")
        s.close()
    for i in range(50):
        s = socket.socket(socket.AF_UNIX)
        s.connect(d.sock)
        s.sendall(b"{\"op\":\"results\",\"sweep\":%d,\"trials\":true,\"curves\":true}\n" % sid)
        s.close()
    alive(d, "150 clients hanging up mid-line / before reading")
    row("client disconnects mid-line / before reading its answer", 150, "nothing; others served")

    # 9. A client that sends many requests and never reads: others stay served
    #    and the daemon's memory stays bounded, whether it drops the client
    #    (unsent output past SERVER_MAX_PENDING) or stops reading from it.
    hog = socket.socket(socket.AF_UNIX)
    hog.connect(d.sock)
    req = (json.dumps({"op": "results", "sweep": sid, "trials": True, "curves": True}) +
           "\n").encode()
    one = len(json.dumps(d.call(json.loads(req)))) + 1
    n_req = (160 << 20) // one + 1
    stop = threading.Event()
    sent = [0]
    how = ["flood ended"]

    def flood():
        hog.settimeout(0.5)
        data = req * 100
        blocked = 0.0
        while not stop.is_set() and sent[0] < n_req:
            try:
                hog.sendall(data)
                sent[0] += 100
                blocked = 0.0
            except socket.timeout:
                blocked += 0.5
                if blocked >= 3:
                    how[0] = "daemon stopped reading (back-pressure)"
                    return
            except OSError as ex:
                how[0] = "dropped by the daemon (%s)" % ex.__class__.__name__
                return

    th = threading.Thread(target=flood, daemon=True)
    th.start()
    lat = []
    peak = 0
    t0 = time.time()
    while time.time() - t0 < 4 or (th.is_alive() and time.time() - t0 < 20):
        a = time.time()
        r = d.call({"op": "status"}, timeout=20)
        lat.append(time.time() - a)
        if not r.get("ok"):
            break
        with open("/proc/%d/status" % d.pid) as f:
            for line in f:
                if line.startswith("VmHWM"):
                    peak = max(peak, int(line.split()[1]) // 1024)
        time.sleep(0.05)
    stop.set()
    th.join(5)
    hog.close()
    check(bool(lat) and max(lat) < 5, "status answered while a client floods without reading "
          "(%d calls, max %.3f s)" % (len(lat), max(lat) if lat else -1))
    # ASan's shadow memory and quarantine inflate RSS several times over.
    cap = 1024 if os.environ.get("MLP_TEST_SANITIZED") == "1" else 300
    check(peak < cap, "daemon peak RSS stays bounded (< %d): %d MiB (%d requests of %d-byte answers "
          "sent; %s)" % (cap, peak, sent[0], one, how[0]))
    row("client sends %d requests (%d-byte answers), never reads" % (sent[0], one), 1,
        "others served (max status latency %.3f s); %s; peak RSS %d MiB"
        % (max(lat) if lat else -1, how[0], peak))
    alive(d, "a non-reading client")

    # 10. 200 clients at once, each hello + status.
    results = [None] * 200
    barrier = threading.Barrier(200)

    def one_client(i):
        try:
            try:
                c = d.client(60)
            except Exception:
                barrier.abort()
                raise
            barrier.wait(60)
            h = c.call({"op": "hello", "protocol": 1})
            s = c.call({"op": "status"})
            c.close()
            results[i] = bool(h.get("ok") and h.get("protocol") == 1 and s.get("ok"))
        except Exception as ex:  # noqa: BLE001 - any failure counts
            results[i] = repr(ex)

    ths = [threading.Thread(target=one_client, args=(i,)) for i in range(200)]
    t0 = time.time()
    for x in ths:
        x.start()
    for x in ths:
        x.join(90)
    took = time.time() - t0
    okn = sum(1 for r in results if r is True)
    check(okn == 200, "200 concurrent clients served hello+status: %d ok (%s)" %
          (okn, [r for r in results if r is not True][:3]))
    row("200 clients at once, hello + status each", 200, "all served in %.2f s" % took)
    alive(d, "200 clients")

    # 11. The trial limit: refused over it, accepted with force.
    big = {"name": "too-big", "dataset": {"name": "xor", "n": 64}, "seeds": 100001,
           "base": {"hidden": [4], "epochs": 1}}
    r = d.call({"op": "submit", "grid": big})
    check(code(r) == "too_large", "grid of 100001 trials refused: %s %s" %
          (code(r), r.get("error", {}).get("message")))
    row("grid over the trial limit (100001 > 100000)", 1,
        "%s: \"%s\"" % (code(r), r.get("error", {}).get("message", "")[:80]))
    r = d.call({"op": "submit", "grid": big, "force": True, "dry_run": True})
    check(r.get("ok") and r.get("trials") == 100001, "with force (dry run): accepted, %s trials"
          % r.get("trials"))
    r = d.call({"op": "submit", "grid": big, "force": True}, timeout=120)
    check(r.get("ok") and r["sweep"]["total"] == 100001, "with force: queued %s trials" %
          (r.get("sweep") or {}).get("total"))
    if r.get("ok"):
        c = d.call({"op": "cancel", "sweep": r["sweep"]["id"]})
        check(c.get("ok"), "forced sweep cancelled")
    row("same grid with force", 1, "accepted: 100001 trials queued (then cancelled)")

    # 12. A worker whose output is garbage: malformed events, out-of-range epoch
    #     numbers and metrics, bytes that are not UTF-8 (worker-wrapper.sh, lr 0.0333).
    bog = d.call({"op": "submit", "grid": rlib.xor_grid("bogus-worker", 2, {"lr": [0.0333]})})
    check(bog.get("ok"), "bogus-worker sweep submitted")
    bid = bog["sweep"]["id"]
    w = d.wait_sweep(bid, timeout=60)
    st = d.sql("SELECT id, state, attempts, error FROM trials WHERE sweep_id = ?", (bid,))
    check(w.get("ok") and w["sweep"]["state"] in ("done", "failed"),
          "a worker printing garbage ends its trials (%s: %s)" %
          (w.get("sweep", {}).get("state"), st))
    answers = [d.call({"op": "trial", "id": st[0][0]}), d.call({"op": "results", "sweep": bid,
                                                                 "trials": True, "curves": True}),
               d.call({"op": "best", "sweep": bid}), d.call({"op": "show", "sweep": bid})]
    check(all(a.get("ok") is not None for a in answers), "queries on those trials answer: %s" %
          [code(a) for a in answers])
    row("worker prints malformed/out-of-range events and non-UTF-8 bytes", len(st),
        "trials %s; queries answer (%s)" % ("/".join(sorted({x[1] for x in st})),
                                             "/".join(code(a) for a in answers)))
    alive(d, "a worker printing garbage")

    # Nothing bad was queued; the store is intact.
    n_sweeps = d.sql("SELECT count(*) FROM sweeps")[0][0]
    check(n_sweeps == 3, "only the three real sweeps exist (%d)" % n_sweeps)
    rlib.check_store(d, [sid])
    rc = d.stop()
    check(rc == 0, "mlpd exits 0 after all of it (%s)" % rc)
    out = d.output()
    check("AddressSanitizer" not in out and "runtime error" not in out,
          "no sanitizer report in the daemon's output")
    return rlib.report()


if __name__ == "__main__":
    sys.exit(main())
