#!/usr/bin/env python3
"""Plot labels and text through the real mlpctl, a private mlpd and real
mlp-worker runs (issue 16): configurations are named by the keys that vary
between them (two configurations never read the same; the full text is the
tooltip), no text of any plot kind runs past its SVG viewBox (by DejaVu Sans'
advances, and in headless Chromium: the bounding box of every <text>,
rotations included, against the viewBox), `show` cuts nothing when its
output is not a terminal, the test-metric ranking draws every seed's value and
says it is not used for selection, pruned configurations are shown as such
(not ranked) in plots and report, and the report of a 2-D sweep whose trials
saved models holds its decision boundary.  Without chromium only the Chromium
part is left out."""
import json, os, re, shutil, signal, subprocess, sys, tempfile, time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "dashboard"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import cdp  # noqa: E402
import font_widths  # noqa: E402  the DejaVu Sans advances svg_text_width uses

MLPCTL, MLPD, WORKER = os.environ["MLPCTL"], os.environ["MLPD"], os.environ["MLP_WORKER"]
if not (os.access(MLPD, os.X_OK) and os.access(WORKER, os.X_OK)):
    print("skip: mlpd or mlp-worker is not built yet")
    sys.exit(77)

tmp = tempfile.mkdtemp(prefix="mlp-labels.")
env = dict(os.environ, MLPD_HOME=tmp + "/home", MLPD_DATA=tmp + "/data")
for k in ("MLPD_SOCKET", "XDG_STATE_HOME", "COLUMNS"):
    env.pop(k, None)
failures = 0
daemon = None
browser = None
NS = "{http://www.w3.org/2000/svg}"
NEW_KINDS = ("parallel", "importance", "heatmap")  # checked for overlapping texts too


def check(cond, what, detail=None):
    global failures
    if cond:
        print("ok:   " + what)
    else:
        failures += 1
        print("FAIL: %s%s" % (what, "" if detail is None else ": %s" % (detail,)), file=sys.stderr)
    return cond


def ctl(*args, ok=True):
    r = subprocess.run([MLPCTL, *args], env=env, capture_output=True, text=True, timeout=300,
                       stdin=subprocess.DEVNULL)
    if ok and r.returncode != 0:
        raise SystemExit("mlpctl %s exited %d: %s" % (" ".join(args), r.returncode, r.stderr))
    return r


def submit(name, grid):
    path = os.path.join(tmp, name + ".json")
    with open(path, "w") as f:
        json.dump(dict(grid, name=name), f)
    ctl("submit", path)


def texts(svg_path):
    """(text, tooltip of its group or None) of every <text> in an SVG file."""
    root = ET.parse(svg_path).getroot()
    out = []

    def walk(el, tip):
        t = el.find(NS + "title")
        if t is not None:
            tip = t.text
        for ch in el:
            if ch.tag == NS + "text":
                out.append(("".join(ch.itertext()), tip))
            else:
                walk(ch, tip)
    walk(root, None)
    return out


def metric_overflow(svg_path, fonts):
    """Texts (not rotated) whose extent by the font's advances leaves the viewBox."""
    root = ET.parse(svg_path).getroot()
    vw = float(root.get("viewBox").split()[2])
    bad = []

    def walk(el, bold):
        bold = bold or el.get("font-weight") == "bold"
        for ch in el:
            if ch.tag == NS + "text" and not ch.get("transform"):
                t = "".join(ch.itertext())
                w = font_widths.text_width(t, float(ch.get("font-size", 16)),
                                           bold or ch.get("font-weight") == "bold", fonts)
                x = float(ch.get("x", 0))
                a = ch.get("text-anchor", "start")
                x0 = x - w if a == "end" else x - w / 2 if a == "middle" else x
                if x0 < -0.5 or x0 + w > vw + 0.5:
                    bad.append((t, round(x0), round(x0 + w), vw))
            elif ch.tag != NS + "text":
                walk(ch, bold)
    walk(root, False)
    return bad


def row_labels(svg_path):
    return [(t, tip) for t, tip in texts(svg_path) if re.match(r"#\d+ ", t)]


def cleanup():
    if browser:
        browser.close()
    if daemon and daemon.poll() is None:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(30)
        except subprocess.TimeoutExpired:
            daemon.kill()
    shutil.rmtree(tmp, ignore_errors=True)


try:
    daemon = subprocess.Popen([MLPD, "--foreground", "--worker", WORKER, "--workers", "2"],
                              env=env, stdout=subprocess.DEVNULL,
                              stderr=open(tmp + "/mlpd.err", "w"))
    deadline = time.monotonic() + 60
    while ctl("status", ok=False).returncode != 0:
        if time.monotonic() > deadline or daemon.poll() is not None:
            raise SystemExit("mlpd did not start: " + open(tmp + "/mlpd.err").read())
        time.sleep(0.1)

    # Two configurations differing only in momentum; lr is a grid key with one value,
    # lr_schedule a long one that is the same in both: neither may crowd momentum out.
    sched = {"kind": "step", "step_size": 3, "gamma": 0.5, "per": "iteration"}
    submit("lab", {"dataset": {"name": "circles", "n": 200}, "seeds": 3,
                   "base": {"epochs": 3, "optimizer": "momentum"},
                   "grid": {"lr": [0.1], "lr_schedule": [sched], "hidden": [[4] * 12],
                            "momentum": [0.5, 0.9]}})
    # A union of grids: each configuration carries the other part's keys at their
    # defaults (dropout=0, l2=0): labels name only what differs.  2-D data, models
    # saved; a long name makes every title wider than the plots' usual width.
    UNI = "union-of-two-grids-" + "with-a-long-descriptive-name-" * 3 + "moons"
    submit(UNI, {"dataset": {"name": "moons", "n": 240}, "seeds": 2,
                   "base": {"epochs": 3, "hidden": [8], "save": "model",
                            "lr_schedule": sched},
                   "grid": [{"train_size": [60, 180], "dropout": [0.1]},
                            {"train_size": [60, 180], "l2": [0.001]}]})
    # Configuration 4 cannot learn: at the first rung (epoch 1) halving keeps the
    # best third, so it is pruned while its later seeds are still queued.
    submit("pru", {"dataset": {"name": "circles", "n": 400}, "seeds": 3,
                   "base": {"epochs": 3, "hidden": [8], "batch_size": 16},
                   "grid": {"lr": [0.3, 0.2, 0.1, 0.00001]},
                   "prune": {"kind": "halving", "min_epochs": 1, "eta": 3, "rule": "rank"}})
    # Learning rates of 1e-05: the rate curves' axis ticks at that scale.
    submit("tiny", {"dataset": {"name": "circles", "n": 100}, "seeds": 1, "base": {"epochs": 2},
                    "grid": {"lr": [0.00001, 0.00003]}})
    # Confirmation on fresh seeds: the ranking's confirmed marks and texts.
    submit("conf", {"dataset": {"name": "circles", "n": 200}, "seeds": [1, 2],
                    "base": {"epochs": 2}, "grid": {"lr": [0.3, 0.03, 0.003]},
                    "confirm": {"top": 2, "seeds": 2}})
    ctl("wait", "lab")
    ctl("wait", "conf")
    ctl("wait", UNI)
    ctl("wait", "tiny")
    ctl("wait", "pru", ok=False)  # exit 1: pruned trials did not succeed

    # ---- labels name the varying keys, never cut, distinct ------------------------------
    out = tmp + "/lab-ranking.svg"
    ctl("plot", "lab", "--kind", "ranking", "--out", out)
    labels = row_labels(out)
    shown = sorted(t for t, _ in labels)
    check(len(labels) == 2 and len(set(shown)) == 2, "ranking: two distinct row labels", shown)
    check(all("momentum=" in t for t in shown) and any("momentum=0.5" in t for t in shown)
          and any("momentum=0.9" in t for t in shown), "ranking: the labels show momentum", shown)
    check(not any("lr=" in t or "lr_schedule" in t or "\u2026" in t for t in shown),
          "ranking: keys the same in every configuration are left out, nothing is cut", shown)
    check(all(tip and "lr_schedule=" in tip and '"per":"iteration"' in tip and "momentum=" in tip
              for _, tip in labels), "ranking: the tooltip holds every grid key in full",
          [tip for _, tip in labels])
    for kind in ("gap", "curves"):
        p = "%s/lab-%s.svg" % (tmp, kind)
        ctl("plot", "lab", "--kind", kind, "--out", p)
        t = [x for x, _ in texts(p) if "momentum=" in x]
        check(len(set(t)) == 2 and not any("lr_schedule" in x or "\u2026" in x for x in t),
              "%s: the two configurations read differently, by momentum" % kind, t)

    out = tmp + "/uni-ranking.svg"
    ctl("plot", UNI, "--kind", "ranking", "--out", out)
    shown = [t for t, _ in row_labels(out)]
    check(len(shown) == 4 and len(set(shown)) == 4, "union ranking: four distinct labels", shown)
    check(all("train_size=" in t and "dropout=" in t and "l2=" in t and "lr_schedule" not in t
              for t in shown), "union ranking: the keys that vary, not the constant schedule",
          shown)
    out = tmp + "/uni-learning.svg"
    ctl("plot", UNI, "--kind", "learning", "--key", "train_size", "--out", out)
    groups = [t for t, _ in texts(out) if "dropout=" in t]
    check(len(set(groups)) == 2 and not any("\u2026" in t for t in groups),
          "learning: the two groups are told apart by their varying keys", groups)

    # ---- the test metric: mean ± SE, every seed, never used for selection ---------------
    out = tmp + "/lab-test.svg"
    ctl("plot", "lab", "--kind", "ranking", "--metric", "test_accuracy", "--out", out)
    svg = open(out).read()
    check("test_accuracy (not used for selection; order by val_accuracy)" in svg
          and "never used to choose" in svg, "test ranking: labelled as not used for selection")
    seeds = re.findall(r'<circle class="seed" cx="[0-9.]+" cy="[0-9.]+"[^>]*><title>([^<]*)</title>',
                       svg)
    rows = json.loads(ctl("--json", "results", "lab", "--trials").stdout)["rows"]
    want = sorted("%.4f" % r["test_accuracy"] for r in rows if r["state"] == "done")
    got = sorted(t.rsplit(" ", 1)[1] for t in seeds)
    check(len(seeds) == 6 and got == want,
          "test ranking: one open circle per seed, at the seed's test_accuracy", (got, want))
    check(all(re.search(r", seed \d: test_accuracy ", t) for t in seeds),
          "test ranking: each circle's tooltip names its seed and the metric", seeds)

    # ---- pruned configurations: listed as pruned, not ranked ----------------------------
    show = json.loads(ctl("--json", "show", "pru").stdout)
    pruned = {c["config"]["id"]: c["pruned"] for c in show["configs"] if c["pruned"] is not None}
    check(4 in pruned, "pru: configuration 4 (lr=1e-05) is pruned", pruned)
    for kind in ("ranking", "gap"):
        p = "%s/pru-%s.svg" % (tmp, kind)
        ctl("plot", "pru", "--kind", kind, "--out", p)
        t = [x for x, _ in texts(p)]
        marks = [x for x in t if x.startswith("pruned at epoch")]
        check(len(marks) == len(pruned) and "lr=1e-05" in t
              and not any(re.match(r"#\d+ lr=1e-05", x) for x in t)
              and any("pruned: stopped early" in x for x in t),
              "%s: pruned configurations shown as pruned, without a rank" % kind, t)
    rep_out = tmp + "/pru.html"
    ctl("report", "pru", "--out", rep_out)
    html = open(rep_out).read()
    check("pruned at epoch %d</td>" % pruned.get(4, -1) in html and "Pruned (stopped early" in html,
          "report: pruned configurations marked in its tables")

    # ---- the report of a 2-D sweep that saved models: decision boundaries ----------------
    rep_out = tmp + "/uni.html"
    ctl("report", UNI, "--out", rep_out)
    html = open(rep_out).read()
    check(re.search(r"<h2>Decision boundary of #1 \(config \d+, trial \d+, seed \d+\)</h2>\s*"
                    r"<div class=\"plot\">\s*<svg", html) is not None
          and html.count('class="cell"') > 100 and html.count('class="train"') > 0,
          "report: the best configuration's decision boundary is drawn")
    rep_out = tmp + "/lab.html"
    ctl("report", "lab", "--out", rep_out)
    check("Decision boundary" not in open(rep_out).read(),
          "report: no boundary section for a sweep that saved no models")

    # ---- compare: A and B named by the keys they differ in -------------------------------
    r = ctl("compare", "lab", "1", "2")
    check("config 1 (momentum=0.5)" in r.stdout and "config 2 (momentum=0.9)" in r.stdout
          and "same in A and B: " in r.stdout and '"per":"iteration"' in r.stdout
          and "\u2026" not in r.stdout, "compare: A and B by momentum, the rest once, uncut",
          r.stdout)

    # ---- show: whole values when the output is not a terminal ---------------------------
    r = ctl("show", "lab")
    check('"per":"iteration"' in r.stdout and "\u2026" not in r.stdout,
          "show into a pipe: hyperparameters not cut", r.stdout)
    r = subprocess.run([MLPCTL, "show", "lab"], env=dict(env, COLUMNS="101"), capture_output=True,
                       text=True, timeout=60)
    check("\u2026" in r.stdout, "show with COLUMNS=101 fits 101 columns (cut with \u2026)", r.stdout)

    # ---- every plot kind: text inside the viewBox (Chromium) ----------------------------
    trials = json.loads(ctl("--json", "results", UNI, "--trials").stdout)["rows"]
    plots = {
        "ranking": ["lab", "--kind", "ranking"],
        "ranking-test": ["lab", "--kind", "ranking", "--metric", "test_accuracy"],
        "gap": ["lab", "--kind", "gap"],
        "curves": ["lab", "--kind", "curves"],
        "by": [UNI, "--kind", "by", "--key", "dropout"],
        "learning": [UNI, "--kind", "learning", "--key", "train_size"],
        "confusion": ["lab", "--kind", "confusion", "--config", "1"],
        "boundary": ["--kind", "boundary", "--trial", str(trials[0]["trial"])],
        "uni-ranking": [UNI, "--kind", "ranking"],
        "uni-curves": [UNI, "--kind", "curves"],
        "uni-confusion": [UNI, "--kind", "confusion", "--config", "1"],
        "uni-gap": [UNI, "--kind", "gap"],
        "lab-lr": ["lab", "--kind", "curves", "--metric", "lr"],
        "tiny-lr": ["tiny", "--kind", "curves", "--metric", "lr"],
        "pru-ranking": ["pru", "--kind", "ranking"],
        "pru-gap": ["pru", "--kind", "gap"],
        "uni-parallel": [UNI, "--kind", "parallel"],
        "lab-parallel": ["lab", "--kind", "parallel"],
        "pru-parallel": ["pru", "--kind", "parallel"],
        "lab-importance": ["lab", "--kind", "importance"],
        "conf-ranking": ["conf", "--kind", "ranking"],
        "uni-importance": [UNI, "--kind", "importance", "--method", "fanova"],
        "uni-heatmap": [UNI, "--kind", "heatmap", "--keys", "train_size,dropout"],
    }
    files = {}
    keep = os.environ.get("LABELS_KEEP")  # a directory to keep the plots in
    for name, args in plots.items():
        p = "%s/all-%s.svg" % (keep or tmp, name)
        ctl("plot", *args, "--out", p)
        files[name] = p

    fonts = font_widths.load()
    for name, p in files.items():
        bad = metric_overflow(p, fonts)
        check(not bad, "%s: every text inside the viewBox by DejaVu Sans' advances" % name, bad)

    chromium = cdp.find_chromium()
    if not chromium:
        print("SKIP (part): chromium is not installed; text extents not measured")
    else:
        ratio = []
        browser = cdp.Browser(chromium, tmp + "/chromium", width=1400, height=1000, timeout=60)
        js = r"""(() => {
            const svg = document.documentElement, vb = svg.viewBox.baseVal;
            const o = svg.getBoundingClientRect(), bad = [];
            const all = document.querySelectorAll('text');
            for (const t of all) {
                const r = t.getBoundingClientRect();
                const x0 = r.left - o.left, x1 = r.right - o.left, y0 = r.top - o.top, y1 = r.bottom - o.top;
                if (x0 < -0.5 || y0 < -0.5 || x1 > vb.width + 0.5 || y1 > vb.height + 0.5)
                    bad.push([t.textContent, Math.round(x0), Math.round(x1), Math.round(y0), Math.round(y1)]);
            }
            const lens = [];
            for (const t of all)
                if (t.textContent.length > 8)
                    lens.push([t.textContent, getComputedStyle(t).fontWeight >= 600,
                               parseFloat(getComputedStyle(t).fontSize), t.getComputedTextLength()]);
            const boxes = [];
            for (const t of all) {
                const r = t.getBoundingClientRect();
                boxes.push([t.textContent, r.left, r.top, r.right, r.bottom]);
            }
            return JSON.stringify({w: vb.width, h: vb.height, n: all.length, bad: bad, lens: lens,
                                   boxes: boxes});
        })()"""
        for name, p in files.items():
            browser.goto("file://" + p)
            got = browser.wait_for("document.readyState === 'complete' && "
                                   "document.documentElement.tagName === 'svg' && "
                                   "document.querySelectorAll('text').length > 0", timeout=30)
            if not check(got, "%s: Chromium loaded the SVG" % name):
                continue
            res = json.loads(browser.eval(js))
            check(res["n"] > 3 and not res["bad"],
                  "%s: all %d text elements inside the %gx%g viewBox" % (name, res["n"], res["w"],
                                                                        res["h"]), res["bad"])
            if any(k in name for k in NEW_KINDS):  # issue 18's kinds: no two texts overlap
                b, over = res["boxes"], []
                for i in range(len(b)):
                    for j in range(i + 1, len(b)):
                        dx = min(b[i][3], b[j][3]) - max(b[i][1], b[j][1])
                        dy = min(b[i][4], b[j][4]) - max(b[i][2], b[j][2])
                        if dx > 1 and dy > 1:
                            over.append((b[i][0], b[j][0]))
                check(not over, "%s: no two texts overlap" % name, over)
            # The widths layouts are sized by never fall short of what Chromium draws.
            short = []
            for text, bold, size, real in res["lens"]:
                ours = font_widths.text_width(text, size, bold, fonts)
                ratio.append(real / ours)
                if ours < real - 0.5:
                    short.append((text, round(ours, 1), round(real, 1)))
            check(not short, "%s: measured widths cover Chromium's" % name, short)
        if ratio:
            print("Chromium width / svg_text_width over %d texts: min %.3f, max %.3f"
                  % (len(ratio), min(ratio), max(ratio)))
finally:
    cleanup()

print("%d failure(s)" % failures)
sys.exit(1 if failures else 0)
