#!/usr/bin/env python3
"""The issue-18 plots through the real mlpctl, mlpd and workers: a grid with
halving pruning, a complete grid and a Sobol search are submitted with
mlpctl, then the plots are drawn and their SVG parsed.
  parallel: one axis per varying key and one for the metric, one polyline per
    configuration at its keys' values (log axis for a log_uniform key,
    categories for choices and hidden shapes) and at its mean from `mlpctl
    results --format json`, pruned configurations (those `show` marks) faint
    and dashed; a metric the trials lack is a usage error.
  importance: the bars are `mlpctl importance --json`'s keys in its order,
    sized by omega^2 (ANOVA, p-values written) or the fANOVA share.
  heatmap: each cell the mean of results' configuration means with those two
    values; usage errors naming the problem for bad --keys."""
import json
import math
import os
import subprocess
import tempfile
import xml.etree.ElementTree as ET

from harness import HERE, SLOW, Daemon, check, done

MLPCTL = os.environ.get("MLPCTL") or os.path.join(HERE, "../../build/cli/mlpctl")
NS = "{http://www.w3.org/2000/svg}"


def ctl(d, *args, timeout=120):
    return subprocess.run([MLPCTL, "--socket", d.sock] + list(args), env=d.env(),
                          capture_output=True, timeout=timeout * SLOW, text=True)


def ctl_json(d, *args):
    p = ctl(d, *args)
    if p.returncode != 0:
        raise SystemExit("mlpctl %s exited %d: %s" % (" ".join(args), p.returncode, p.stderr))
    return json.loads(p.stdout)


# lr 1e-05 cannot learn: halving (keep the best third) prunes it at the first rung.
GRID = {"name": "pgrid", "dataset": {"name": "circles", "n": 300, "noise": 0.1}, "seeds": 3,
        "base": {"epochs": 4, "batch_size": 16},
        "grid": {"lr": [0.3, 0.03, 0.00001], "hidden": [[4], [16]]},
        "prune": {"kind": "halving", "min_epochs": 1, "eta": 3, "rule": "rank"}}
# A complete grid (no pruning) for the ANOVA and the heat map of its two keys.
AGRID = {"name": "pfull", "dataset": {"name": "circles", "n": 300, "noise": 0.1}, "seeds": 3,
         "base": {"epochs": 4, "batch_size": 16},
         "grid": {"lr": [0.3, 0.03, 0.003], "hidden": [[4], [16]]}}
SOBOL = {"name": "psobol", "dataset": {"name": "moons", "n": 300}, "seeds": 2,
         "base": {"epochs": 3, "batch_size": 16},
         "search": {"kind": "sobol", "trials": 8, "seed": 3,
                    "space": {"lr": {"log_uniform": [0.001, 0.5]},
                              "activation": {"choice": ["relu", "tanh"]},
                              "hidden": {"choice": [[4], [16]]}}}}


def plot(d, tmp, sweep, kind, *extra):
    out = os.path.join(tmp, "%s-%s.svg" % (sweep, kind))
    p = ctl(d, "plot", sweep, "--kind", kind, "--out", out, *extra)
    if not check(p.returncode == 0, "plot %s --kind %s %s succeeds" % (sweep, kind, " ".join(extra)),
                 p.stderr):
        return None
    return ET.parse(out).getroot()


def axes(root):
    """[(name, x, y_top, y_bot, {label: y})] of the parallel plot's axes, left to right."""
    out = []
    for g in root.iter(NS + "g"):
        if g.get("class") != "axis":
            continue
        line = g.find(NS + "line")
        name = [t.text for t in g.iter(NS + "text") if t.get("class") == "axis-name"][0]
        ticks = {t.text: float(t.get("y")) - 4 for t in g.iter(NS + "text")
                 if t.get("class") == "tick"}
        out.append((name, float(line.get("x1")), float(line.get("y1")), float(line.get("y2")),
                    ticks))
    return sorted(out, key=lambda a: a[1])


def polylines(root):
    """{config id: (class, stroke-opacity, [(x, y)])}"""
    out = {}
    for pl in root.iter(NS + "polyline"):
        pts = [tuple(map(float, p.split(","))) for p in pl.get("points").split()]
        out[int(pl.get("data-config"))] = (pl.get("class"), float(pl.get("stroke-opacity")), pts)
    return out


def check_parallel(d, tmp, sweep, metric="val_accuracy", log_keys=()):
    root = plot(d, tmp, sweep, "parallel")
    if root is None:
        return
    res = ctl_json(d, "results", sweep, "--format", "json")
    trials = ctl_json(d, "--json", "results", sweep, "--trials")["rows"]
    show = ctl_json(d, "--json", "show", sweep)
    keys = res["keys"]
    confs = sorted({r["config"] for r in trials if not r.get("confirm")})
    pruned = {c["config"]["id"] for c in show["configs"] if c.get("pruned") is not None}
    ax = axes(root)
    check([a[0] for a in ax] == keys + [metric],
          "%s parallel: one axis per varying key and one for %s, in order" % (sweep, metric),
          [a[0] for a in ax])
    lines = polylines(root)
    check(sorted(lines) == confs, "%s parallel: one polyline per configuration" % sweep,
          (sorted(lines), confs))
    faint = {c for c, (cls, op, _) in lines.items() if "pruned" in cls.split() and op < 0.5}
    check(faint == pruned and all(op >= 0.8 for c, (_, op, _) in lines.items() if c not in pruned),
          "%s parallel: the configurations show marks pruned are faint, the rest not" % sweep,
          (faint, pruned))
    # The metric axis: its tick labels give the linear map; each line ends at its mean.
    name, x, top, bot, ticks = ax[-1]
    tv = sorted((float(k), y) for k, y in ticks.items())
    (v0, y0), (v1, y1) = tv[0], tv[-1]
    means = {r["config"]: r[metric + "_mean"] for r in res["rows"]}
    bad = []
    for c, (cls, _, pts) in lines.items():
        if c in pruned:
            continue
        want = y0 + (means[c] - v0) * (y1 - y0) / (v1 - v0)
        if abs(pts[-1][0] - x) > 0.5 or abs(pts[-1][1] - want) > 0.75:
            bad.append((c, pts[-1], want))
    check(len(means) > 0 and not bad,
          "%s parallel: each line meets the metric axis at its mean from results" % sweep, bad)
    # Key axes: log keys by the log of their value, categories where labelled.
    values = {r["config"]: r for r in trials}
    for j, k in enumerate(keys):
        kname, kx, ktop, kbot, kticks = ax[j]
        bad = []
        for c, (_, _, pts) in lines.items():
            v = values[c][k]
            if k in log_keys:
                lo, hi = SOBOL["search"]["space"][k]["log_uniform"]
                want = kbot - (math.log(v) - math.log(lo)) / (math.log(hi) - math.log(lo)) * (kbot - ktop)
            elif isinstance(v, (int, float)):  # a grid key: its own values are the ticks
                want = kticks.get("%g" % v)
            else:
                want = kticks.get(v if isinstance(v, str) else json.dumps(v, separators=(",", ":")))
            if want is None or abs(pts[j][1] - want) > 0.75 or abs(pts[j][0] - kx) > 0.5:
                bad.append((c, k, v, pts[j], want))
        check(not bad, "%s parallel: lines cross axis %s at each configuration's value" % (sweep, k),
              bad)
    return root


def check_importance(d, tmp, sweep, method, *extra):
    """The bars are `mlpctl importance --json`'s keys, in its order, sized by its values."""
    root = plot(d, tmp, sweep, "importance", *extra)
    doc = ctl_json(d, "importance", sweep, "--json", *extra)
    if root is None:
        return
    check(doc["method"] == method, "%s importance %s: method %s" % (sweep, " ".join(extra), method),
          doc["method"])
    bars = []
    for g in root.iter(NS + "g"):
        if (g.get("class") or "").split()[:1] == ["key"] and "interactions" not in g.get("class"):
            rect = g.find(NS + "rect")
            bars.append((float(rect.get("y")), g.get("data-key"), float(rect.get("width")),
                         float(g.get("data-value"))))
    bars.sort()
    want = [k["key"] for k in doc["keys"]]
    check([b[1] for b in bars] == want,
          "%s importance %s: bars top to bottom in importance --json's order" % (sweep, " ".join(extra)),
          ([b[1] for b in bars], want))
    field = "omega2" if method == "anova" else "importance"
    vals = [k[field] or 0 for k in doc["keys"]]
    check(all(abs(b[3] - v) < 1e-9 for b, v in zip(bars, vals)),
          "%s importance: each bar carries the verb's %s" % (sweep, field), (bars, vals))
    big = max(range(len(bars)), key=lambda i: bars[i][2]) if bars else 0
    ok = bars and bars[big][3] > 0
    for b in bars:
        ok = ok and abs(b[2] / bars[big][2] - max(b[3], 0) / bars[big][3]) < 0.01
    check(ok, "%s importance: bar lengths proportional to %s" % (sweep, field), bars)
    svg = "\n".join("".join(t.itertext()) for t in root.iter(NS + "text"))
    if method == "anova":
        ps = [k["p"] for k in doc["keys"] if k["p"] is not None]
        check(ps and all(("p < 0.001" in svg) if p < 0.001 else ("p = %.3f" % p in svg) for p in ps),
              "%s importance (ANOVA): each key's p-value is written" % sweep, ps)


def check_heatmap(d, tmp, sweep, a, b):
    """Cells at (a, b) hold the mean of results' configuration means there (exactly two
    keys vary: each cell is one configuration), blank where none is."""
    root = plot(d, tmp, sweep, "heatmap", "--keys", "%s,%s" % (a, b))
    if root is None:
        return
    res = ctl_json(d, "results", sweep, "--format", "json")
    metric = res["sweep"]["metric"]

    def label(v):
        if isinstance(v, str):
            return v
        if isinstance(v, (int, float)):
            return "%g" % v
        return json.dumps(v, separators=(",", ":"))
    want = {}
    for r in res["rows"]:
        want.setdefault((label(r[a]), label(r[b])), []).append(r[metric + "_mean"])
    got, blank = {}, set()
    for g in root.iter(NS + "g"):
        if g.get("class") != "cell":
            continue
        key = (g.get("data-a"), g.get("data-b"))
        if g.get("data-mean") is None:
            blank.add(key)
            continue
        text = [t.text for t in g.iter(NS + "text")][0]
        got[key] = (float(g.get("data-mean")), text)
    bad = []
    for key, ms in want.items():
        m = sum(ms) / len(ms)
        if key not in got or abs(got[key][0] - m) > 1e-9 or \
                not got[key][1].startswith(("%.4f" % m).rstrip("0").rstrip(".")):
            bad.append((key, m, got.get(key)))
    check(not bad and set(got) == set(want),
          "%s heatmap %s,%s: every cell is the mean from results --format json" % (sweep, a, b),
          (bad, sorted(got), sorted(want)))
    check(not blank & set(want), "%s heatmap: blank cells only where no configuration is" % sweep,
          blank)
    if len(res["keys"]) == 2:
        cells = [g for g in root.iter(NS + "g") if g.get("class") == "cell"]
        texts = [[t.text for t in g.iter(NS + "text")] for g in cells if g.get("data-mean")]
        check(all(" \u00b1 " in t[0] for t in texts),
              "%s heatmap: each cell reads mean \u00b1 SE" % sweep, texts)


home = tempfile.mkdtemp(prefix="mlpd-it-plots-")
d = Daemon(workers=2, home=home)
try:
    d.start()
    for g in (GRID, AGRID, SOBOL):
        path = os.path.join(home, g["name"] + ".json")
        with open(path, "w") as f:
            json.dump(g, f)
        p = ctl(d, "submit", path)
        check(p.returncode == 0, "mlpctl submit %s" % g["name"], p.stderr)
    ctl(d, "wait", "pgrid", timeout=240)  # exit 1: pruned trials did not succeed
    for name in ("pfull", "psobol"):
        p = ctl(d, "wait", name, timeout=240)
        check(p.returncode == 0, "the %s sweep ends" % name, p.stderr)

    show = ctl_json(d, "--json", "show", "pgrid")
    pruned = [c["config"]["grid"]["lr"] for c in show["configs"] if c.get("pruned") is not None]
    check(0.00001 in pruned, "pgrid: halving pruned lr 1e-05", pruned)

    check_parallel(d, home, "pgrid")
    check_parallel(d, home, "psobol", log_keys=("lr",))
    p = ctl(d, "plot", "psobol", "--kind", "parallel", "--metric", "val_nothing", "--out",
            os.path.join(home, "x.svg"))
    check(p.returncode == 2 and "val_nothing" in p.stderr,
          "parallel --metric the trials lack: a usage error naming it", (p.returncode, p.stderr))
    root = plot(d, home, "psobol", "parallel", "--metric", "val_loss")
    if root is not None:
        check(axes(root)[-1][0] == "val_loss", "parallel --metric val_loss: the metric axis")
    check_importance(d, home, "pfull", "anova")
    check_importance(d, home, "psobol", "fanova")
    check_importance(d, home, "pfull", "fanova", "--method", "fanova")
    check_importance(d, home, "pfull", "anova", "--metric", "val_loss")
    p = ctl(d, "plot", "pfull", "--kind", "importance", "--method", "forest", "--out",
            os.path.join(home, "x.svg"))
    check(p.returncode == 2 and "--method" in p.stderr and "forest" in p.stderr,
          "importance --method forest: a usage error naming it", p.stderr)
    p = ctl(d, "plot", "psobol", "--kind", "importance", "--method", "anova", "--out",
            os.path.join(home, "x.svg"))
    check(p.returncode != 0 and "complete grid" in p.stderr,
          "importance --method anova of a search: refused with the reason", p.stderr)

    check_heatmap(d, home, "pfull", "lr", "hidden")
    check_heatmap(d, home, "pfull", "hidden", "lr")
    check_heatmap(d, home, "psobol", "activation", "hidden")
    root = plot(d, home, "psobol", "heatmap", "--keys", "lr,activation")
    if root is not None:
        cells = [g for g in root.iter(NS + "g") if g.get("class") == "cell"]
        cols = {g.get("data-a") for g in cells}
        n = sum(int(g.get("data-n")) for g in cells if g.get("data-n"))
        check(2 <= len(cols) <= 6 and all("–" in c for c in cols),
              "heatmap of a drawn lr: its values grouped into ranges", cols)
    for keys, why in (("lr,lr", "twice"), ("lr,l2", "does not vary"), ("lr", "two keys")):
        p = ctl(d, "plot", "pfull", "--kind", "heatmap", "--keys", keys, "--out",
                os.path.join(home, "x.svg"))
        check(p.returncode == 2 and why in p.stderr,
              "heatmap --keys %s: a usage error saying %r" % (keys, why), p.stderr)
    p = ctl(d, "plot", "pfull", "--kind", "heatmap", "--out", os.path.join(home, "x.svg"))
    check(p.returncode == 2 and "needs --keys" in p.stderr, "heatmap without --keys: usage error",
          p.stderr)
finally:
    d.stop()
    d.remove()
done()
