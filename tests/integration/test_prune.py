#!/usr/bin/env python3
"""Pruning (issue 18) through the real mlpd and workers: a halving sweep with two
learning rates that learn circles and two too small to learn anything.  The
trials are queued configuration by configuration; configurations clearly worse
than the rung's leader (one-sided paired t-test over shared seeds) are stopped:
state 'pruned', curves kept up to where they stopped, queued seeds never run,
counted in the summary, left out of best and show's ranking.  A crash between
an epoch row and its decision is repaired at start-up from the stored epochs.
The rank rule and the pooled rule prune too."""
import json
import os
import subprocess
import tempfile

from harness import HERE, Daemon, check, done

MLPCTL = os.environ.get("MLPCTL") or os.path.join(HERE, "../../build/cli/mlpctl")
EPOCHS = 27


def ctl(d, *args, timeout=120):
    return subprocess.run([MLPCTL, "--socket", d.sock] + list(args), env=d.env(),
                          capture_output=True, timeout=timeout, text=True)


def grid(name, rule="ttest"):
    return {"name": name, "dataset": {"name": "circles", "n": 4000, "noise": 0.1}, "seeds": 3,
            "base": {"epochs": EPOCHS, "hidden": [64, 64], "batch_size": 16},
            "grid": {"lr": [0.1, 0.05, 0.0001, 0.00005]},
            "prune": {"kind": "halving", "min_epochs": 1, "eta": 3, "rule": rule}}


home = tempfile.mkdtemp(prefix="mlpd-it-prune-")
d = Daemon(workers=2, home=home)
try:
    d.start()
    sid = d.submit(grid("halved"))
    order = d.sql("select config_idx, seed from trials where sweep_id=? order by id", (sid,))
    check(order == [(c, s) for c in range(1, 5) for s in range(1, 4)],
          "a pruning sweep queues its trials configuration by configuration", order)
    end = d.wait_sweep(sid, timeout=900)
    check(end["state"] == "done", "the sweep ends done", end["state"])
    pruned_cfg = dict(d.sql("select idx, pruned_epoch from configs where sweep_id=?", (sid,)))
    check(all(pruned_cfg[c] in (1, 3, 9) for c in (3, 4)),
          "both configurations that cannot learn are pruned at a rung (1, 3 or 9)", pruned_cfg)
    check(pruned_cfg[1] is None or pruned_cfg[2] is None, "the leader is not pruned", pruned_cfg)
    states = d.sql("select t.id, t.config_idx, t.state, (select max(epoch) from epochs e "
                   "where e.trial_id=t.id), (select count(*) from results r where "
                   "r.trial_id=t.id) from trials t where sweep_id=? order by id", (sid,))
    pruned = [r for r in states if r[2] == "pruned"]
    check(len(pruned) >= 2 and all(pruned_cfg[r[1]] is not None for r in pruned),
          "trials of pruned configurations end 'pruned'", states)
    check(all(r[4] == 0 for r in pruned), "a pruned trial has no result", pruned)
    # Stopped where it was: before its last epoch, or (when the decision came while
    # its last epoch's test pass ran, as on a slow machine) after it, with no result.
    check(all(r[3] is None or r[3] <= EPOCHS for r in pruned),
          "pruned trials stopped where they were, their curves kept", pruned)
    check(all(r[2] in ("done", "pruned") for r in states), "every trial is done or pruned", states)
    check(end["pruned"] == len(pruned) and end["done"] + end["pruned"] == end["total"],
          "the summary counts pruned trials", end)
    spent = d.sql("select count(*) from epochs e join trials t on t.id=e.trial_id "
                  "where t.sweep_id=?", (sid,))[0][0]
    check(spent < 12 * EPOCHS, "fewer trial-epochs than the full grid (%d)" % (12 * EPOCHS),
          spent)
    check("pruned at epoch" in d.log() and "one-sided paired t" in d.log(),
          "mlpd logs each decision with its test", d.log()[-500:])

    best = d.ok({"op": "best", "sweep": sid, "top": 4})
    ranked = [c["config"]["id"] if isinstance(c["config"], dict) else c["config"]
              for c in best["configs"]]
    check(ranked and not any(pruned_cfg[c] for c in ranked),
          "best ranks no pruned configuration", ranked)
    show = d.ok({"op": "show", "sweep": sid})
    rows = {c["config"]["id"]: c for c in show["configs"]}
    check(all(rows[c]["rank"] is None and rows[c]["pruned"] == pruned_cfg[c] for c in (3, 4)),
          "show: pruned configurations carry their rung and no rank", rows[3])
    p = ctl(d, "show", "halved")
    check(p.returncode == 0 and "pruned@" in p.stdout, "mlpctl show marks them pruned@EPOCH",
          p.stdout)
    p = ctl(d, "list")
    check(p.returncode == 0 and "pruned" in p.stdout, "mlpctl list counts pruned trials",
          p.stdout)
    st = d.ok({"op": "status"})
    check(st["trials"]["pruned"] == len(pruned), "status counts pruned trials", st["trials"])

    # The rank rule (plain ASHA: the top 1/eta go on).
    sid2 = d.submit(grid("ranked", rule="rank"))
    end2 = d.wait_sweep(sid2, timeout=900)
    n2 = d.sql("select count(*) from configs where sweep_id=? and pruned_epoch is not null",
               (sid2,))[0][0]
    check(end2["state"] == "done" and n2 >= 1 and end2["pruned"] >= 1,
          "the rank rule prunes configurations too", (n2, end2))

    # The pooled rule: the seed variance pooled over the rung's configurations.
    sid3 = d.submit(grid("pooled", rule="pooled"))
    end3 = d.wait_sweep(sid3, timeout=900)
    p3 = dict(d.sql("select idx, pruned_epoch from configs where sweep_id=?", (sid3,)))
    check(end3["state"] == "done" and all(p3[c] in (1, 3, 9) for c in (3, 4)) and
          (p3[1] is None or p3[2] is None),
          "the pooled rule prunes both configurations that cannot learn, not the leader", p3)
    check("variance pooled over" in d.log(), "mlpd logs the pooled test", d.log()[-400:])
finally:
    d.stop()

# A crash between the epoch rows and the decision: undo one decision in the
# database (as if mlpd died before writing it) and restart: start-up decides
# again from the stored epochs, before any trial of that configuration runs.
import sqlite3  # noqa: E402
con = sqlite3.connect(os.path.join(home, "mlpd.db"))
with con:
    c4 = con.execute("select pruned_epoch from configs where sweep_id=? and idx=4",
                     (sid,)).fetchone()[0]
    undone = con.execute("update trials set state='queued', finished=null where sweep_id=? and "
                         "config_idx=4 and state='pruned'", (sid,)).rowcount
    con.execute("update configs set pruned_epoch=null where sweep_id=? and idx=4", (sid,))
    attempts = con.execute("select sum(attempts) from trials where sweep_id=? and config_idx=4",
                           (sid,)).fetchone()[0]
con.close()
d2 = Daemon(workers=1, home=home)
with d2:
    d2.start()
    again = d2.sql("select pruned_epoch from configs where sweep_id=? and idx=4", (sid,))[0][0]
    check(undone >= 1 and again is not None and again <= c4 * 3,
          "start-up prunes the configuration again from the stored epochs", (undone, c4, again))
    check(d2.sql("select sum(attempts) from trials where sweep_id=? and config_idx=4",
                 (sid,))[0][0] == attempts and
          d2.sql("select count(*) from trials where sweep_id=? and config_idx=4 and "
                 "state='queued'", (sid,))[0][0] == 0,
          "and none of its trials ran again", attempts)
    check(d2.wait_sweep(sid, timeout=60)["state"] == "done", "the sweep is done again")
done()
