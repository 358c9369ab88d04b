#!/usr/bin/python3
"""scikit-learn peer: MLPClassifier on Fashion-MNIST with plain mini-batch SGD.

MLPClassifier(hidden_layer_sizes, activation='relu', solver='sgd',
learning_rate='constant', learning_rate_init=0.1, momentum=0, alpha=0,
batch_size, shuffle=True, max_iter=epochs, tol=0, n_iter_no_change=large,
early_stopping=False).  To time every epoch, the epochs are a loop of
partial_fit() calls: with solver='sgd' each partial_fit is exactly one shuffled
pass over the data (sklearn's _fit_stochastic breaks after one iteration when
incremental), so the loop trains as fit(max_iter=epochs) would, plus partial_fit's
input validation per call (a check of the 60,000×784 float32 array, included in
the seconds, as a user calling partial_fit would pay it).  sklearn initialises
weights its own way (Glorot uniform); it cannot take He init.

    sklearn_mlp.py --hidden 256,128 --batch 128 --epochs 10 --seed 1
prints one JSON line: {"bench":"sklearn", ..., "epoch_seconds":[...], "test_accuracy":...}
"""
import argparse
import time
import warnings

import numpy as np
import sklearn
from sklearn.neural_network import MLPClassifier

import fmnist


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hidden", default="100,100")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default=fmnist.DEFAULT_DIR)
    a = ap.parse_args()

    xtr, ytr, xte, yte = fmnist.load(a.data)
    hidden = fmnist.parse_hidden(a.hidden)
    clf = MLPClassifier(hidden_layer_sizes=tuple(hidden), activation="relu",
                        solver="sgd", learning_rate="constant",
                        learning_rate_init=a.lr, momentum=0.0, nesterovs_momentum=False,
                        alpha=0.0, batch_size=a.batch, shuffle=True,
                        max_iter=a.epochs, tol=0.0, n_iter_no_change=10**9,
                        early_stopping=False, random_state=a.seed)
    classes = np.arange(10)
    secs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(a.epochs):
            t0 = time.perf_counter()
            clf.partial_fit(xtr, ytr, classes=classes)
            secs.append(time.perf_counter() - t0)
    acc = float((clf.predict(xte) == yte).mean())
    widths = [xtr.shape[1]] + hidden + [10]
    fmnist.emit({"bench": "sklearn", "version": sklearn.__version__,
                 "net": "-".join(map(str, widths)), "batch": a.batch, "n": len(ytr),
                 "seed": a.seed, "epochs": a.epochs, "dtype": str(clf.coefs_[0].dtype),
                 "epoch_seconds": secs, "test_accuracy": acc})


if __name__ == "__main__":
    main()
