#!/usr/bin/env python3
"""Protocol fuzzing with a fixed seed: random ops with random field values,
random bytes and corrupted JSON, several per connection.  Every line must get
one response line that is valid JSON (UTF-8), and mlpd must stay up and exit
cleanly (no sanitizer report under -Dsanitize=true).  FUZZ_SECONDS sets the time."""
import json
import os
import random
import socket
import time

from harness import Daemon, check, done

SECONDS = float(os.environ.get("FUZZ_SECONDS", "4"))
rnd = random.Random(7)
OPS = ["hello", "submit", "status", "list", "show", "best", "results", "trial", "cancel",
       "pause", "resume", "retry", "data_list", "nope"]
FIELDS = ["sweep", "id", "top", "min_seeds", "metric", "by", "trials", "curves", "grid", "name",
          "priority", "dry_run", "protocol", "base_dir", "force"]
VALUES = [None, True, False, 0, -1, 1, 2, 2 ** 63, 1e308, -1e308, 1.5, "", "x", "1", "f",
          "val_loss", "lr", [], {}, [1], {"a": 1}, "\u00e9" * 50]


def request():
    k = rnd.random()
    req = {"op": rnd.choice(OPS)}
    for f in rnd.sample(FIELDS, rnd.randint(0, 4)):
        req[f] = rnd.choice(VALUES)
    if req["op"] == "submit" and rnd.random() < 0.6:
        req["grid"] = {"dataset": rnd.choice(["xor", {"name": "xor", "n": rnd.choice([1, 64, -5, "a"])}, 5]),
                       "grid": {"lr": rnd.choice([[0.1], [], "x", [None], [0.1, 0.2]])},
                       "base": {"epochs": 1, "hidden": rnd.choice([[4], [], [-1], "x"])}}
    line = json.dumps(req).encode()
    if k < 0.6:
        return line
    if k < 0.8:
        return bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 200))).replace(b"\n", b"")
    cut = rnd.randint(0, len(line))
    return (line[:cut] + bytes([rnd.getrandbits(8)]) + line[cut:]).replace(b"\n", b"")


with Daemon(workers=1) as d:
    d.start()
    d.submit({"name": "f", "dataset": {"name": "xor", "n": 64}, "seeds": 2, "base": {"epochs": 1}})
    rounds = lines = bad = 0
    t0 = time.time()
    while time.time() - t0 < SECONDS and d.proc.poll() is None:
        msgs = [request() for _ in range(rnd.randint(1, 5))]
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(20)
        s.connect(d.sock)
        s.sendall(b"\n".join(msgs) + b"\n")
        f = s.makefile("rb")
        for m in msgs:
            r = f.readline()
            try:
                json.loads(r)
                lines += 1
            except ValueError:
                bad += 1
                print("bad response to %r: %r" % (m[:80], r[:200]))
        s.close()
        rounds += 1
    check(d.proc.poll() is None, "mlpd survives %d fuzz connections" % rounds)
    check(bad == 0 and lines > 0, "every fuzz line got one JSON response line", (lines, bad))
    rc = d.stop()
    check(rc == 0, "and shuts down cleanly", rc)
done()
