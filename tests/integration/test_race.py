#!/usr/bin/env python3
"""Racing on seeds (issue 18) through the real mlpd and workers.

Three configurations of a circles sweep with "seeds": {"min": 3, "max": 5}:
two that train identically (they differ only in max_seconds, which never
binds) and one whose learning rate is too small to learn anything.  Only the
first 3 seeds are stored at submit; the clearly worse one is separated from
the leader by the one-sided paired t-test after its 3 seeds and gets no more,
the two tied ones get seeds 4 and 5 one at a time.  Every added trial is
counted in the sweep's counts (011's triggers).  A second copy of the sweep is
stopped mid-race (paused, mlpd killed, and the decisions a crash could lose
removed from the database): the restarted mlpd takes them again from the
stored results and the race ends with exactly the same trials.  mlpctl shows
the race (list, show, submit --dry-run)."""
import os
import json
import re
import sqlite3
import subprocess
import tempfile

from harness import HERE, Daemon, check, done

MLPCTL = os.environ.get("MLPCTL") or os.path.join(HERE, "../../build/cli/mlpctl")


def ctl(d, *args, timeout=120):
    return subprocess.run([MLPCTL, "--socket", d.sock] + list(args), env=d.env(),
                          capture_output=True, timeout=timeout, text=True)


def grid(name):
    return {"name": name, "dataset": {"name": "circles", "n": 400, "noise": 0.1},
            "seeds": {"min": 3, "max": 5},
            "base": {"epochs": 8, "hidden": [16], "batch_size": 16},
            "grid": [{"lr": [0.1], "max_seconds": [1000, 2000]}, {"lr": [0.00001]}]}


def trials(d, sid):
    return sorted(d.sql("select config_idx, seed, confirm from trials where sweep_id=?", (sid,)))


def counts_match(d, sid):
    kept = dict(d.sql("select state, n from sweep_counts where sweep_id=? and n > 0", (sid,)))
    real = dict(d.sql("select state, count(*) from trials where sweep_id=? group by state",
                      (sid,)))
    return kept == real, (kept, real)


EXPECTED = [(c, s, 0) for c in (1, 2) for s in range(1, 6)] + [(3, s, 0) for s in (1, 2, 3)]

home = tempfile.mkdtemp(prefix="mlpd-it-race-")
d = Daemon(workers=2, home=home)
try:
    d.start()
    p = subprocess.run([MLPCTL, "--socket", d.sock, "submit", "--dry-run", "-"], env=d.env(),
                       input=json.dumps(grid("dry")), capture_output=True,
                       text=True, timeout=60)
    check(p.returncode == 0 and "3 configurations × 3 seeds = 9 trials" in p.stdout and
          "racing on seeds" in p.stdout and "seeds 4..5" in p.stdout and
          "at most 15 trials" in p.stdout,
          "submit --dry-run says what runs first and what racing may add", p.stdout + p.stderr)

    sid = d.submit(grid("raced"))
    first = d.sql("select count(*) from trials where sweep_id=?", (sid,))[0][0]
    check(first <= 9, "only the first 3 seeds of each configuration are stored at submit", first)
    end = d.wait_sweep(sid, timeout=300)
    check(end["state"] == "done" and end["trials_max"] == 15,
          "the sweep ends done; its summary has trials_max", end)
    got = trials(d, sid)
    check(got == EXPECTED, "the worse configuration stops at 3 seeds, the tied ones run to 5",
          got)
    race = dict(d.sql("select idx, race from configs where sweep_id=?", (sid,)))
    check(race == {1: "max", 2: "max", 3: "separated"}, "each configuration's verdict is stored",
          race)
    ok, detail = counts_match(d, sid)
    check(ok and end["total"] == 13 and end["done"] == 13,
          "trials added by the race are counted (sweep_counts, summary)", detail)
    log = d.log()
    # Why a tied configuration gets its next seed depends on which seeds have ended when
    # it is judged: it may lead on those ("leader") or be tied with the leader ("tied").
    check("config 3 stops at 3 seeds: worse than config" in log and
          "one-sided paired t" in log and
          all(re.search(r"config %d gets seed %d \((tied|leader): \d seeds" % (c, k), log)
              for c in (1, 2) for k in (4, 5)),
          "mlpd logs each racing decision with its test", log[-1500:])

    show = d.ok({"op": "show", "sweep": sid})
    rows = {c["config"]["id"]: c for c in show["configs"]}
    check(show["race"] == {"min": 3, "max": 5} and rows[3]["race"] == "separated" and
          rows[3]["seeds_total"] == 3 and rows[1]["seeds_total"] == 5 and
          rows[1]["seeds_max"] == 5,
          "show: each configuration's seeds run, the most it may run and its verdict", rows[3])
    p = ctl(d, "show", "raced")
    check(p.returncode == 0 and "RACE" in p.stdout and "separated" in p.stdout and
          "3/3≤5" in p.stdout and "at most 15" in p.stdout,
          "mlpctl show has the race column and the progress says how far it may go", p.stdout)
    p = ctl(d, "list")
    check(p.returncode == 0 and "13/13≤15" in p.stdout, "mlpctl list: trials run of at most",
          p.stdout)

    # The same race again, stopped mid-race.
    sid2 = d.submit(grid("raced"))
    d.until(lambda: d.sql("select count(*) from trials where sweep_id=? and seed=4", (sid2,))[0][0],
            timeout=120, what="a seed added by the race")
    d.ok({"op": "pause", "sweep": sid2})
    # Paused: the trials running end, the race queues their followers, none starts.
    d.until(lambda: d.sql("select count(*) from trials where sweep_id=? and state='running'",
                          (sid2,))[0][0] == 0, timeout=120, what="the running trials to end")
    d.stop(kill=True)
finally:
    d.stop()

# A crash between a trial's result and the decision it leads to: remove the
# trials the race queued after seed 3 that have not started.
con = sqlite3.connect(os.path.join(home, "mlpd.db"))
with con:
    removed = con.execute("delete from trials where sweep_id=? and seed > 3 and state='queued'",
                          (sid2,)).rowcount
    con.execute("update configs set race = null where sweep_id=?", (sid2,))
con.close()
d2 = Daemon(workers=2, home=home)
with d2:
    d2.start()
    again = d2.sql("select count(*) from trials where sweep_id=? and seed > 3 and "
                   "state='queued'", (sid2,))[0][0]
    # At least the removed ones: SIGKILL may also have fallen between a trial's
    # result and the decision it leads to (a crash that start-up must also repair),
    # which adds one more; the end state below is the exact check.
    check(removed >= 1 and again >= removed,
          "start-up takes the racing decisions again from the stored results",
          (removed, again))
    d2.ok({"op": "resume", "sweep": sid2})
    end2 = d2.wait_sweep(sid2, timeout=300)
    got2 = trials(d2, sid2)
    check(end2["state"] == "done" and got2 == EXPECTED,
          "after the restart the race ends with the same trials", got2)
    ok, detail = counts_match(d2, sid2)
    check(ok, "the counts still match the trials after the restart", detail)
done()
