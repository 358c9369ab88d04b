#!/usr/bin/env python3
"""Constant-memory exports: `mlpctl results` writes rows as mlpd's lines arrive.

A finished sweep of 30,000 trials with one epoch row each (bigsweep.py: a
small real sweep, the other seeds written into its SQLite database) is
exported through the real mlpd and mlpctl as CSV and JSON, per trial, per
epoch (--curves) and per configuration.  Checked: mlpctl's peak RSS stays
under 50 MiB (gathering the rows first took about 6 KiB per row); the output
has every row, equal to what SQLite holds (the slow reference) and, for JSON,
to the answer's lines joined as PROTOCOL.md says; the first of several lines
carries "head"; `--out FILE` writes the same bytes; a reader that goes away
(`| head -1`) ends mlpctl quietly.  Under MLP_TEST_SANITIZED=1 the sweep is
smaller and the RSS bound is not checked (the sanitizers' own memory)."""
import csv
import io
import json
import os
import socket
import subprocess
import sys

from harness import HERE, Daemon, check, done
import bigsweep

MLPCTL = os.environ.get("MLPCTL") or os.path.join(HERE, "../../build/cli/mlpctl")
SANITIZED = os.environ.get("MLP_TEST_SANITIZED") == "1"
N = 4000 if SANITIZED else 30000
RSS_LIMIT_KIB = 50 * 1024

# Runs argv as a child of a small process and reports the child's peak RSS (ru_maxrss, KiB)
# on its stderr's last line.  (A child forked from this test would count the test's own
# pages in its peak.)
LAUNCH = ("import os, sys\n"
          "pid = os.fork()\n"
          "if pid == 0:\n"
          "    os.execv(sys.argv[1], sys.argv[1:])\n"
          "_, st, ru = os.wait4(pid, 0)\n"
          "sys.stderr.write('\\nMAXRSS %d\\n' % ru.ru_maxrss)\n"
          "sys.exit(os.waitstatus_to_exitcode(st))\n")


def ctl(d, *args, stdout=subprocess.PIPE):
    """Run mlpctl; returns (exit code, stdout bytes, stderr text, peak RSS in KiB)."""
    p = subprocess.run([sys.executable, "-c", LAUNCH, MLPCTL, "--socket", d.sock] + list(args),
                       stdout=stdout, stderr=subprocess.PIPE, timeout=600)
    err = p.stderr.decode(errors="replace")
    for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        if marker in err:
            check(False, "mlpctl sanitizer report", err[err.index(marker):][:1500])
    rss = [int(x.split()[1]) for x in err.splitlines() if x.startswith("MAXRSS ")]
    return p.returncode, p.stdout, err.rsplit("\nMAXRSS", 1)[0], rss[-1] if rss else None


def first_wins(pairs):
    """An object from its pairs; a key twice is an error (an epoch row of a sweep with an
    "lr" grid key once had "lr" twice: the key's value, then the epoch's rate, now
    "epoch_lr")."""
    o = {}
    for k, v in pairs:
        if k in o:
            raise AssertionError("key %r twice in a row of mlpd's answer" % k)
        o[k] = v
    return o


def raw_answer(sock, req):
    """The answer's lines, parsed."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    f = s.makefile("rb")
    s.sendall((json.dumps(req) + "\n").encode())
    out = []
    while True:
        doc = json.loads(f.readline(), object_pairs_hook=first_wins)
        out.append(doc)
        if not doc.get("more"):
            break
    s.close()
    return out


def rss_ok(what, rss):
    if SANITIZED:
        return
    check(rss is not None and rss <= RSS_LIMIT_KIB,
          "%s: mlpctl peak RSS %.1f MiB <= 50 MiB" % (what, (rss or 0) / 1024.0), rss)


def same(a, b):
    """JSON values equal, numbers bit for bit (mlpctl --json prints the shortest text that
    reads back to the same double, as mlpd does)."""
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and a == b
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(same, a, b))
    return a == b


def num(text):
    return None if text == "" else float(text)


with Daemon(workers=2) as d:
    d.start()
    sid, n = bigsweep.build(d, N, name="big", epochs=1)
    ref = bigsweep.reference(d, sid)
    ref_ep = bigsweep.reference(d, sid, curves=True)
    check(len(ref) == n and len(ref_ep) == n, "the sweep has %d trials, one epoch each" % n,
          (len(ref), len(ref_ep)))

    # The protocol: several lines, the first with "head" = the last one's other fields.
    lines = raw_answer(d.sock, {"op": "results", "sweep": sid, "trials": True})
    last = dict(lines[-1])
    rows_raw = [r for x in lines for r in x["rows"]]
    del last["ok"], last["rows"]
    check(len(lines) >= 2 and lines[0].get("head") == last
          and all("head" not in x for x in lines[1:]),
          "a streamed results answer carries head on its first line", list(lines[0])[:6])
    one = raw_answer(d.sock, {"op": "results", "sweep": sid})
    check(len(one) == 1 and "head" not in one[0] and len(one[0]["rows"]) == 20,
          "an answer of one line has no head")

    # Per trial, CSV.
    rc, out, err, rss = ctl(d, "results", str(sid), "--trials", "--format", "csv")
    text = out.decode()
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    want = ["trial", "config", "lr", "hidden", "seed", "state", "attempts"]
    check(rc == 0 and header[:7] == want and header[-1] == "error" and "val_accuracy" in header,
          "trials CSV: exit 0 and the documented columns", (rc, header, err[-300:]))
    check(len(rows) == n + 1, "trials CSV has every trial", len(rows))
    col = {c: i for i, c in enumerate(header)}
    bad = [r for r in rows[1:]
           if ref.get(int(r[col["trial"]])) != (int(r[col["config"]]), int(r[col["seed"]]),
                                                r[col["state"]], num(r[col["val_accuracy"]]))]
    check(len({r[0] for r in rows[1:]}) == n and not bad,
          "trials CSV rows equal the database's (trial, config, seed, state, val_accuracy)",
          bad[:3])
    rss_ok("trials CSV", rss)

    # Per trial, JSON: one document, the answer's lines joined.
    rc, out, err, rss = ctl(d, "--json", "results", str(sid), "--trials")
    try:
        doc = json.loads(out)
    except ValueError as ex:
        doc = {"error": str(ex)}
    check(rc == 0 and list(doc)[:-1] == list(last) and list(doc)[-1] == "rows",
          "trials JSON: one document, the answer's fields then rows", (rc, list(doc), err[-300:]))
    check(all(same(doc.get(k), v) for k, v in last.items()), "trials JSON: the answer's fields")
    check(same(doc.get("rows"), rows_raw), "trials JSON rows equal the answer's rows, in order",
          len(doc.get("rows", [])))
    check(all(same(list(ref.get(r["trial"])),
                   [r["config"], r["seed"], r["state"], r["val_accuracy"]])
              for r in doc.get("rows", [])), "trials JSON rows equal the database's")
    rss_ok("trials JSON", rss)

    # --out writes the same bytes under the final name.
    path = os.path.join(d.home, "trials.json")
    rc2, _, err2, _ = ctl(d, "--json", "results", str(sid), "--trials", "--out", path)
    check(rc2 == 0 and open(path, "rb").read() == out and ("wrote %d rows" % n) in err2,
          "--out FILE: the same document, and how many rows", err2[-300:])
    check(not [f for f in os.listdir(d.home) if ".tmp." in f], "no temporary file left")

    # Per epoch (--curves), CSV and JSON.
    rc, out, err, rss = ctl(d, "results", str(sid), "--curves", "--format", "csv")
    rows = list(csv.reader(io.StringIO(out.decode())))
    header = rows[0] if rows else []
    check(rc == 0 and header[:6] == ["trial", "config", "lr", "hidden", "seed", "epoch"]
          and "val_loss" in header,
          "curves CSV: exit 0 and the documented columns", (rc, header, err[-300:]))
    col = {c: i for i, c in enumerate(header)}
    got = {(int(r[0]), int(r[col["epoch"]])): (int(r[1]), int(r[col["seed"]]),
                                               num(r[col["val_loss"]])) for r in rows[1:]}
    check(len(rows) - 1 == len(ref_ep) and got == ref_ep,
          "curves CSV rows equal the database's epochs", (len(rows) - 1, len(ref_ep)))
    rss_ok("curves CSV", rss)
    rc, out, err, rss = ctl(d, "--json", "results", str(sid), "--curves")
    lines = raw_answer(d.sock, {"op": "results", "sweep": sid, "curves": True})
    want = dict(lines[-1])
    want["rows"] = [r for x in lines for r in x["rows"]]
    del want["ok"]
    try:
        doc = json.loads(out)
    except ValueError as ex:
        doc = {"error": str(ex)}
    check(rc == 0 and same(doc, want),
          "curves JSON: one document equal to the answer's lines joined",
          (rc, len(doc.get("rows", [])), err[-300:]))
    rss_ok("curves JSON", rss)

    # Per configuration (one line): same reader.
    rc, out, err, rss = ctl(d, "--json", "results", str(sid))
    want = dict(one[0])
    del want["ok"]
    check(rc == 0 and same(json.loads(out), want), "configs JSON equals the answer", err[-300:])
    rc, out, err, rss = ctl(d, "results", str(sid), "--format", "csv")
    check(rc == 0 and len(out.decode().splitlines()) == 21, "configs CSV: 20 rows", err[-300:])

    # A reader that goes away: mlpctl stops without an error, mlpd carries on.
    p = subprocess.run("'%s' --socket '%s' results %d --trials --format csv | head -1"
                       % (MLPCTL, d.sock, sid), shell=True, capture_output=True, timeout=600)
    check(p.returncode == 0 and p.stdout.decode().startswith("trial,config,lr,hidden")
          and b"mlpctl" not in p.stderr, "results | head -1: first line, no error",
          (p.returncode, p.stderr[-300:]))
    check(d.ok({"op": "status"})["ok"], "mlpd answers after the reader went away")
done()
