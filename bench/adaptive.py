#!/usr/bin/python3
"""bench/adaptive.py — what adaptive search saves, on Fashion-MNIST, in one run.

    bench/adaptive.py [--build DIR] [--epochs 10] [--quick] [--runs grid,halving,pooled,racing]
                      [--no-optuna]

A space of 64 configurations: hidden {[32], [64], [128], [64,32]} × lr {0.01, 0.03,
0.1, 0.3} × batch_size {64, 256} × l2 {0, 1e-4}, 3 seeds each, 10 epochs, the full
training split (54,000 rows after the 10 % validation hold-out).  Each of these
runs through a private mlpd (2 workers × 1 thread; the prepared-data cache warm):

  grid      every configuration × seed × epoch
  halving   "prune": {"kind": "halving", "min_epochs": 1, "eta": 3} (paired t-test rule)
  pooled    the same with "rule": "pooled" (the seed variance pooled over the rung)
  rank      the same with "rule": "rank" (plain ASHA: the top 1/η go on; --runs rank)
  racing    halving + "seeds": {"min": 2, "max": 3} (only if this build accepts it)

and, in the same run, Optuna 3.1 GridSampler (the same 64 × 3 points, the seed a
grid axis) + SuccessiveHalvingPruner (min_resource 1, reduction_factor 3) on a
SQLite storage in 2 processes, the PyTorch objective of bench/optuna_sweep.py's
recipe (10 epochs here), reporting validation accuracy every epoch.

For each: trial-epochs spent (epoch rows recorded / epochs Optuna trained),
wall time to the answer, the chosen configuration (highest mean validation
accuracy over its seeds; pruned configurations and, for Optuna, pruned trials
left out).  Then every chosen configuration is confirmed the same way: 10 fresh
seeds (101..110) through mlpd, mean test accuracy ± SE, and a Welch t-test of
each choice against the grid's choice (tied = p ≥ 0.05).
--quick: 16 configurations (hidden × lr), 3 epochs — for checking the script.
"""
import argparse
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)


def tcdf(t, df):
    """P(T <= t) for Student's t (regularised incomplete beta by continued fraction)."""
    x = df / (df + t * t)
    a, b = df / 2.0, 0.5
    lbeta = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    front = math.exp(math.log(x) * a + math.log1p(-x) * b - lbeta) / a
    f, c, d = 1.0, 1.0, 0.0
    for i in range(200):
        m = i // 2
        if i == 0:
            num = 1.0
        elif i % 2 == 0:
            num = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m))
        else:
            num = -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1))
        d = 1.0 + num * d
        d = 1.0 / (d if abs(d) > 1e-300 else 1e-300)
        c = 1.0 + num / (c if abs(c) > 1e-300 else 1e-300)
        f *= c * d
        if abs(1.0 - c * d) < 1e-12:
            break
    ib = front * (f - 1.0)
    return 1.0 - 0.5 * ib if t > 0 else 0.5 * ib


def welch(a, b):
    ma, mb = statistics.mean(a), statistics.mean(b)
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    if va + vb == 0:
        return 0.0, float("inf"), 1.0 if ma == mb else 0.0
    t = (ma - mb) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    return t, df, 2 * (1 - tcdf(abs(t), df))


class Daemon:
    def __init__(self, build, state, data):
        self.build, self.state = build, state
        os.makedirs(state, mode=0o700, exist_ok=True)
        self.sock = os.path.join(state, "mlpd.sock")
        env = dict(os.environ, MLPD_HOME=state, MLPD_DATA=data)
        self.env = env
        self.p = subprocess.Popen([f"{build}/daemon/mlpd", "--foreground", "--workers", "2",
                                   "--threads", "1", "--worker", f"{build}/worker/mlp-worker"],
                                  env=env, stdout=subprocess.DEVNULL,
                                  stderr=open(os.path.join(state, "mlpd.err"), "w"))
        for _ in range(200):
            if self.ctl("status", check=False).returncode == 0:
                return
            time.sleep(0.05)
        raise SystemExit("mlpd did not start: " + open(os.path.join(state, "mlpd.err")).read())

    def ctl(self, *args, check=True):
        r = subprocess.run([f"{self.build}/cli/mlpctl", "--socket", self.sock, *args],
                           env=self.env, capture_output=True, text=True)
        if check and r.returncode != 0:
            raise SystemExit(f"mlpctl {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
        return r

    def json(self, *args):
        return json.loads(self.ctl("--json", *args).stdout)

    def stop(self):
        self.ctl("shutdown", "--now", check=False)
        try:
            self.p.wait(30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def space(quick):
    g = {"hidden": [[32], [64], [128], [64, 32]], "lr": [0.01, 0.03, 0.1, 0.3]}
    if not quick:
        g.update({"batch_size": [64, 256], "l2": [0, 0.0001]})
    return g


def key_of(params, keys):
    return json.dumps([params.get(k) for k in keys])


def run_mlpd(build, out, data, name, grid):
    path = os.path.join(out, name + ".json")
    json.dump(grid, open(path, "w"))
    d = Daemon(build, os.path.join(out, name), data)
    try:
        t0 = time.monotonic()
        d.ctl("submit", path)
        d.ctl("wait", name, check=False)
        best = d.json("best", name)
        wall = time.monotonic() - t0
        curves = d.json("results", name, "--curves")
        trials = d.json("results", name, "--trials")
    finally:
        d.stop()
    states = {}
    for r in trials["rows"]:
        states[r["state"]] = states.get(r["state"], 0) + 1
    c = best["configs"][0]
    cfg = c["config"]
    params = cfg.get("params", cfg) if isinstance(cfg, dict) else cfg
    return {"name": name, "wall": wall, "trial_epochs": len(curves["rows"]), "states": states,
            "chosen": params, "val": c["stat"]["mean"]}


def optuna_worker(storage, grid, epochs):
    import optuna
    import torch
    import optuna_sweep as osw
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    torch.set_num_threads(1)
    osw.EPOCHS = epochs
    sp = {"hidden": [json.dumps(h) for h in grid["grid"]["hidden"]], "seed": grid["seeds"]}
    for k in ("lr", "batch_size", "l2"):
        if k in grid["grid"]:
            sp[k] = grid["grid"][k]
    study = optuna.load_study(study_name="s", storage=storage,
                              sampler=optuna.samplers.GridSampler(sp, seed=0),
                              pruner=optuna.pruners.SuccessiveHalvingPruner(
                                  min_resource=1, reduction_factor=3))
    data = osw.load_split()

    def objective(trial):
        p = {k: trial.suggest_categorical(k, v) for k, v in sp.items()}
        hidden = ",".join(str(v) for v in json.loads(p["hidden"]))
        l2 = p.get("l2", 0.0)
        osw.BATCH = p.get("batch_size", 128)
        val, _ = osw.train(data, hidden, p["lr"], p["seed"], trial, weight_decay=l2, prune=True)
        return val

    study.optimize(objective, n_trials=math.prod(len(v) for v in sp.values()))


def run_optuna(out, grid, epochs):
    import optuna
    storage = f"sqlite:///{out}/optuna.db"
    sp_keys = ["hidden", "lr", "batch_size", "l2"]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    t0 = time.monotonic()
    optuna.create_study(study_name="s", storage=storage, direction="maximize")
    procs = [subprocess.Popen([sys.executable, __file__, "--optuna-worker", storage,
                               json.dumps(grid), str(epochs)]) for _ in range(2)]
    for p in procs:
        p.wait()
    study = optuna.load_study(study_name="s", storage=storage)
    done = {}
    spent = 0
    for t in sorted(study.trials, key=lambda t: t.datetime_complete or t.datetime_start):
        spent += len(t.intermediate_values)
        if t.state != optuna.trial.TrialState.COMPLETE:
            continue
        k = tuple(t.params.get(x) for x in sp_keys)
        done.setdefault(k, {}).setdefault(t.params["seed"], t.value)
    wall = time.monotonic() - t0
    means = {k: statistics.mean(v.values()) for k, v in done.items()}
    k = max(means, key=means.get)
    params = {"hidden": json.loads(k[0]), "lr": k[1]}
    if k[2] is not None:
        params["batch_size"] = k[2]
    if k[3] is not None:
        params["l2"] = k[3]
    states = {}
    for t in study.trials:
        states[t.state.name.lower()] = states.get(t.state.name.lower(), 0) + 1
    return {"name": "optuna", "wall": wall, "trial_epochs": spent, "states": states,
            "chosen": params, "val": means[k]}


def confirm(build, out, data, grid, runs):
    """Every distinct choice on seeds 101..110 in one mlpd sweep (one grid entry each)."""
    chosen = []
    for r in runs:
        p = {k: r["chosen"][k] for k in ("hidden", "lr", "batch_size", "l2") if k in r["chosen"]}
        if p not in chosen:
            chosen.append(p)
    g = {"name": "confirm", "dataset": grid["dataset"], "seeds": list(range(101, 111)),
         "metric": "val_accuracy",
         "base": {k: v for k, v in grid["base"].items() if not any(k in p for p in chosen)},
         "grid": [{k: [v] for k, v in p.items()} for p in chosen]}
    path = os.path.join(out, "confirm.json")
    json.dump(g, open(path, "w"))
    d = Daemon(build, os.path.join(out, "confirm"), data)
    try:
        d.ctl("submit", path)
        d.ctl("wait", "confirm", check=False)
        rows = d.json("results", "confirm", "--trials")["rows"]
    finally:
        d.stop()
    by = {}
    for row in rows:
        if row.get("test_accuracy") is None:
            continue
        p = {k: row.get(k) for k in ("hidden", "lr", "batch_size", "l2") if k in chosen[0]}
        by.setdefault(json.dumps(p, sort_keys=True), []).append(row["test_accuracy"])
    return by


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--optuna-worker":
        optuna_worker(sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("BENCH_BUILD", os.path.join(ROOT, "build-bench")))
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-optuna", action="store_true")
    ap.add_argument("--runs", default="grid,halving,pooled,racing",
                    help="which mlpd runs, comma-separated (grid first when given)")
    a = ap.parse_args()
    if a.quick:
        a.epochs = min(a.epochs, 3)
    if not os.path.exists(os.path.join(a.build, "build.ninja")):
        subprocess.run(["meson", "setup", a.build, ROOT], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["ninja", "-C", a.build, "daemon/mlpd", "cli/mlpctl", "worker/mlp-worker"],
                   check=True, stdout=subprocess.DEVNULL)
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = "1"
    out = tempfile.mkdtemp(prefix="mlpadapt.")
    data = os.path.join(out, "data")
    os.makedirs(data)
    try:
        base = {"epochs": a.epochs, "batch_size": 128, "activation": "relu", "init": "he",
                "optimizer": "sgd", "normalize": "standardize"}
        sp = space(a.quick)
        base = {k: v for k, v in base.items() if k not in sp}  # a key is in base or varied
        grid = {"name": "grid", "dataset": "fashion-mnist", "seeds": [1, 2, 3],
                "metric": "val_accuracy", "base": base, "grid": sp}
        print(f"# bench/adaptive.py {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}: "
              f"{math.prod(len(v) for v in grid['grid'].values())} configurations × 3 seeds × "
              f"{a.epochs} epochs, fashion-mnist full training split; {os.cpu_count()} cores, "
              f"load {open('/proc/loadavg').read().split()[:3]}", flush=True)
        # warm the prepared-data cache (not measured)
        run_mlpd(a.build, out, data, "warm", dict(grid, name="warm", seeds=[1],
                                                   grid={"hidden": [[32]]}, base=dict(base, epochs=1)))
        want = a.runs.split(",")
        runs = [run_mlpd(a.build, out, data, "grid", grid)] if "grid" in want else []
        halving = dict(grid, name="halving", prune={"kind": "halving", "min_epochs": 1, "eta": 3})
        if "halving" in want:
            runs.append(run_mlpd(a.build, out, data, "halving", halving))
        pooled = dict(grid, name="pooled", prune=dict(halving["prune"], rule="pooled"))
        if "pooled" in want:
            runs.append(run_mlpd(a.build, out, data, "pooled", pooled))
        rank = dict(grid, name="rank", prune=dict(halving["prune"], rule="rank"))
        if "rank" in want:
            runs.append(run_mlpd(a.build, out, data, "rank", rank))
        racing = dict(halving, name="racing", seeds={"min": 2, "max": 3})
        probe_path = os.path.join(out, "racing-probe.json")
        json.dump(racing, open(probe_path, "w"))
        probe = subprocess.run([f"{a.build}/cli/mlpctl", "submit", "--dry-run", probe_path],
                               capture_output=True, text=True,
                               env=dict(os.environ, MLPD_HOME=os.path.join(out, "probe")))
        if "racing" not in want:
            pass
        elif probe.returncode == 0:
            runs.append(run_mlpd(a.build, out, data, "racing", racing))
        else:
            print(f"racing: not run (this build refuses it: {probe.stderr.strip()[:200]})")
        if not a.no_optuna:
            runs.append(run_optuna(out, grid, a.epochs))
        # The full grid's trial-epochs: configurations × seeds × epochs (what "grid" records).
        full = math.prod(len(v) for v in grid["grid"].values()) * len(grid["seeds"]) * a.epochs
        for r in runs:
            print(f"{r['name']:8} {r['wall']:8.1f} s  trial-epochs {r['trial_epochs']:5} "
                  f"({r['trial_epochs'] / full:.2f} of the grid's)  states {r['states']}  "
                  f"chosen {json.dumps(r['chosen'])} (val {r['val']:.4f})", flush=True)
        conf = confirm(a.build, out, data, grid, runs)
        gkey = json.dumps({k: runs[0]["chosen"][k] for k in ("hidden", "lr", "batch_size", "l2")
                           if k in runs[0]["chosen"]}, sort_keys=True)
        for r in runs:
            k = json.dumps({k: r["chosen"][k] for k in ("hidden", "lr", "batch_size", "l2")
                            if k in r["chosen"]}, sort_keys=True)
            v = conf.get(k, [])
            if len(v) < 2:
                print(f"{r['name']:8} confirmation: {len(v)} seeds finished")
                continue
            se = statistics.stdev(v) / math.sqrt(len(v))
            line = (f"{r['name']:8} confirmed test accuracy {statistics.mean(v):.4f} ± {se:.4f} "
                    f"(10 fresh seeds)")
            if k != gkey and len(conf.get(gkey, [])) >= 2:
                t, df, p = welch(v, conf[gkey])
                line += f"; vs {runs[0]['name']}'s choice: t = {t:.2f}, df = {df:.1f}, p = {p:.3f} " + \
                        ("(tied)" if p >= 0.05 else "(differs)")
            elif k == gkey:
                line += f"; {r['name']}'s own choice" if r is runs[0] else \
                    f"; the same configuration as {runs[0]['name']}'s"
            print(line)
        g = runs[0]["wall"]
        for r in runs[1:]:
            print(f"{r['name']:8} wall {r['wall'] / g:.2f} × {runs[0]['name']}'s; trial-epochs "
                  f"{r['trial_epochs'] / full:.2f} × the grid's")
        ours = [r for r in runs if r["name"] in ("halving", "pooled", "rank", "racing")]
        opt = [r for r in runs if r["name"] == "optuna"]
        if ours and opt:
            best = min(ours, key=lambda r: r["wall"])
            print(f"time to answer: mlpsweep {best['name']} / Optuna + PyTorch = "
                  f"{best['wall'] / opt[0]['wall']:.2f}")
        print(f"load after: {open('/proc/loadavg').read().split()[:3]}")
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
