#!/usr/bin/env python3
"""python/mlpsweep.py against a real mlpd: submit (a dict and a grid file with a
relative dataset path), wait, best, results as rows (per configuration, trial,
epoch; streamed answers joined), list/tag/note, errors as MlpdError, and a
pandas DataFrame when pandas is installed."""
import json
import os
import sys

from harness import Daemon, check, done, tiny_grid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../../python"))
import mlpsweep  # noqa: E402

with Daemon(workers=2) as d:
    d.start()
    os.environ["MLPD_SOCKET"] = d.sock
    with mlpsweep.Client() as c:
        check(c.version is not None, "hello answers with the daemon's version", c.version)
        sid = c.submit(tiny_grid("py", seeds=3))
        s = c.wait(sid)
        check(s["state"] == "done" and s["done"] == 6, "submit + wait", s)
        b = c.best(sid, top=2)
        ref = d.ok({"op": "best", "sweep": sid, "top": 2})
        ref.pop("ok")
        check(b == ref, "best is the daemon's best answer", (b, ref))
        rows = c.results(sid, as_frame=False)
        check(len(rows) == 2 and {r["lr"] for r in rows} == {0.1, 0.3} and all(r["n"] == 3 for r in rows),
              "results: one row per configuration with the grid key", rows)
        trials = c.results(sid, trials=True, as_frame=False)
        check(len(trials) == 6 and all(t["state"] == "done" for t in trials), "results(trials=True)", len(trials))
        curves = c.results(sid, curves=True, as_frame=False)
        check(len(curves) == 12 and all("val_accuracy" in r for r in curves), "results(curves=True): 6 trials x 2 epochs",
              len(curves))
        try:
            import pandas  # noqa: F401
            df = c.results(sid, trials=True)
            check(list(df.shape) == [6, len(trials[0])], "a DataFrame when pandas is present", df.shape)
        except ImportError:
            check(c.results(sid) == rows, "rows (list of dicts) without pandas")

        # A grid file with a relative dataset path, resolved against the file's directory.
        gdir = os.path.join(d.home, "grids")
        os.mkdir(gdir)
        with open(os.path.join(gdir, "train.csv"), "w") as f:
            f.write("".join("%d,%d,%d\n" % (i % 7, i % 5, i % 2) for i in range(60)))
        g = {"dataset": {"format": "csv", "train": "train.csv", "test": "train.csv", "label": "last"},
             "base": {"epochs": 1, "hidden": [4]}, "grid": {"lr": [0.1]}}
        with open(os.path.join(gdir, "fromfile.json"), "w") as f:
            json.dump(g, f)
        sid2 = c.submit(os.path.join(gdir, "fromfile.json"))
        s2 = c.wait(sid2)
        check(s2["name"] == "fromfile" and s2["done"] == 1, "submit(path): named after the file, relative data found", s2)

        check(c.tag(sid, owner="ann") == {"owner": "ann"}, "tag", None)
        check([x["id"] for x in c.list(tag="owner=ann")] == [sid], "list(tag=...)", None)
        n = c.note(sid, "looks fine")
        check(n["version"] == 1, "note", n)
        try:
            c.note(sid, "stale", version=0)
            check(False, "a stale note edit raises")
        except mlpsweep.MlpdError as e:
            check(e.code == "conflict" and e.path == "version", "a stale note edit raises MlpdError conflict", e)
        try:
            c.wait("no-such-sweep")
            check(False, "an unknown sweep raises")
        except mlpsweep.MlpdError as e:
            check(e.code == "not_found" and e.path == "sweep", "an unknown sweep raises MlpdError not_found", e)
        try:
            c.submit({"dataset": "xor", "grid": {"lr": ["fast"]}})
            check(False, "an invalid grid raises")
        except mlpsweep.MlpdError as e:
            check(e.code in ("invalid_grid", "invalid_dataset") and e.path, "an invalid grid names its place", e)
    try:
        mlpsweep.Client(os.path.join(d.home, "nope.sock"))
        check(False, "no daemon raises")
    except ConnectionError as e:
        check("nope.sock" in str(e), "no daemon: ConnectionError naming the socket", e)

done()
