#!/usr/bin/python3
"""The peer of bench/sweep.sh: the same grid through Optuna + PyTorch.

One Optuna worker process; bench/sweep.sh starts several against one SQLite
storage (Optuna's documented way to run a study in parallel).  The grid is
hidden {[128], [256,128]} × lr {0.03, 0.1} × seed {1, 2, 3} as a GridSampler
search space (the seed is a grid axis so that every configuration gets the same
three seeds, as in mlpsweep).  The recipe is mlpsweep's defaults for the grid
bench/sweep.sh submits: 10 % of the training images held out for validation
(a fixed split, seed 0), inputs standardised with the statistics of the
training split, He-normal weights and zero biases, ReLU, softmax +
cross-entropy, plain SGD, batch 128, a fresh permutation every epoch, 5 epochs,
after every epoch the validation split and a training subsample of the same
size evaluated (mlpsweep's `train_eval: "subsample"`), the last epoch kept (no
early stopping), the test split evaluated once with the kept weights.  One
BLAS/torch thread per process.

    optuna_sweep.py --storage sqlite:///x.db --study s worker
    optuna_sweep.py --storage sqlite:///x.db --study s create
    optuna_sweep.py --storage sqlite:///x.db --study s answer   # prints one JSON line
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import optuna  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist  # noqa: E402

HIDDEN = ["128", "256,128"]
LRS = [0.03, 0.1]
SEEDS = [1, 2, 3]
EPOCHS = 5
BATCH = 128
VAL_FRACTION = 0.1


def load_split():
    d = fmnist.DEFAULT_DIR
    j = lambda name: os.path.join(d, name)
    xtr = fmnist.read_idx(j("train-images-idx3-ubyte.gz")).astype(np.float64)
    ytr = fmnist.read_idx(j("train-labels-idx1-ubyte.gz")).astype(np.int64)
    xte = fmnist.read_idx(j("t10k-images-idx3-ubyte.gz")).astype(np.float64)
    yte = fmnist.read_idx(j("t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    perm = np.random.default_rng(0).permutation(len(xtr))
    nval = int(round(len(xtr) * VAL_FRACTION))
    vi, ti = perm[:nval], perm[nval:]
    xt, yt, xv, yv = xtr[ti], ytr[ti], xtr[vi], ytr[vi]
    mean, sd = xt.mean(axis=0), xt.std(axis=0)
    sd[sd < 1e-6] = 1.0
    f = lambda x: torch.from_numpy(np.ascontiguousarray((x - mean) / sd, dtype=np.float32))
    sub = np.random.default_rng(0).permutation(len(xt))[:nval]
    return (f(xt), torch.from_numpy(yt), f(xv), torch.from_numpy(yv), f(xte),
            torch.from_numpy(yte), torch.from_numpy(sub))


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(dim=1) == y).float().mean().item()


def train(data, hidden, lr, seed, trial=None, weight_decay=0.0, prune=False):
    """weight_decay: mlpsweep's l2 (gradient + 2·l2·w on weights, not biases).
    prune: ask the study's pruner after every epoch (raises optuna.TrialPruned)."""
    xt, yt, xv, yv, xte, yte, sub = data
    torch.manual_seed(seed)
    widths = [xt.shape[1]] + fmnist.parse_hidden(hidden) + [10]
    layers = []
    for i in range(len(widths) - 1):
        lin = torch.nn.Linear(widths[i], widths[i + 1])
        torch.nn.init.normal_(lin.weight, 0.0, (2.0 / widths[i]) ** 0.5)
        torch.nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i < len(widths) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    weights = [p for n_, p in model.named_parameters() if n_.endswith("weight")]
    biases = [p for n_, p in model.named_parameters() if n_.endswith("bias")]
    opt = torch.optim.SGD([{"params": weights, "weight_decay": 2.0 * weight_decay},
                           {"params": biases, "weight_decay": 0.0}], lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)
    n = xt.shape[0]
    xs, ys = xt[sub], yt[sub]
    val = float("nan")
    for epoch in range(EPOCHS):
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(xt[idx]), yt[idx]).backward()
            opt.step()
        accuracy(model, xs, ys)
        val = accuracy(model, xv, yv)
        if trial is not None:
            trial.report(val, epoch + 1)
            if prune and trial.should_prune():
                raise optuna.TrialPruned()
    return val, accuracy(model, xte, yte)


def space():
    return {"hidden": HIDDEN, "lr": LRS, "seed": SEEDS}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--storage", required=True)
    ap.add_argument("--study", required=True)
    ap.add_argument("what", choices=["create", "worker", "answer"])
    a = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    torch.set_num_threads(1)
    if a.what == "create":
        optuna.create_study(study_name=a.study, storage=a.storage, direction="maximize",
                            sampler=optuna.samplers.GridSampler(space(), seed=0))
        return
    study = optuna.load_study(study_name=a.study, storage=a.storage,
                              sampler=optuna.samplers.GridSampler(space(), seed=0))
    if a.what == "worker":
        data = load_split()

        def objective(trial):
            h = trial.suggest_categorical("hidden", HIDDEN)
            lr = trial.suggest_categorical("lr", LRS)
            seed = trial.suggest_categorical("seed", SEEDS)
            val, test = train(data, h, lr, seed, trial)
            trial.set_user_attr("test_accuracy", test)
            return val

        # GridSampler stops the study once every grid point has been evaluated.
        study.optimize(objective, n_trials=len(HIDDEN) * len(LRS) * len(SEEDS))
        return
    # answer: select on validation (mean over seeds), report test; a grid point
    # that two processes both ran counts once (the first to finish).
    runs = {}
    trials = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    for t in sorted(trials, key=lambda t: t.datetime_complete):
        key = (t.params["hidden"], t.params["lr"])
        runs.setdefault(key, {}).setdefault(t.params["seed"], (t.value, t.user_attrs["test_accuracy"]))
    rows = []
    for (h, lr), by_seed in runs.items():
        vals = [v for v, _ in by_seed.values()]
        tests = [te for _, te in by_seed.values()]
        rows.append({"hidden": h, "lr": lr, "n": len(vals), "val_mean": statistics.mean(vals),
                     "test_mean": statistics.mean(tests),
                     "test_se": statistics.stdev(tests) / math.sqrt(len(tests)) if len(tests) > 1 else None})
    rows.sort(key=lambda r: -r["val_mean"])
    print(json.dumps({"trials_run": len(trials), "distinct": sum(len(v) for v in runs.values()),
                      "chosen": rows[0] if rows else None, "ranking": rows}))


if __name__ == "__main__":
    main()
