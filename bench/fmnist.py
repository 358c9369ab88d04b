"""Fashion-MNIST for the Python peers (bench/torch_mlp.py, bench/sklearn_mlp.py).

Reads the IDX .gz files Debian's dataset-fashion-mnist installs and standardises
every pixel with the mean and standard deviation of the training images (a pixel
with zero spread is only centred), like mlpsweep's `normalize: "standardize"`.
All 60,000 training images are used (no validation hold-out): the benches compare
speed per epoch and test accuracy, and mlpsweep runs with the smallest hold-out it
allows (see bench/RESULTS.md).
"""
import gzip
import json
import os
import struct

import numpy as np

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an IDX ubyte file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    return arr.reshape(dims[0], -1) if ndim > 1 else arr


def load(directory=DEFAULT_DIR):
    """(x_train, y_train, x_test, y_test): float32 standardised inputs, int64 labels."""
    j = lambda name: os.path.join(directory, name)
    xtr = read_idx(j("train-images-idx3-ubyte.gz")).astype(np.float64)
    ytr = read_idx(j("train-labels-idx1-ubyte.gz")).astype(np.int64)
    xte = read_idx(j("t10k-images-idx3-ubyte.gz")).astype(np.float64)
    yte = read_idx(j("t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    mean = xtr.mean(axis=0)
    sd = xtr.std(axis=0)
    sd[sd < 1e-6] = 1.0
    xtr = np.ascontiguousarray((xtr - mean) / sd, dtype=np.float32)
    xte = np.ascontiguousarray((xte - mean) / sd, dtype=np.float32)
    return xtr, ytr, xte, yte


def parse_hidden(s):
    return [int(v) for v in s.split(",") if v] if s else []


def emit(record):
    print(json.dumps(record), flush=True)
