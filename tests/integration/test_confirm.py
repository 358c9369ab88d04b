#!/usr/bin/env python3
"""Confirmation on fresh seeds (issue 18) through the real mlpd and workers.

A circles sweep on seeds [7, 3, 5] with "confirm": {"top": 2, "seeds": 3} and
halving pruning: two learning rates that learn and one that cannot (pruned).
When the search has ended, the two best configurations of the selection
ranking run again on seeds 8, 9, 10 — never used in selection.  The
confirmation trials are not pruned, and count nowhere in selection: best's
ranking, show, the summary's best, compare and importance read the selection
trials only, while best also shows the confirmed ranking with its test
metric.  A restarted mlpd does not confirm twice."""
import json
import os
import subprocess
import sys
import tempfile

from harness import HERE, Daemon, check, done

MLPCTL = os.environ.get("MLPCTL") or os.path.join(HERE, "../../build/cli/mlpctl")
SEL_SEEDS = [7, 3, 5]


def ctl(d, *args, timeout=120):
    return subprocess.run([MLPCTL, "--socket", d.sock] + list(args), env=d.env(),
                          capture_output=True, timeout=timeout, text=True)


grid = {"name": "confirmed", "dataset": {"name": "circles", "n": 400, "noise": 0.1},
        "seeds": SEL_SEEDS, "base": {"epochs": 9, "hidden": [16], "batch_size": 16},
        "grid": {"lr": [0.1, 0.03, 0.00001]},
        "prune": {"kind": "halving", "min_epochs": 1, "eta": 3},
        "confirm": {"top": 2, "seeds": 3}}

home = tempfile.mkdtemp(prefix="mlpd-it-confirm-")
d = Daemon(workers=2, home=home)
try:
    d.start()
    dry = d.ok({"op": "submit", "grid": grid, "dry_run": True})
    check(dry["trials"] == 9 and dry["trials_max"] == 15 and
          dry["confirm"] == {"top": 2, "seeds": 3, "first_seed": 8},
          "the dry run says what runs and what the confirmation adds", dry)
    sid = d.submit(grid)
    end = d.wait_sweep(sid, timeout=300)
    # Halving is asynchronous: where trials are slow (sanitizers), lr 0.03 reaches the
    # epoch-3 rung while lr 0.1's seeds are there, is worse on every seed and is pruned
    # (rightly); then only one configuration is left to confirm and this scenario (two
    # confirmed) did not happen.  Say so and skip rather than assert on another scenario.
    early = dict(d.sql("select idx, pruned_epoch from configs where sweep_id=?", (sid,)))
    if early.get(2) is not None:
        print("SKIP: lr 0.03 was pruned at epoch %s on this run's timing; the two-confirmed "
              "scenario needs it to finish first" % early[2])
        d.stop()
        sys.exit(77)
    check(end["state"] == "done" and end["total"] == 15 and end["trials_max"] == 15,
          "the sweep ends done with its 6 confirmation trials", end)
    rows = d.sql("select config_idx, seed, state, confirm from trials where sweep_id=? "
                 "order by id", (sid,))
    conf = [r for r in rows if r[3] == 1]
    sel = [r for r in rows if r[3] == 0]
    check(sorted({r[1] for r in conf}) == [8, 9, 10] and
          not {r[1] for r in conf} & set(SEL_SEEDS) and {r[1] for r in sel} == set(SEL_SEEDS),
          "confirmation seeds are fresh: disjoint from the selection seeds", rows)
    check(all(r[2] == "done" for r in conf) and len(conf) == 6,
          "confirmation trials run to the end (never pruned)", conf)
    check(max(i for i, r in enumerate(rows) if r[3] == 0) <
          min(i for i, r in enumerate(rows) if r[3] == 1),
          "they are queued after every selection trial has ended", rows)
    pruned = dict(d.sql("select idx, pruned_epoch from configs where sweep_id=?", (sid,)))
    check(pruned[3] is not None and pruned[1] is None and pruned[2] is None,
          "the configuration that cannot learn is pruned", pruned)

    best = d.ok({"op": "best", "sweep": sid, "top": 3})
    ranked = [c["config"]["id"] for c in best["configs"]]
    check(sorted({r[0] for r in conf}) == sorted(ranked[:2]),
          "the top 2 of the selection ranking are confirmed", (ranked, conf))
    check(all(c["stat"]["n"] == 3 for c in best["configs"]),
          "best's selection ranking counts the selection seeds only", best["configs"])
    co = best["confirmed"]
    check(co and co["seeds"] == [8, 9, 10] and len(co["configs"]) == 2 and
          all(c["stat"]["n"] == 3 and c["test"]["n"] == 3 and
              c["selection_rank"] in (1, 2) for c in co["configs"]),
          "best has the confirmed ranking with its test metric and each one's selection rank",
          co)
    acc = d.sql("select config_idx, val_accuracy from results r where sweep_id=? and "
                "confirm=1", (sid,))
    c1 = co["configs"][0]
    mean1 = sum(v for c, v in acc if c == c1["config"]["id"]) / 3
    check(abs(c1["stat"]["mean"] - mean1) < 1e-9,
          "the confirmed mean is the mean of the confirmation trials", (c1, acc))
    check(end["best"]["n"] == 3, "the summary's best counts selection seeds only", end["best"])
    show = d.ok({"op": "show", "sweep": sid})
    srows = {c["config"]["id"]: c for c in show["configs"]}
    check(srows[1]["seeds_done"] == 3 and srows[1]["seeds_total"] == 3 and
          srows[ranked[0]]["confirm_trials"] == 3,
          "show counts selection seeds; confirmation trials apart", srows[1])
    cmp_ = d.ok({"op": "compare", "sweep": sid, "a": 1, "b": 2})
    check(cmp_["paired"]["n"] == 3 and cmp_["a"]["stat"]["n"] == 3,
          "compare pairs the selection seeds only", cmp_["paired"])
    res = d.ok({"op": "results", "sweep": sid, "trials": True})
    flagged = [r for r in res["rows"] if r.get("confirm")]
    check(len(flagged) == 6 and {r["seed"] for r in flagged} == {8, 9, 10},
          "per-trial results mark the confirmation trials", flagged[:2])
    agg = d.ok({"op": "results", "sweep": sid})
    check(all(r["n"] == (0 if pruned[r["config"]] else 3) for r in agg["rows"]),
          "aggregated results count selection seeds", [(r["config"], r["n"]) for r in agg["rows"]])

    p = ctl(d, "best", "confirmed", "--top", "2")
    check(p.returncode == 0 and "Confirmed on 3 fresh seeds (8..10)" in p.stdout and
          "SELECTION" in p.stdout and "test_accuracy" in p.stdout,
          "mlpctl best shows both rankings", p.stdout + p.stderr)
    p = ctl(d, "importance", "confirmed", "--json")
    imp = json.loads(p.stdout) if p.returncode == 0 else {}
    check(p.returncode == 0 and imp.get("seeds") == 3,
          "importance reads the selection seeds only", p.stdout + p.stderr)
    p = ctl(d, "trial", str([i for i, in d.sql("select id from trials where sweep_id=? and "
                                              "confirm=1", (sid,))][0]), "--json")
    check(p.returncode == 0 and json.loads(p.stdout)["trial"].get("confirm") is True,
          "trial marks a confirmation trial", p.stdout[:300])
finally:
    d.stop()

# A restart does not confirm again.
d2 = Daemon(workers=2, home=home)
with d2:
    d2.start()
    n = d2.sql("select count(*) from trials where sweep_id=?", (sid,))[0][0]
    check(n == 15, "a restarted mlpd does not confirm twice", n)
done()
