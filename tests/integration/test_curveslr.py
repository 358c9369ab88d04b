#!/usr/bin/env python3
"""The epoch's learning rate next to a grid key `lr` (SPEC.md, "results"; PROTOCOL.md).

A real sweep varies `lr` (0.1, 0.3) and runs a step lr_schedule (gamma 0.5
every epoch), so each epoch's rate differs from the configuration's `lr`.
Checked: mlpd's per-epoch rows have no key twice (the epoch's rate is
`epoch_lr` there, as the grid varies `lr`); `mlpctl results --curves --format
csv` has both columns, `lr` (the configuration's key) and `epoch_lr` (the
rate of the epoch's last batch), with every value equal to the database's
(configs.params_json, epochs.lr) bit for bit; `--json` has both members; a
sweep that does not vary `lr` gets its epoch rate as mlpd's `lr` and mlpctl's
`epoch_lr` (no `lr` column: not a grid key)."""
import csv
import io
import json
import socket

from harness import Daemon, check, ctl_out as ctl, done

SCHED = {"kind": "step", "step_size": 1, "gamma": 0.5}


def raw_rows(d, req):
    """The answer's rows, each as its list of (key, value) pairs (duplicates kept)."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(d.sock)
    f = s.makefile("rb")
    s.sendall((json.dumps(req) + "\n").encode())
    rows = []
    while True:
        doc = json.loads(f.readline(), object_pairs_hook=lambda p: p)
        top = dict(doc)
        rows.extend(top.get("rows", []))
        if not top.get("more"):
            break
    s.close()
    return rows


def db_epochs(d, sid):
    """{(trial, epoch): (configured lr, epoch lr)} from SQLite."""
    return {(r[0], r[1]): (json.loads(r[3])["lr"], r[2]) for r in d.sql(
        "SELECT e.trial_id, e.epoch, e.lr, c.params_json FROM epochs e JOIN trials t "
        "ON t.id = e.trial_id JOIN configs c ON c.sweep_id = t.sweep_id AND c.idx = t.config_idx "
        "WHERE t.sweep_id = ?", (sid,))}


with Daemon(workers=2) as d:
    d.start()
    sid = d.submit({"name": "lrgrid", "dataset": {"name": "xor", "n": 200}, "seeds": 2,
                    "base": {"epochs": 3, "hidden": [8], "lr_schedule": SCHED},
                    "grid": {"lr": [0.1, 0.3]}})
    sid2 = d.submit({"name": "lrbase", "dataset": {"name": "xor", "n": 200}, "seeds": 1,
                     "base": {"epochs": 3, "lr": 0.2, "lr_schedule": SCHED},
                     "grid": {"hidden": [[4], [8]]}})
    check(d.wait_sweep(sid, timeout=300)["done"] == 4 and
          d.wait_sweep(sid2, timeout=300)["done"] == 2, "both sweeps are done")
    ref = db_epochs(d, sid)
    check(len(ref) == 12 and all(v[1] is not None and (v[1] != v[0]) == (k[1] > 1)
                                 for k, v in ref.items()),
          "after the first epoch, each epoch's rate differs from its configuration's lr",
          sorted(ref.items())[:4])

    rows = raw_rows(d, {"op": "results", "sweep": sid, "curves": True})
    dup = [r for r in rows if len({k for k, _ in r}) != len(r)]
    check(len(rows) == 12 and not dup, "mlpd's per-epoch rows have no key twice", dup[:1])
    check(all(dict(r).get("epoch_lr") == ref[(dict(r)["trial"], dict(r)["epoch"])][1]
              and dict(r).get("lr") == ref[(dict(r)["trial"], dict(r)["epoch"])][0]
              for r in rows), "mlpd's rows: lr the key's value, epoch_lr the epoch's rate")

    out = ctl(d, "results", str(sid), "--curves", "--format", "csv")
    recs = list(csv.reader(io.StringIO(out)))
    header = recs[0]
    check(header.count("lr") == 1 and header.count("epoch_lr") == 1 and
          header.index("lr") < header.index("seed") and header[-1] == "epoch_lr",
          "curves CSV: one lr column (the key) and one epoch_lr column (last)", header)
    col = {c: i for i, c in enumerate(header)}
    bad = [r for r in recs[1:]
           if (float(r[col["lr"]]), float(r[col["epoch_lr"]])) !=
           ref[(int(r[col["trial"]]), int(r[col["epoch"]]))]]
    check(len(recs) == 13 and not bad,
          "curves CSV: lr and epoch_lr equal the database's, bit for bit", bad[:3])

    doc = json.loads(ctl(d, "--json", "results", str(sid), "--curves"),
                     object_pairs_hook=lambda p: p)
    jrows = [dict(r) for r in dict(doc)["rows"]]
    check(len(jrows) == 12 and all((r["lr"], r["epoch_lr"]) == ref[(r["trial"], r["epoch"])]
                                   for r in jrows),
          "curves JSON: lr and epoch_lr both, equal to the database's")

    # lr not a grid key: mlpd sends the rate as "lr"; mlpctl writes it as epoch_lr.
    ref2 = db_epochs(d, sid2)
    rows = [dict(r) for r in raw_rows(d, {"op": "results", "sweep": sid2, "curves": True})]
    check(len(rows) == 6 and all(r["lr"] == ref2[(r["trial"], r["epoch"])][1] and
                                 "epoch_lr" not in r for r in rows),
          "without an lr key, mlpd's rows carry the epoch's rate as lr")
    recs = list(csv.reader(io.StringIO(ctl(d, "results", str(sid2), "--curves", "--format",
                                           "csv"))))
    header = recs[0]
    col = {c: i for i, c in enumerate(header)}
    check("lr" not in header and header[-1] == "epoch_lr" and len(recs) == 7 and
          all(float(r[col["epoch_lr"]]) == ref2[(int(r[0]), int(r[col["epoch"]]))][1]
              for r in recs[1:]),
          "without an lr key, the curves CSV has epoch_lr, the epoch's rate", header)
    check(d.stop() == 0, "mlpd exits cleanly")
done()
