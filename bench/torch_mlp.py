#!/usr/bin/python3
"""PyTorch peer: an MLP on Fashion-MNIST with plain mini-batch SGD.

The same recipe as an mlpsweep trial: layers 784-<hidden>-10, ReLU, softmax +
cross-entropy (mean over the batch), SGD lr 0.1 without momentum or weight decay,
a fresh random permutation each epoch, He-normal weights (std sqrt(2/fan_in)) and
zero biases like mlpsweep's `init: "he"` (`--init torch` keeps PyTorch's default
instead).  One thread (torch.set_num_threads(1)).  An epoch's seconds cover the
training pass only: permutation, batch gather, forward, backward, step; test
accuracy is measured after the last epoch.

    torch_mlp.py --hidden 256,128 --batch 128 --epochs 10 --seed 1
prints one JSON line: {"bench":"pytorch", ..., "epoch_seconds":[...], "test_accuracy":...}
"""
import argparse
import time

import torch

import fmnist


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hidden", default="100,100")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--init", choices=["he", "torch"], default="he")
    ap.add_argument("--data", default=fmnist.DEFAULT_DIR)
    a = ap.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    xtr, ytr, xte, yte = (torch.from_numpy(v) for v in fmnist.load(a.data))
    hidden = fmnist.parse_hidden(a.hidden)
    widths = [xtr.shape[1]] + hidden + [10]
    layers = []
    for i in range(len(widths) - 1):
        lin = torch.nn.Linear(widths[i], widths[i + 1])
        if a.init == "he":
            torch.nn.init.normal_(lin.weight, 0.0, (2.0 / widths[i]) ** 0.5)
            torch.nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i < len(widths) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=0.0)
    loss_fn = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(a.seed)

    n = xtr.shape[0]
    secs = []
    for _ in range(a.epochs):
        model.train()
        t0 = time.perf_counter()
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, a.batch):
            idx = perm[i:i + a.batch]
            xb, yb = xtr[idx], ytr[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
        secs.append(time.perf_counter() - t0)

    model.eval()
    with torch.no_grad():
        acc = (model(xte).argmax(dim=1) == yte).float().mean().item()
    fmnist.emit({"bench": "pytorch", "version": torch.__version__,
                 "net": "-".join(map(str, widths)), "batch": a.batch, "n": n,
                 "seed": a.seed, "init": a.init, "epochs": a.epochs,
                 "epoch_seconds": secs, "test_accuracy": acc})


if __name__ == "__main__":
    main()
