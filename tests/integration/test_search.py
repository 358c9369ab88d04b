#!/usr/bin/env python3
"""Search spaces (issue 18): a grid file with "search" through the real mlpctl,
mlpd and workers.  `submit --dry-run --all` lists exactly the configurations
that are then stored and run, in order; every seed runs on every point; a
restarted daemon draws the same points; identical draws collapse into one
configuration; a bad space is refused (exit 4) naming the place."""
import json
import os
import subprocess
import tempfile

from harness import HERE, Daemon, check, done

MLPCTL = os.environ.get("MLPCTL") or os.path.join(HERE, "../../build/cli/mlpctl")


def ctl(d, *args, stdin=None, timeout=120):
    return subprocess.run([MLPCTL, "--socket", d.sock] + list(args), env=d.env(), input=stdin,
                          capture_output=True, timeout=timeout, text=True)


GRID = {
    "name": "drawn", "dataset": {"name": "xor", "n": 200}, "seeds": 2,
    "base": {"epochs": 2},
    "grid": {"hidden": [[4], [8]]},
    "search": {"kind": "sobol", "trials": 4, "seed": 11,
               "space": {"lr": {"log_uniform": [0.01, 0.5]},
                         "activation": {"choice": ["relu", "tanh"]},
                         "batch_size": {"int_log": [8, 64]}}},
}

home = tempfile.mkdtemp(prefix="mlpd-it-search-")
gridfile = os.path.join(home, "drawn.json")
with open(gridfile, "w") as f:
    json.dump(GRID, f)

d = Daemon(workers=2, home=home)
try:
    d.start()
    p = ctl(d, "--json", "submit", gridfile, "--dry-run", "--all")
    check(p.returncode == 0, "dry run of a search grid succeeds", p.stderr)
    dry = json.loads(p.stdout)
    listed = [c["params"] for c in dry["first"]]
    check(dry["configs"] == 8 and len(listed) == 8,
          "--all lists every configuration: 2 grid combinations x 4 points", dry["configs"])
    check(dry["trials"] == 16, "x 2 seeds = 16 trials", dry["trials"])
    check(all(0.01 <= c["lr"] <= 0.5 and c["activation"] in ("relu", "tanh")
              and 8 <= c["batch_size"] <= 64 for c in listed),
          "every drawn value is within its space", listed)
    check([c["lr"] for c in listed[:4]] == [c["lr"] for c in listed[4:]],
          "point i is the same over both grid combinations", [c["lr"] for c in listed])
    check(len({c["lr"] for c in listed[:4]}) == 4, "four distinct lr draws", listed[:4])
    human = ctl(d, "submit", gridfile, "--dry-run", "--all")
    check(human.returncode == 0 and human.stdout.count("lr=") == 8 and "and" not in
          human.stdout.split("configurations:")[-1],
          "the human dry run lists all 8 configurations", human.stdout)
    p = ctl(d, "submit", gridfile, "--all")
    check(p.returncode == 2, "--all without --dry-run is a usage error", p.stderr)

    p = ctl(d, "--json", "submit", gridfile)
    check(p.returncode == 0, "submit succeeds", p.stderr)
    sid = json.loads(p.stdout)["sweep"]["id"]
    stored = [json.loads(r[0]) for r in
              d.sql("select params_json from configs where sweep_id=? order by idx", (sid,))]
    check(stored == listed, "mlpd stored exactly the configurations the dry run listed",
          (stored[:2], listed[:2]))
    keys = json.loads(d.sql("select keys_json from sweeps where id=?", (sid,))[0][0])
    check(keys == ["hidden", "lr", "activation", "batch_size"],
          "the sweep's keys: the grid's, then the space's", keys)
    seeds = d.sql("select config_idx, group_concat(seed) from "
                  "(select config_idx, seed from trials where sweep_id=? order by seed) "
                  "group by config_idx", (sid,))
    check(len(seeds) == 8 and all(s == "1,2" for _, s in seeds),
          "every point runs on every seed", seeds)
    end = d.wait_sweep(sid, timeout=300)
    check(end["done"] == 16, "all 16 trials done", end)
    p = ctl(d, "--json", "results", "drawn")
    rows = json.loads(p.stdout)["rows"]
    check(len(rows) == 8 and all("lr" in r and "batch_size" in r for r in rows),
          "results carry the drawn keys as columns", rows[:1])

    # Identical draws collapse: a two-value choice drawn 30 times is two configurations.
    g2 = {"name": "dups", "dataset": {"name": "xor", "n": 200}, "base": {"epochs": 1},
          "search": {"kind": "random", "trials": 30,
                     "space": {"activation": {"choice": ["relu", "tanh"]}}}}
    r = d.ok({"op": "submit", "grid": g2, "base_dir": home, "dry_run": True})
    check(r["configs"] == 2 and r["trials"] == 2, "30 draws of 2 values: 2 configurations", r)

    # A bad space: exit 4, the place named.
    bad = dict(GRID)
    bad["search"] = {"kind": "random", "trials": 3,
                     "space": {"lr": {"log_uniform": [0, 0.5]}}}
    p = ctl(d, "submit", "-", stdin=json.dumps(bad))
    check(p.returncode == 4 and "search.space.lr.log_uniform[0]" in p.stderr,
          "a log range from 0 is refused naming its place", (p.returncode, p.stderr))
finally:
    d.stop()  # the state dir stays for the next daemon

# A new daemon on the same state dir draws the same points.
d2 = Daemon(workers=1, home=home)
with d2:
    d2.start()
    r = d2.ok({"op": "submit", "grid": GRID, "base_dir": home, "dry_run": True})
    check([c["params"] for c in r["first"]] == listed[:len(r["first"])],
          "a restarted mlpd draws the same points", r["first"][:1])
done()
