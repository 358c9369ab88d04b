#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets (tests/fuzz/corpus/<name>/).

Deterministic: run it again and the files are identical.  The corpora are
committed; re-run this after changing it, and add any crash reproducer a
fuzzing run finds (README.md) by hand under a descriptive name.
"""
import gzip
import io
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIGS = os.path.join(HERE, "..", "..", "configs")


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def grids():
    out = {}
    for fn in sorted(os.listdir(CONFIGS)):
        if fn.endswith(".json"):
            with open(os.path.join(CONFIGS, fn)) as f:
                out[fn[:-5]] = f.read()
    xor = {"name": "x", "dataset": {"name": "xor", "n": 64, "noise": 0.1}, "seeds": [1, 5, 9],
           "metric": "val_loss", "base": {"hidden": [4], "epochs": 3, "optimizer": "adam"},
           "grid": {"lr": [0.1, 0.3], "activation": ["tanh", "elu"]}}
    out["xor-list-seeds"] = json.dumps(xor)
    out["union-dedup"] = json.dumps({"dataset": "mnist", "grid": [{"lr": [0.1, 0.2]}, {"lr": [0.2]},
                                                                  {"hidden": [[], [3, 3]]}]})
    out["csv-regression"] = json.dumps({"dataset": {"format": "csv", "train": "t.csv", "test": "/abs/e.csv",
                                                    "label": 0, "header": True, "task": "regression"},
                                        "metric": "val_mse", "base": {"early_stop": {"patience": 2, "min_delta": 0.01},
                                                                      "train_size": 10, "max_seconds": 3.5}})
    out["idx-files"] = json.dumps({"dataset": {"format": "idx", "train_images": "a", "train_labels": "b",
                                               "test_images": "c.gz", "test_labels": "d.gz"},
                                   "grid": {"batch_size": [1, 128], "init": ["zeros", "gaussian"],
                                            "normalize": ["minmax", "none"], "momentum": [0, 0.99]}})
    out["errors-typo"] = json.dumps({"dataset": "cifar10", "base": {"activaton": "relu"},
                                     "grid": {"lr": [0.1, "fast"], "l2": []}})
    out["errors-both"] = json.dumps({"dataset": {"name": "spirals", "n": -1}, "seeds": 0,
                                     "base": {"lr": 0.1}, "grid": {"lr": [0.2]}})
    out["huge-product"] = json.dumps({"dataset": "mnist", "seeds": 1000000,
                                      "grid": {"lr": [0.1, 0.2, 0.3], "l2": [0, 1e-4, 1e-3]}})
    out["numbers"] = json.dumps({"dataset": "mnist", "seeds": 2,
                                 "grid": {"lr": [1e-300, 1e300], "dropout": [0.999999],
                                          "epochs": [1, 2147483647], "split_seed": [-9223372036854775808]}})
    return out


def requests(gs):
    lines = [{"op": "hello", "protocol": 1}, {"op": "status"}, {"op": "list"},
             {"op": "show", "sweep": 1, "by": "lr"}, {"op": "best", "sweep": "name", "top": 3,
                                                     "min_seeds": 2, "metric": "val_loss"},
             {"op": "results", "sweep": 2, "trials": True, "curves": False}, {"op": "trial", "id": 7},
             {"op": "watch"}, {"op": "wait", "sweep": 1}, {"op": "shutdown", "now": True},
             {"op": "stauts"}, {"op": 5}, [1, 2], "str", {"op": "best", "sweep": 1, "top": 1e400}]
    out = {}
    out["ops"] = b"\x07" + b"".join(json.dumps(x).encode() + b"\n" for x in lines)
    for i, (k, g) in enumerate(sorted(gs.items())):
        req = {"op": "submit", "grid": json.loads(g), "base_dir": "/tmp", "name": k,
               "priority": i - 3, "dry_run": i % 2 == 0, "force": i % 3 == 0}
        out["submit-" + k] = bytes([i * 7 % 256]) + json.dumps(req).encode() + b"\n"
    out["garbage"] = b"\x00{\"op\":\"status\"}}\n\xff\xfe\x00\x01\n{\"op\":\"st\\u0000atus\"}\n" + b"[" * 2000 + b"\n"
    out["long-line"] = b"\x3f" + b"{\"op\":\"" + b"a" * 9000 + b"\"}\n{\"op\":\"status\"}\r\n"
    out["crlf-partial"] = b"\x01{\"op\":\"list\"}\r\n{\"op\":\"sta"
    return out


def idx(dims, payload, dtype=0x08):
    return struct.pack(">HBB", 0, dtype, len(dims)) + b"".join(struct.pack(">I", d) for d in dims) + payload


def gz(b):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as f:
        f.write(b)
    return buf.getvalue()


def data():
    out = {}
    n, r, c = 12, 3, 3
    images = idx([n, r, c], bytes((i * 37) % 256 for i in range(n * r * c)))
    labels = idx([n], bytes(i % 3 for i in range(n)))
    out["idx-valid"] = struct.pack(">H", len(images)) + images + labels
    gi = gz(images)
    out["idx-gzip"] = struct.pack(">H", len(gi)) + gi + gz(labels)
    out["idx-count-mismatch"] = struct.pack(">H", len(images)) + images + idx([n + 1], bytes(n + 1))
    out["idx-short"] = struct.pack(">H", len(images)) + images[:-5] + labels
    out["idx-huge-dims"] = struct.pack(">H", 16) + idx([0xFFFFFFFF, 0xFFFF, 0xFFFF], b"") + labels
    out["idx-bad-label"] = struct.pack(">H", len(images)) + images + idx([n], bytes([200] * n))
    out["csv-classes"] = "\x00" + "".join("%g,%g,%d\n" % (i * 0.5, -i, i % 2) for i in range(30))
    out["csv-regression-header"] = "\x01y,a,b\n" + "".join("%g,%g,%g\n" % (i * 0.1, i, i * i) for i in range(30))
    out["csv-ragged"] = "\x00" + "1,2,0\n3,4\n5,6,1\n\n7,8,1,9\n"
    out["csv-nan-inf"] = "\x00" + "nan,1,0\ninf,-inf,1\n1e999,2,0\n0x1p3,4,1\n"
    out["csv-quoted"] = "\x02\"a\",\"b\",c\n1,2,3\n"
    rec = lambda lab: bytes([lab]) + bytes((lab * 31 + i) % 256 for i in range(3072))
    out["cifar-2-records"] = rec(1) + rec(9)
    out["cifar-bad-label"] = rec(12)
    out["cifar-partial"] = rec(3)[:3000]
    out["empty"] = b""
    return out


def main():
    gs = grids()
    for k, v in gs.items():
        write("grid", k + ".json", v)
    for k, v in requests(gs).items():
        write("request", k, v)
    for k, v in data().items():
        write("data", k, v)


if __name__ == "__main__":
    main()
