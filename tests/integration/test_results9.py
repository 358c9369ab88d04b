#!/usr/bin/env python3
"""Per-class results, test curves, artifacts and compare on real sweeps
(issue 9): real mlpd, real mlp-worker, small data.

- a circles sweep (2 configs x 4 seeds, "curve_test": true, "save": "model"):
  the confusion matrix, normalize and test curve reach the store, `trial`,
  `results --curves` and `show --confusion`; the artifacts directory is
  <state dir>/artifacts/<trial>/ (0700) and `trial` lists its files;
- `compare` is checked against SciPy's ttest_rel / ttest_ind computed here
  from the per-trial values of `results --trials`;
- `best --bottom` is the end of the ranking and carries the train stat;
- a sweep without curve_test has null test_* in its curve rows;
- a 10-class Fashion-MNIST sweep (train_size 500) gives a 10 x 10 matrix
  whose cells agree with the stored per-trial matrices.

SciPy comes from Debian's python3-scipy (scripts/setup.sh --test), which
installs for /usr/bin/python3: when the python3 running this lacks SciPy the
test re-runs itself there, and skips (77) when neither has it.
"""
import json
import math
import os
import stat
import subprocess
import sys

try:
    from scipy import stats as sstats
except ImportError:
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != \
            os.path.realpath("/usr/bin/python3") and not os.environ.get("RESULTS9_REEXEC"):
        env = dict(os.environ, RESULTS9_REEXEC="1")
        sys.exit(subprocess.call(["/usr/bin/python3"] + sys.argv, env=env))
    print("skip: SciPy is not installed (python3-scipy)")
    sys.exit(77)

from harness import Daemon, check, done  # noqa: E402


def close(a, b, rel=1e-9):
    return a is not None and b is not None and abs(a - b) <= rel * max(1.0, abs(b))


def mean(xs):
    return sum(xs) / len(xs)


def se(xs):
    m = mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) / math.sqrt(len(xs))


with Daemon(workers=2) as d:
    d.start()
    grid = {"name": "circ", "dataset": {"name": "circles", "n": 400}, "seeds": 4,
            "base": {"epochs": 5, "hidden": [8], "curve_test": True, "save": "model"},
            "grid": {"lr": [0.02, 0.5]}}
    sid = d.submit(grid)
    plain = {"name": "plain", "dataset": {"name": "xor", "n": 200}, "seeds": 1,
             "base": {"epochs": 2, "hidden": [4]}, "grid": {"lr": [0.1]}}
    pid = d.submit(plain)
    d.wait_sweep(sid, timeout=120)
    d.wait_sweep(pid, timeout=60)

    # ---- the store ----------------------------------------------------------
    rows = d.sql("select r.trial_id, t.config_idx, t.seed, r.confusion, r.normalize, "
                 "r.test_accuracy from results r join trials t on t.id = r.trial_id "
                 "where r.sweep_id = ? order by r.trial_id", (sid,))
    check(len(rows) == 8, "8 results stored", len(rows))
    mats = {r[0]: json.loads(r[3]) for r in rows}
    check(all(len(m) == 2 and all(len(x) == 2 for x in m) for m in mats.values()),
          "every result has a 2x2 confusion matrix")
    check(all(abs(sum(m[i][i] for i in range(2)) / sum(map(sum, m)) - r[5]) < 1e-9
              for r, m in zip(rows, mats.values())),
          "trace / sum of each matrix is its test_accuracy")
    check(all(r[4] == "standardize" for r in rows), "normalize auto resolved to standardize",
          [r[4] for r in rows])
    ep = d.sql("select count(*), count(test_loss), count(test_accuracy) from epochs e "
               "join trials t on t.id = e.trial_id where t.sweep_id = ?", (sid,))[0]
    check(ep[0] == 40 and ep[1] == 40 and ep[2] == 40, "curve_test: every epoch row has test_*", ep)

    # ---- trial --------------------------------------------------------------
    tid = rows[0][0]
    t = d.ok({"op": "trial", "id": tid})["trial"]
    m = t["metrics"]
    check(m.get("confusion") == mats[tid], "trial.metrics.confusion is the stored matrix", m)
    ca = [row[i] / sum(row) for i, row in enumerate(mats[tid])]
    check(all(close(a, b) for a, b in zip(m.get("class_accuracy", []), ca)) and
          len(m.get("class_accuracy", [])) == 2, "class_accuracy derived from the matrix", m)
    check(m.get("normalize") == "standardize", "trial.metrics.normalize", m)
    check(all(r.get("test_accuracy") is not None for r in t["curve"]) and len(t["curve"]) == 5,
          "trial.curve rows carry test_accuracy", t["curve"][:1])
    adir = os.path.join(d.home, "artifacts", str(tid))
    names = {a["name"]: a["bytes"] for a in t["artifacts"]}
    check("model.npz" in names and names["model.npz"] == os.path.getsize(
        os.path.join(adir, "model.npz")), "trial.artifacts lists model.npz with its size", names)
    check(stat.S_IMODE(os.stat(adir).st_mode) == 0o700 and
          stat.S_IMODE(os.stat(os.path.dirname(adir)).st_mode) == 0o700,
          "artifacts dirs are 0700")
    tp = d.sql("select id from trials where sweep_id = ?", (pid,))[0][0]
    tt = d.ok({"op": "trial", "id": tp})["trial"]
    check(tt["artifacts"] == [], "a trial without save lists no artifacts", tt["artifacts"])

    # ---- results --curves -----------------------------------------------------
    cur = d.ok({"op": "results", "sweep": sid, "curves": True})["rows"]
    check(len(cur) == 40 and all(isinstance(r.get("test_loss"), float) for r in cur),
          "results --curves rows carry test_loss", cur[:1])
    cur = d.ok({"op": "results", "sweep": pid, "curves": True})["rows"]
    check(cur and all("test_accuracy" in r and r["test_accuracy"] is None for r in cur),
          "without curve_test the test_* columns are null", cur[:1])

    # ---- show --confusion -------------------------------------------------------
    sh = d.ok({"op": "show", "sweep": sid, "config": 2, "confusion": True})
    co = sh["confusion"]
    ms = [mats[r[0]] for r in rows if r[1] == 2]
    check(co["classes"] == 2 and co["n"] == 4 and co["config"] == 2, "confusion header", co)
    ok = True
    for i in range(2):
        for j in range(2):
            cells = [x[i][j] for x in ms]
            rates = [x[i][j] / sum(x[i]) for x in ms]
            ok &= close(co["counts"]["mean"][i][j], mean(cells))
            ok &= close(co["counts"]["se"][i][j], se(cells))
            ok &= close(co["rates"]["mean"][i][j], mean(rates))
            ok &= close(co["rates"]["se"][i][j], se(rates))
    check(ok, "counts and rates: mean and SE per cell over seeds", co)
    acc1 = [x[1][1] / sum(x[1]) for x in ms]
    check(close(co["class_accuracy"][1]["mean"], mean(acc1)) and
          co["class_accuracy"][1]["n"] == 4, "class_accuracy stat", co["class_accuracy"])
    r = d.call({"op": "show", "sweep": sid, "config": 7, "confusion": True})
    check(not r["ok"] and r["error"]["code"] == "not_found" and r["error"]["path"] == "config",
          "show --confusion of a missing config: not_found at config", r)
    r = d.call({"op": "show", "sweep": pid, "confusion": True})
    check(not r["ok"] and r["error"]["path"] == "config", "confusion needs config", r)

    # ---- compare against SciPy ----------------------------------------------------
    trials = d.ok({"op": "results", "sweep": sid, "trials": True})["rows"]
    for metric in ("val_accuracy", "test_accuracy", "test_loss", "train_loss"):
        cmp = d.ok({"op": "compare", "sweep": sid, "a": 1, "b": 2, "metric": metric})
        a = {r["seed"]: r[metric] for r in trials if r["config"] == 1}
        b = {r["seed"]: r[metric] for r in trials if r["config"] == 2}
        seeds = sorted(set(a) & set(b))
        rel = sstats.ttest_rel([a[s] for s in seeds], [b[s] for s in seeds])
        wel = sstats.ttest_ind(list(a.values()), list(b.values()), equal_var=False)
        p, w = cmp["paired"], cmp["welch"]
        diffs = [a[s] - b[s] for s in seeds]
        same = p is not None and p["seeds"] == seeds and p["n"] == 4
        if rel.statistic == rel.statistic:  # not NaN (identical values)
            same = same and close(p["t"], float(rel.statistic)) and \
                close(p["p"], float(rel.pvalue), 1e-6)
        same = same and close(p["mean_diff"], mean(diffs)) and close(p["se"], se(diffs))
        tq = float(sstats.t.ppf(0.975, 3))
        same = same and close(p["ci_low"], mean(diffs) - tq * se(diffs), 1e-6)
        if wel.statistic == wel.statistic:
            same = same and close(w["t"], float(wel.statistic)) and \
                close(w["p"], float(wel.pvalue), 1e-6)
        check(same, "compare %s matches scipy ttest_rel (t %.6g p %.6g) and ttest_ind (t %.6g "
              "p %.6g)" % (metric, rel.statistic, rel.pvalue, wel.statistic, wel.pvalue),
              (p, w))
        if metric == "test_accuracy":
            print("compare test_accuracy: mlpd paired t=%r p=%r; scipy ttest_rel t=%r p=%r"
                  % (p["t"], p["p"], float(rel.statistic), float(rel.pvalue)))
            print("                       mlpd welch  t=%r p=%r; scipy ttest_ind t=%r p=%r"
                  % (w["t"], w["p"], float(wel.statistic), float(wel.pvalue)))
    for bad, path in (({"a": 1, "b": 9}, "b"), ({"a": 1, "b": 2, "metric": "seconds"}, "metric"),
                      ({"a": 1, "b": 2, "metric": "val_mse"}, "metric"), ({"a": 2, "b": 2}, "b")):
        r = d.call(dict({"op": "compare", "sweep": sid}, **bad))
        check(not r["ok"] and r["error"]["path"] == path, "compare refuses %s" % bad, r)

    # ---- best --bottom and the train column --------------------------------------
    top = d.ok({"op": "best", "sweep": sid, "top": 2})["configs"]
    bot = d.ok({"op": "best", "sweep": sid, "bottom": 1})
    check(bot["configs"][0]["config"]["id"] == top[1]["config"]["id"] and
          bot["configs"][0]["rank"] == 2 and bot["order"] == "worst",
          "best --bottom 1 is the last of the ranking", bot["configs"])
    tr = [r["train_accuracy"] for r in trials if r["config"] == top[0]["config"]["id"]]
    check(close(top[0]["train"]["mean"], mean(tr)) and top[0]["train"]["n"] == 4 and
          bot["train_metric"] == "train_accuracy", "best carries the train stat", top[0]["train"])
    r = d.call({"op": "best", "sweep": sid, "bottom": 0})
    check(not r["ok"] and r["error"]["path"] == "bottom", "bottom 0 refused", r)

    # ---- ten classes ----------------------------------------------------------------
    fm = {"name": "fm", "dataset": "fashion-mnist", "seeds": 3,
          "base": {"epochs": 2, "hidden": [16], "train_size": 500}, "grid": {"lr": [0.1]}}
    r = d.call({"op": "submit", "grid": fm, "base_dir": d.home})
    if not r["ok"]:
        print("note: no Fashion-MNIST here (%s); ten-class part skipped" % r["error"]["message"])
    else:
        fid = r["sweep"]["id"]
        d.wait_sweep(fid, timeout=120)
        co = d.ok({"op": "show", "sweep": fid, "config": 1, "confusion": True})["confusion"]
        ms = [json.loads(x[0]) for x in d.sql(
            "select confusion from results where sweep_id = ?", (fid,))]
        check(co["classes"] == 10 and co["n"] == 3 and len(co["rates"]["mean"]) == 10 and
              all(len(row) == 10 for row in co["counts"]["se"]), "a 10 x 10 matrix over 3 seeds")
        check(all(close(co["counts"]["mean"][i][j], mean([x[i][j] for x in ms]))
                  for i in range(10) for j in range(10)), "every 10-class cell is the seed mean")
        check(abs(sum(sum(row) for row in co["counts"]["mean"]) - sum(map(sum, ms[0]))) < 1e-9,
              "mean counts sum to the test size")
done()
