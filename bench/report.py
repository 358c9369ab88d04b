#!/usr/bin/python3
"""Turn the raw outputs of bench/run.sh into one table and bench/RESULTS.md.

    report.py table OUTDIR RESULTS.md     print the table, write the "training" section
    report.py section RESULTS.md NAME     replace section NAME of RESULTS.md with stdin

OUTDIR holds configs.tsv (id, net, batch, lr, epochs, runs per line), facts.md (machine
facts, markdown) and one file per measurement, <config>.<impl>.<run>.out (+ .err):
for mlpsweep the worker's own JSON lines (epoch lines' "seconds", the result line's
"test_accuracy"), for every other implementation one JSON line with
"epoch_seconds" and, except gemm, "test_accuracy".

Seconds per epoch are the median (and the minimum) over epochs 2..N of every run (all epochs when a
run has only one; for gemm all timed epochs, its warm-up epoch is never timed); accuracy is the mean over runs (± standard error with ≥ 2 runs).
"""
import glob
import json
import math
import os
import re
import statistics
import sys

IMPLS = ["mlpsweep", "pytorch", "sklearn", "fann", "gemm"]
LABEL = {"mlpsweep": "mlpsweep (mlp-worker)", "pytorch": "PyTorch", "sklearn": "scikit-learn",
         "fann": "FANN", "gemm": "GEMMs alone"}
# Targets of issue 6, as (config id, what, limit).
TARGETS = {
    "A": [("gemm", 1.10), ("pytorch", 1 / 1.45)],
    "B": [("gemm", 1.25), ("pytorch", 1 / 2.0)],
    "C": [("fann", 1 / 3.0)],
}


def parse_out(impl, text):
    """(epoch_seconds, test_accuracy, error) from one output file."""
    lines = [l for l in text.splitlines() if l.strip().startswith("{")]
    recs = []
    for l in lines:
        try:
            recs.append(json.loads(l))
        except ValueError:
            pass
    if impl == "mlpsweep":
        secs = [r["seconds"] for r in recs if r.get("event") == "epoch" and "seconds" in r]
        res = [r for r in recs if r.get("event") == "result"]
        err = [r for r in recs if r.get("event") == "error"]
        if err:
            return secs, None, err[-1].get("message", "error")
        if not res:
            return secs, None, "no result line"
        return secs, res[-1].get("test_accuracy"), None
    rec = next((r for r in reversed(recs) if "epoch_seconds" in r), None)
    if rec is None:
        return [], None, "no output"
    return rec["epoch_seconds"], rec.get("test_accuracy"), None


def summarize(outdir, cfg, impl):
    files = sorted(glob.glob(os.path.join(outdir, f"{cfg}.{impl}.*.out")))
    if not files:
        return None
    pooled, accs, errors, shape = [], [], [], []
    versions = set()
    for f in files:
        with open(f) as fh:
            text = fh.read()
        secs, acc, err = parse_out(impl, text)
        if err or not secs:
            errtxt = ""
            ef = f[:-4] + ".err"
            if os.path.exists(ef):
                with open(ef) as fh:
                    tail = [l for l in fh.read().splitlines() if l.strip()]
                errtxt = tail[-1] if tail else ""
            errors.append(err or errtxt or "no epochs")
            continue
        # gemm already leaves out its warm-up epoch; the others drop epoch 1
        pooled.extend(secs[1:] if len(secs) > 1 and impl != "gemm" else secs)
        shape.append(len(secs))
        if acc is not None:
            accs.append(acc)
        for l in text.splitlines():
            m = re.search(r'"version": "([^"]+)"', l)
            if m:
                versions.add(m.group(1))
    if not pooled:
        return {"error": errors[0] if errors else "no data"}
    s = {"sec": statistics.median(pooled), "min": min(pooled), "runs": len(shape), "epochs": max(shape),
         "versions": versions, "errors": errors}
    if accs:
        s["acc"] = statistics.mean(accs)
        s["acc_se"] = statistics.stdev(accs) / math.sqrt(len(accs)) if len(accs) > 1 else None
    return s


def fmt_acc(s):
    if "acc" not in s:
        return "—"
    if s.get("acc_se") is not None:
        return f"{s['acc']:.4f} ± {s['acc_se']:.4f}"
    return f"{s['acc']:.4f}"


def table(outdir, results_md):
    cfgs = []
    with open(os.path.join(outdir, "configs.tsv")) as fh:
        for line in fh:
            if line.strip():
                cid, net, batch, lr, epochs, runs = line.split()
                cfgs.append((cid, net, int(batch), lr, int(epochs), int(runs)))
    rows = ["| configuration | implementation | s/epoch (median) | fastest epoch | test accuracy | "
            "runs × epochs | ÷ PyTorch | ÷ GEMM-only |",
            "|---|---|---:|---:|---:|---:|---:|---:|"]
    checks = []
    for cid, net, batch, lr, epochs, runs in cfgs:
        sums = {impl: summarize(outdir, cid, impl) for impl in IMPLS}
        base_t = sums["pytorch"]["sec"] if sums.get("pytorch") and "sec" in sums["pytorch"] else None
        base_g = sums["gemm"]["sec"] if sums.get("gemm") and "sec" in sums["gemm"] else None
        for impl in IMPLS:
            s = sums[impl]
            if s is None:
                continue
            name = f"{net} batch {batch} lr {lr}"
            if "sec" not in s:
                rows.append(f"| {name} | {LABEL[impl]} | not measured: {s['error'][:80]} | | | | | |")
                continue
            rt = f"{s['sec'] / base_t:.2f}×" if base_t else "—"
            rg = f"{s['sec'] / base_g:.2f}×" if base_g else "—"
            note = f" ({len(s['errors'])} failed)" if s["errors"] else ""
            rows.append(f"| {name} | {LABEL[impl]} | {s['sec']:.4f} | {s['min']:.4f} | {fmt_acc(s)} | "
                        f"{s['runs']} × {s['epochs']}{note} | {rt} | {rg} |")
        m = sums.get("mlpsweep")
        for peer, limit in TARGETS.get(cid, []):
            p = sums.get(peer)
            if m and "sec" in m and p and "sec" in p:
                r = m["sec"] / p["sec"]
                rmin = m["min"] / p["min"]
                checks.append(f"- {net} batch {batch}: mlpsweep/{LABEL[peer]} = {r:.2f} "
                              f"(issue 6 target ≤ {limit:.2f}: {'met' if r <= limit else 'not met'}); "
                              f"fastest epochs' ratio {rmin:.2f}")
            else:
                checks.append(f"- {net} batch {batch}: mlpsweep/{LABEL[peer]} not available "
                              f"(target ≤ {limit:.2f})")
    with open(os.path.join(outdir, "facts.md")) as fh:
        facts = fh.read().rstrip()
    body = "## Training: seconds per epoch and test accuracy\n\n" + "\n".join(rows) + "\n\nRatios of the medians against the targets of issue 6 " + \
        "(the ratio of the fastest epochs is less sensitive to other load on the machine):\n\n" + \
        "\n".join(checks) + "\n\n" + facts + "\n"
    print(body)
    if results_md:
        section(results_md, "training", body)


def section(path, name, body):
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->"
    text = open(path).read() if os.path.exists(path) else "# Benchmark results\n"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    if begin in text and end in text:
        pre, rest = text.split(begin, 1)
        post = rest.split(end, 1)[1]
        text = pre + block + post
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    with open(path, "w") as fh:
        fh.write(text)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "table":
        table(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "section":
        section(sys.argv[2], sys.argv[3], sys.stdin.read())
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
