#!/usr/bin/env python3
"""mlpctl dashboard end to end: a private mlpd, real sweeps, the dashboard over HTTP
(token, 403, no CORS, escaping, paging at 100k trials) and in headless Chromium
(DOM, a live update while a sweep runs, a screenshot kept in the build dir).
Skips (77) only when chromium or the libmicrohttpd build is absent."""
import json, os, re, shutil, signal, subprocess, sys, tempfile, time, urllib.request, urllib.error

MLPCTL, MLPD, WORKER = os.environ["MLPCTL"], os.environ["MLPD"], os.environ["MLP_WORKER"]
SHOT = os.environ.get("DASH_SCREENSHOT", "")
chromium = shutil.which("chromium") or shutil.which("chromium-browser")
if not chromium:
    print("skip: chromium is not installed"); sys.exit(77)

tmp = tempfile.mkdtemp(prefix="mlp-dash.")
env = dict(os.environ, MLPD_HOME=tmp + "/home", MLPD_DATA=tmp + "/data")
env.pop("MLPD_SOCKET", None); env.pop("XDG_STATE_HOME", None)
procs = []
failures = 0

def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what, file=sys.stderr)

def ctl(*args, ok=True):
    r = subprocess.run([MLPCTL, *args], env=env, capture_output=True, text=True, timeout=600)
    if ok and r.returncode != 0:
        raise SystemExit("mlpctl %s: %s" % (args, r.stderr))
    return r

def cleanup():
    for p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try: p.wait(20)
            except subprocess.TimeoutExpired: p.kill()
    shutil.rmtree(tmp, ignore_errors=True)

try:
    d = subprocess.Popen([MLPD, "--foreground", "--worker", WORKER, "--workers", "1"], env=env,
                         stdout=subprocess.DEVNULL, stderr=open(tmp + "/mlpd.err", "w"))
    procs.append(d)
    for _ in range(300):
        if ctl("status", ok=False).returncode == 0: break
        time.sleep(0.1)
    r = ctl("dashboard", ok=False) if False else None
    dash = subprocess.Popen([MLPCTL, "dashboard"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    procs.append(dash)
    line = dash.stdout.readline()
    if not line:
        err = dash.stderr.read()
        if "built without libmicrohttpd" in err:
            print("skip:", err.strip()); sys.exit(77)
        raise SystemExit("dashboard did not start: " + err)
    m = re.search(r"(http://127\.0\.0\.1:(\d+)/)\?token=([0-9a-f]{32})", line)
    check(m, "dashboard prints a loopback URL with a token: " + line)
    base, token = m.group(1), m.group(3)

    def get(path, tok=token):
        url = base + path.lstrip("/")
        if tok is not None:
            url += ("&" if "?" in url else "?") + "token=" + tok
        try:
            with urllib.request.urlopen(url, timeout=300) as f:
                return f.status, dict(f.headers), f.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read().decode()

    # A sweep whose name would run script if printed raw; slow enough to be running while watched.
    os.makedirs(tmp + "/g", exist_ok=True)
    evil = '<script>document.title="pwned"</script>'
    with open(tmp + "/g/slow.json", "w") as f:
        json.dump({"dataset": {"name": "xor", "n": 400}, "seeds": 2, "metric": "val_accuracy",
                   "base": {"epochs": 40, "batch_size": 1}, "grid": {"lr": [0.05, 0.1, 0.2]}}, f)
    ctl("submit", tmp + "/g/slow.json", "--name", evil)

    # Token: refused without, with a wrong one, with a prefix; accepted with the printed one.
    check(get("/", tok=None)[0] == 403, "no token -> 403")
    check(get("/", tok="0" * 32)[0] == 403, "wrong token -> 403")
    check(get("/", tok=token[:31])[0] == 403, "token prefix -> 403")
    check(get("/events", tok=None)[0] == 403, "events without token -> 403")
    code, hdr, body = get("/")
    check(code == 200, "token accepted: %d" % code)
    check(not any(k.lower().startswith("access-control") for k in hdr), "no CORS headers: %s" % hdr)
    check(evil not in body and "&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt;" in body,
          "sweep name escaped on the list page")
    code, hdr, body = get("/sweep?id=1")
    check(code == 200 and evil not in body and "&lt;script&gt;" in body, "sweep name escaped on the sweep page")
    check('id="ranking"' in body and 'id="trials"' in body, "sweep page has ranking and trial table")
    check(get("/sweep?id=1", tok=None)[0] == 403, "sweep page without token -> 403")
    req = urllib.request.Request(base + "?token=" + token, method="POST", data=b"x")
    try: urllib.request.urlopen(req, timeout=60); check(False, "POST refused")
    except urllib.error.HTTPError as e: check(e.code == 405, "POST -> 405, got %d" % e.code)

    # Headless Chromium while the sweep runs: the page records SSE events into the DOM.
    prof = tmp + "/chrome"
    def chrome(*args, url):
        r = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            "--user-data-dir=" + prof, *args, url],
                           capture_output=True, text=True, timeout=300)
        return r
    r = chrome("--virtual-time-budget=8000", "--dump-dom", url=base + "?token=" + token)
    dom = r.stdout
    check('id="sweeps"' in dom, "chromium rendered the sweeps table")
    ev = re.search(r'data-events="(\d+)"', dom)
    check(ev and int(ev.group(1)) >= 1, "a live update arrived over SSE: %s" % (ev.group(0) if ev else dom[:300]))
    check("<title>mlpsweep sweeps</title>" in dom and "pwned" not in dom.split("</title>")[0],
          "the sweep name did not run as script")
    ctl("wait", "1")
    r = chrome("--virtual-time-budget=3000", "--dump-dom", url=base + "sweep?id=1&token=" + token)
    check("significance" in r.stdout and re.search(r"<td>\d\.\d{4} ± \d\.\d{4}</td>", r.stdout),
          "ranking shows mean ± SE in chromium")
    code, _, body = get("/trial?id=1")
    check(code == 200 and "<polyline" in body and 'id="log"' in body, "trial page with curve and log tail")
    if SHOT:
        chrome("--window-size=1100,900", "--virtual-time-budget=3000", "--screenshot=" + SHOT,
               url=base + "sweep?id=1&token=" + token)
        check(os.path.getsize(SHOT) > 1000, "screenshot written to " + SHOT)

    # 100k trials in the real store: submitted, paused, paged and sorted by the dashboard.
    with open(tmp + "/g/big.json", "w") as f:
        json.dump({"dataset": {"name": "xor", "n": 100}, "seeds": 100, "metric": "val_accuracy",
                   "base": {"epochs": 1}, "grid": {"lr": [0.001 * (i + 1) for i in range(1000)]}}, f)
    ctl("submit", tmp + "/g/big.json", "--name", "big", "--priority", "-9", "--force")
    ctl("pause", "big")
    t0 = time.time()
    code, _, body = get("/sweep?id=2&sort=trial&dir=desc&page=1999")
    took = time.time() - t0
    info = re.search(r'data-total="(\d+)" data-page="(\d+)" data-pages="(\d+)"', body)
    check(code == 200 and info and info.groups() == ("100000", "2000", "2000"), "100k paging: %s" % (info and info.groups()))
    rows = re.findall(r'<tr><td><a href="/trial\?id=(\d+)', body)
    check(len(rows) == 50, "a page has 50 rows, got %d" % len(rows))
    ids = [int(x) for x in rows]
    check(ids == sorted(ids, reverse=True), "sorted by trial, descending")
    print("100k-trial page served in %.2f s" % took)
    r = chrome("--virtual-time-budget=3000", "--dump-dom", url=base + "sweep?id=2&page=3&token=" + token)
    check('data-total="100000"' in r.stdout and r.stdout.count("<tr>") >= 50, "chromium shows the 100k table page")
finally:
    cleanup()
print("dashboard: %d failure(s)" % failures)
sys.exit(1 if failures else 0)
