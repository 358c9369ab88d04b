#!/usr/bin/env python3
"""Streamed answers (PROTOCOL.md "Streamed answers") through the real mlpctl:
a 100k-trial sweep's `results --trials`, a curves export over 16 MiB, `report`
with those curves, `list`, and the artifact op (listing, a file of several
chunks, refused names).  Every answer line stays under 16 MiB; the lines with
"more": true come before the last one."""
import base64
import json
import os
import socket
import sqlite3
import subprocess

from harness import HERE, SLOW, Daemon, check, done

MLPCTL = os.environ.get("MLPCTL") or os.path.join(HERE, "../../build/cli/mlpctl")
LIMIT = 16 << 20


def raw_lines(sock, req):
    """Send req, return every answer line (bytes) up to the last one."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    f = s.makefile("rb")
    s.sendall((json.dumps(req) + "\n").encode())
    out = []
    while True:
        line = f.readline()
        if not line:
            break
        out.append(line)
        doc = json.loads(line)
        if not doc.get("more"):
            break
    s.close()
    return out


def ctl(d, *args):
    env = d.env()
    env["MLPD_SOCKET"] = d.sock
    return subprocess.run([MLPCTL, "--socket", d.sock] + list(args), env=env,
                          capture_output=True, timeout=120 * SLOW)


with Daemon(workers=1) as d:
    d.start()
    # 100 learning rates x 1000 seeds = 100k trials; cancelled at once (they need not run).
    g = {"name": "huge", "dataset": {"name": "xor", "n": 200}, "seeds": 1000,
         "base": {"epochs": 1, "hidden": [4]},
         "grid": {"lr": [round(0.001 * (i + 1), 4) for i in range(100)]}}
    sid = d.ok({"op": "submit", "grid": g, "base_dir": d.home, "force": True})["sweep"]["id"]
    d.ok({"op": "cancel", "sweep": sid})

    lines = raw_lines(d.sock, {"op": "results", "sweep": sid, "trials": True})
    docs = [json.loads(x) for x in lines]
    check(len(lines) > 1 and all(len(x) < LIMIT for x in lines),
          "results --trials of 100k trials comes as several lines under 16 MiB",
          [len(x) for x in lines][:5])
    check(all(x.get("more") is True for x in docs[:-1]) and "more" not in docs[-1]
          and docs[-1].get("kind") == "trials" and "keys" in docs[-1],
          "every line but the last says more; the last carries the other fields")
    check(all(len(x) <= (1 << 20) + 65536 for x in lines), "chunks are about 1 MiB at most",
          max(len(x) for x in lines))
    ids = [r["trial"] for x in docs for r in x["rows"]]
    check(len(ids) == 100000 and ids == sorted(ids), "rows concatenate to every trial, in order",
          len(ids))

    r = ctl(d, "results", str(sid), "--trials", "--format", "csv")
    out = r.stdout.decode().splitlines()
    check(r.returncode == 0 and len(out) == 100001,
          "mlpctl results --trials writes the 100k rows", (r.returncode, len(out), r.stderr[-300:]))
    r = ctl(d, "--json", "results", str(sid))
    check(r.returncode == 0 and len(json.loads(r.stdout)["rows"]) == 100,
          "aggregated results through the same reader", r.stderr[-300:])
    r = ctl(d, "--json", "list")
    check(r.returncode == 0 and [s["id"] for s in json.loads(r.stdout)["sweeps"]] == [sid],
          "list is streamed too", r.stderr[-300:])

    # Curves over 16 MiB: epoch rows written straight into the database while mlpd is stopped.
    small = d.submit({"name": "curvy", "dataset": {"name": "xor", "n": 200}, "seeds": 2,
                      "base": {"epochs": 1, "hidden": [4]}, "grid": {"lr": [0.1, 0.2]}})
    d.wait_sweep(small)
    d.stop()
    con = sqlite3.connect(d.db)
    trials = [t for (t,) in con.execute("select id from trials where sweep_id=?", (small,))]
    rows = [(t, 1, e, 1.0 / (e + 1), 0.5, 1.0 / (e + 2), 0.5, None, None, 0.01)
            for t in trials for e in range(1, 40001)]
    con.execute("delete from epochs where trial_id in (%s)" % ",".join(map(str, trials)))
    con.executemany("insert into epochs (trial_id, attempt, epoch, train_loss, train_accuracy, "
                    "val_loss, val_accuracy, train_mse, val_mse, seconds) "
                    "values (?,?,?,?,?,?,?,?,?,?)", rows)
    con.commit()
    con.close()
    d.start()
    lines = raw_lines(d.sock, {"op": "results", "sweep": small, "curves": True})
    total = sum(len(x) for x in lines)
    check(total > LIMIT and all(len(x) < LIMIT for x in lines),
          "a curves export over 16 MiB comes in lines under the limit", (total, len(lines)))
    r = ctl(d, "results", str(small), "--curves", "--format", "csv")
    check(r.returncode == 0 and len(r.stdout.decode().splitlines()) == 160001,
          "mlpctl results --curves writes every epoch row", (r.returncode, r.stderr[-300:]))
    out_html = os.path.join(d.home, "report.html")
    r = ctl(d, "report", str(small), "--out", out_html)
    html = open(out_html, errors="replace").read() if os.path.exists(out_html) else ""
    check(r.returncode == 0 and "no per-epoch curves" not in html,
          "report draws the curves of that sweep", (r.returncode, r.stderr[-300:]))

    # Artifacts: <state dir>/artifacts/<trial>/
    trial = trials[0]
    adir = os.path.join(d.home, "artifacts", str(trial))
    os.makedirs(adir, exist_ok=True)  # mlpd creates it for every trial it starts
    blob = os.urandom(3 * 1024 * 1024 + 5)
    with open(os.path.join(adir, "model.npz"), "wb") as f:
        f.write(blob)
    with open(os.path.join(adir, "predictions.csv"), "w") as f:
        f.write("i,label\n0,1\n")
    with open(os.path.join(adir, ".hidden"), "w") as f:
        f.write("x")
    r = d.ok({"op": "artifact", "id": trial})
    check(r["files"] == [{"name": "model.npz", "bytes": len(blob)},
                         {"name": "predictions.csv", "bytes": 12}],
          "artifact without a name lists the trial's files", r)
    lines = raw_lines(d.sock, {"op": "artifact", "id": trial, "name": "model.npz"})
    docs = [json.loads(x) for x in lines]
    data = b"".join(base64.b64decode(x.get("data", "")) for x in docs)
    check(len(lines) > 1 and data == blob and docs[-1]["bytes"] == len(blob)
          and docs[-1]["name"] == "model.npz", "a file comes as base64 chunks", len(lines))
    for bad in ("../x", ".hidden", "a/b"):
        r = d.call({"op": "artifact", "id": trial, "name": bad})
        check(not r["ok"] and r["error"]["code"] == "invalid_request", "name %r refused" % bad, r)
    r = d.call({"op": "artifact", "id": trial, "name": "absent.bin"})
    check(not r["ok"] and r["error"]["code"] == "not_found", "a missing file is not_found", r)
    outdir = os.path.join(d.home, "fetched")
    os.makedirs(outdir)
    r = ctl(d, "artifact", str(trial), "--name", "model.npz", "--out", outdir)
    got = open(os.path.join(outdir, "model.npz"), "rb").read() if r.returncode == 0 else b""
    check(got == blob, "mlpctl artifact fetches the streamed file whole", r.stderr[-300:])
done()
