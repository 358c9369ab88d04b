#!/usr/bin/env python3
"""mlpctl writes numbers that read back to the same double (SPEC.md, "results").

A real sweep (2 configurations x 3 seeds, 4 epochs, through mlpd and
mlp-worker) is read back through mlpctl: `--json results --trials`,
`--json results --curves`, `results --trials --format csv`, `--json trial ID`
and `--json results` (per configuration).  Every metric must equal, bit for
bit, the value in the SQLite file (read with Python's sqlite3), and the
per-configuration means the value in mlpd's own answer line (which prints
them exactly).  cJSON's printing kept 15 significant digits whenever they
read back within its tolerance, so most metrics came out a few units in the
last place off; the test first checks that the sweep has such values."""
import csv
import io
import json

from harness import Daemon, check, ctl_out as ctl, done, tiny_grid

METRICS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "test_loss",
           "test_accuracy", "seconds")
EPOCH_METRICS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds")


def mismatches(got, want):
    """(key, got, want) for every value not equal to the bit (None = null)."""
    bad = []
    for k, w in want.items():
        g = got.get(k)
        if not (g == w and (g is None) == (w is None)):
            bad.append((k, g, w))
    return bad


with Daemon(workers=2) as d:
    d.start()
    sid = d.submit(tiny_grid("exact", seeds=3, epochs=4))
    s = d.wait_sweep(sid, timeout=300)
    check(s["done"] == 6, "the sweep is done", s)
    db = {r[0]: dict(zip(METRICS, r[1:])) for r in d.sql(
        "SELECT t.id, %s FROM trials t JOIN results r ON r.trial_id = t.id WHERE t.sweep_id = ?"
        % ", ".join("r." + m for m in METRICS), (sid,))}
    ep = {(r[0], r[1]): dict(zip(EPOCH_METRICS, r[2:])) for r in d.sql(
        "SELECT e.trial_id, e.epoch, %s FROM epochs e JOIN trials t ON t.id = e.trial_id "
        "WHERE t.sweep_id = ?" % ", ".join("e." + m for m in EPOCH_METRICS), (sid,))}
    lossy = [v for row in db.values() for v in row.values()
             if isinstance(v, float) and float("%.15g" % v) != v]
    check(len(db) == 6 and len(ep) == 24 and len(lossy) >= 6,
          "the sweep has metrics that 15 significant digits do not carry",
          (len(db), len(ep), len(lossy)))

    doc = json.loads(ctl(d, "--json", "results", str(sid), "--trials"))
    bad = [(r["trial"], mismatches(r, db[r["trial"]])) for r in doc["rows"]
           if mismatches(r, db[r["trial"]])]
    check(len(doc["rows"]) == 6 and not bad,
          "--json results --trials: every metric equals the database's, bit for bit", bad[:3])

    doc = json.loads(ctl(d, "--json", "results", str(sid), "--curves"))
    bad = [mismatches(r, ep[(r["trial"], r["epoch"])]) for r in doc["rows"]]
    bad = [b for b in bad if b]
    check(len(doc["rows"]) == 24 and not bad,
          "--json results --curves: every epoch metric equals the database's", bad[:3])

    rows = list(csv.DictReader(io.StringIO(ctl(d, "results", str(sid), "--trials",
                                               "--format", "csv"))))
    bad = [(r["trial"], mismatches({k: float(r[k]) for k in METRICS}, db[int(r["trial"])]))
           for r in rows]
    bad = [b for b in bad if b[1]]
    check(len(rows) == 6 and not bad, "results --format csv: every metric equals the database's",
          bad[:3])

    tid = min(db)
    doc = json.loads(ctl(d, "--json", "trial", str(tid)))
    res = doc.get("trial", {}).get("metrics") or {}
    bad = mismatches({k: res.get(k) for k in METRICS if k in res}, {k: db[tid][k] for k in METRICS
                                                                   if k in res})
    check(sum(1 for k in METRICS if k in res) >= 6 and not bad,
          "--json trial: its metrics equal the database's", (sorted(res)[:12], bad))

    raw = d.ok({"op": "results", "sweep": sid})
    doc = json.loads(ctl(d, "--json", "results", str(sid)))
    want = {(r["config"], k): v for r in raw["rows"] for k, v in r.items()
            if isinstance(v, float)}
    got = {(r["config"], k): v for r in doc["rows"] for k, v in r.items() if isinstance(v, float)}
    check(len(want) >= 20 and got == want,
          "--json results: per-configuration means and sds equal mlpd's answer, bit for bit",
          [(k, got.get(k), v) for k, v in want.items() if got.get(k) != v][:3])
    check(d.stop() == 0, "mlpd exits cleanly")
done()
