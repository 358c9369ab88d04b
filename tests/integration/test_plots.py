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
    values; usage errors naming the problem for bad --keys.
  ranking and report of a sweep with "confirm": the confirmed rank and test
    mean of each confirmed configuration, as `best --json` has them.
  best: the pruned configurations listed as pruned at their rung, unranked.
  report: importance, parallel coordinates and the heat map of the two keys
    that vary (else the two most important)."""
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
# Confirmation: the two best of three learning rates run again on 2 fresh seeds.
CONF = {"name": "pconf", "dataset": {"name": "circles", "n": 300, "noise": 0.1}, "seeds": [1, 2],
        "base": {"epochs": 4, "batch_size": 16}, "grid": {"lr": [0.3, 0.03, 0.003]},
        "confirm": {"top": 2, "seeds": 2}}
# lr 1000 diverges on every seed: no finite mean.
DIV = {"name": "pdiv", "dataset": {"name": "circles", "n": 200}, "seeds": 2,
       "base": {"epochs": 3, "batch_size": 16}, "grid": {"lr": [0.1, 1000], "hidden": [[8], [16]]}}
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


def check_diverged(d, tmp):
    """Configurations whose every seed diverged: red dashed lines to the "diverged" slot
    under the metric axis in parallel, "diverged" in their heat map cells."""
    show = ctl_json(d, "--json", "show", "pdiv")
    div = {c["config"]["id"] for c in show["configs"]
           if c["diverged"] and c["diverged"] == c["seeds_done"]}
    check(div == {3, 4}, "pdiv: lr 1000 diverged on every seed", div)
    root = plot(d, tmp, "pdiv", "parallel")
    if root is not None:
        lines = polylines(root)
        red = {c for c, (cls, _, _) in lines.items() if "diverged" in cls.split()}
        _, x, top, bot, _ = axes(root)[-1]
        slot = [float(t.get("y")) - 4 for t in root.iter(NS + "text") if t.text == "diverged"]
        check(red == div and slot and all(abs(lines[c][2][-1][1] - slot[0]) < 0.5 and
                                          slot[0] > bot for c in red),
              "parallel: diverged configurations marked, ending at the diverged slot", (red, slot))
    root = plot(d, tmp, "pdiv", "heatmap", "--keys", "lr,hidden")
    if root is not None:
        cells = {g.get("data-a"): g for g in root.iter(NS + "g") if g.get("class") == "cell"}
        txt = ["".join(t.itertext()) for g in root.iter(NS + "g") if g.get("class") == "cell"
               and g.get("data-a") == "1000" for t in g.iter(NS + "text")]
        check(txt == ["diverged", "diverged"] and cells["1000"].get("data-mean") is None,
              "heatmap: the diverged configurations' cells blank, saying diverged", txt)


def check_confirmed(d, tmp):
    """plot --kind ranking and the report show the confirmed ranking beside the selection's."""
    best = ctl_json(d, "--json", "best", "pconf", "--top", "10")
    conf = best.get("confirmed") or {"configs": []}
    want = {c["config"]["id"]: (c["rank"], c["test"]["mean"], c["selection_rank"])
            for c in conf["configs"]}
    check(len(want) == 2, "pconf: best has the confirmed ranking of 2 configurations", conf)
    root = plot(d, tmp, "pconf", "ranking")
    if root is not None:
        got = {int(p.get("data-config")): (int(p.get("data-rank")), float(p.get("data-mean")))
               for p in root.iter(NS + "path") if p.get("class") == "confirmed"}
        check(set(got) == set(want) and
              all(got[c][0] == want[c][0] and abs(got[c][1] - want[c][1]) < 1e-9 for c in got),
              "ranking: a confirmed mark per confirmed configuration at its test mean and rank",
              (got, want))
        texts = sorted(t.text for t in root.iter(NS + "text") if t.get("class") == "confirmed-text")
        said = sorted("confirmed #%d: %.4f" % (r, m) for r, m, _ in want.values())
        check(len(texts) == len(said) and all(t.startswith(w) for t, w in zip(texts, said)),
              "ranking: each confirmed row says its confirmed rank and test mean", (texts, said))
    out = os.path.join(tmp, "pconf.html")
    p = ctl(d, "report", "pconf", "--out", out)
    if check(p.returncode == 0, "report pconf", p.stderr):
        root = ET.parse(out).getroot()
        tables = [t for t in root.iter("{http://www.w3.org/1999/xhtml}table")
                  if t.get("class") == "confirmed"]
        rows = [[("".join(td.itertext())) for td in tr] for tr in tables[0]][1:] if tables else []
        ok = len(rows) == len(want)
        for r in rows:
            match = [v for v in want.values() if v[0] == int(r[0])]
            ok = ok and match and r[2] == "#%d" % match[0][2] and \
                r[5].startswith("%.4f" % match[0][1])
        check(ok, "report: the confirmed ranking table (rank, selection rank, test mean)", rows)


def check_best_pruned(d):
    """mlpctl best lists the pruned configurations as pruned, at their rung, unranked."""
    show = ctl_json(d, "--json", "show", "pgrid")
    pruned = {c["config"]["id"]: c["pruned"] for c in show["configs"] if c.get("pruned") is not None}
    p = ctl(d, "best", "pgrid", "--top", "10")
    lines = [l for l in p.stdout.splitlines() if l.startswith("pruned  config ")]
    got = {int(l.split()[2]): int(l.split()[5].rstrip(":")) for l in lines}
    check(p.returncode == 0 and got == pruned and
          "Pruned (stopped early by the sweep's prune rule; not ranked): %d" % len(pruned)
          in p.stdout, "best: each pruned configuration listed with its rung, not ranked",
          (got, pruned, p.stdout))
    ranked = [l.split()[1] for l in p.stdout.splitlines() if l.startswith("#")]
    check(not set(int(c) for c in ranked if c.isdigit()) & set(pruned),
          "best: no pruned configuration is ranked", ranked)


def check_report(d, tmp, sweep):
    """The report holds importance, parallel coordinates and the heat map of the two keys
    that vary (else the two most important), each an inline SVG like the plot kind's."""
    out = os.path.join(tmp, sweep + ".html")
    p = ctl(d, "report", sweep, "--out", out)
    if not check(p.returncode == 0, "report %s" % sweep, p.stderr):
        return
    X = "{http://www.w3.org/1999/xhtml}"
    root = ET.parse(out).getroot()
    body = root.find(X + "body")
    sections, cur = {}, None
    for el in body:
        if el.tag == X + "h2":
            cur = "".join(el.itertext())
            sections[cur] = []
        elif cur:
            sections[cur].append(el)

    def svg_of(heading):
        for el in sections.get(heading, []):
            s = el.find(NS + "svg")
            if s is not None:
                return s
        return None
    res = ctl_json(d, "results", sweep, "--format", "json")
    imp = ctl(d, "importance", sweep, "--json")
    imp_keys = [k["key"] for k in json.loads(imp.stdout)["keys"]] if imp.returncode == 0 else None
    s = svg_of("Importance of each key")
    if imp_keys is not None:
        bars = sorted((float(g.find(NS + "rect").get("y")), g.get("data-key")) for g in s.iter(NS + "g")
                      if (g.get("class") or "") == "key") if s is not None else []
        check([k for _, k in bars] == imp_keys,
              "report %s: the importance bars in importance --json's order" % sweep, bars)
    else:  # the ANOVA of a grid thinned by pruning: fANOVA instead, saying why
        check(s is not None and "The ANOVA could not be computed" in open(out).read(),
              "report %s: importance by fANOVA, saying why the ANOVA could not" % sweep)
    s = svg_of("Parallel coordinates")
    trials = ctl_json(d, "--json", "results", sweep, "--trials")["rows"]
    nconf = len({r["config"] for r in trials if not r.get("confirm")})
    check(s is not None and len(list(s.iter(NS + "polyline"))) == nconf and
          len([g for g in s.iter(NS + "g") if g.get("class") == "axis"]) == len(res["keys"]) + 1,
          "report %s: parallel coordinates, a line per configuration" % sweep)
    if len(res["keys"]) == 2:
        heading = "Heat map of %s and %s" % tuple(res["keys"])
    else:
        f = json.loads(ctl(d, "importance", sweep, "--json", "--method", "fanova").stdout)
        heading = "Heat map of the two most important keys, %s and %s" % (
            f["keys"][0]["key"], f["keys"][1]["key"])
    s = svg_of(heading)
    check(s is not None and len([g for g in s.iter(NS + "g") if g.get("class") == "cell"]) >= 4,
          "report %s: %s" % (sweep, heading), list(sections))


home = tempfile.mkdtemp(prefix="mlpd-it-plots-")
d = Daemon(workers=2, home=home)
try:
    d.start()
    for g in (GRID, AGRID, SOBOL, CONF, DIV):
        path = os.path.join(home, g["name"] + ".json")
        with open(path, "w") as f:
            json.dump(g, f)
        p = ctl(d, "submit", path)
        check(p.returncode == 0, "mlpctl submit %s" % g["name"], p.stderr)
    ctl(d, "wait", "pgrid", timeout=240)  # exit 1: pruned trials did not succeed
    for name in ("pfull", "psobol", "pconf", "pdiv"):
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
    check_diverged(d, home)
    check_confirmed(d, home)
    check_best_pruned(d)
    check_report(d, home, "pfull")
    check_report(d, home, "psobol")
    check_report(d, home, "pgrid")
finally:
    d.stop()
    d.remove()
done()
