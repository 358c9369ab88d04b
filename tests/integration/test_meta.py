#!/usr/bin/env python3
"""Tags and notes through the real mlpd and mlpctl: tag a sweep and a
configuration, see them in show/list/report, filter list --tag, write notes
with versions (a stale or raced edit is refused and the note left as the
winning edit made it), append, bad input refused with its place, rows removed
with the sweep, and everything kept across a restart."""
import json
import os
import subprocess
import threading

from harness import Daemon, check, done, tiny_grid

HERE = os.path.dirname(os.path.abspath(__file__))
MLPCTL = os.environ.get("MLPCTL") or os.path.join(HERE, "../../build/cli/mlpctl")


def ctl(d, *args, stdin=None):
    return subprocess.run([MLPCTL, "--socket", d.sock] + list(args), env=d.env(),
                          input=stdin, capture_output=True, text=True, timeout=60)


def ctl_json(d, *args):
    r = ctl(d, "--json", *args)
    return r.returncode, json.loads(r.stdout) if r.stdout.strip() else None


with Daemon(workers=2) as d:
    d.start()
    a = d.submit(tiny_grid("alpha"))
    b = d.submit(tiny_grid("beta"))
    d.wait_sweep(a)
    d.wait_sweep(b)

    # Tags on a sweep and on a configuration.
    r = ctl(d, "tag", "alpha", "owner=ann", "project=moons")
    check(r.returncode == 0 and "owner=ann project=moons" in r.stdout, "mlpctl tag sets tags", r)
    r = ctl(d, "tag", "alpha", "--config", "2", "keep=yes")
    check(r.returncode == 0 and "config 2" in r.stdout, "a configuration is tagged", r)
    r = ctl(d, "tag", "beta", "owner=bob")
    rc, doc = ctl_json(d, "show", "alpha")
    check(rc == 0 and doc["sweep"]["tags"] == {"owner": "ann", "project": "moons"},
          "show --json carries the sweep's tags", doc and doc["sweep"].get("tags"))
    cfg_tags = {c["config"]["id"]: c["tags"] for c in doc["configs"]}
    check(cfg_tags == {1: {}, 2: {"keep": "yes"}}, "and each configuration's", cfg_tags)
    r = ctl(d, "show", "alpha")
    check("tags: owner=ann project=moons" in r.stdout and "config 2 tags: keep=yes" in r.stdout,
          "show prints them", r.stdout)
    rc, doc = ctl_json(d, "list", "--tag", "owner=ann")
    check([s["name"] for s in doc["sweeps"]] == ["alpha"], "list --tag owner=ann", doc)
    rc, doc = ctl_json(d, "list", "--tag", "owner")
    check(sorted(s["name"] for s in doc["sweeps"]) == ["alpha", "beta"], "list --tag KEY: any value", doc)
    rc, doc = ctl_json(d, "list", "--tag", "owner=ann", "--tag", "project=other")
    check(doc["sweeps"] == [], "several --tag must all match", doc)
    r = ctl(d, "list", "--wide")
    check("TAGS" in r.stdout and "owner=bob" in r.stdout and "owner=ann project=moons" in r.stdout,
          "list --wide shows a TAGS column", r.stdout)
    r = ctl(d, "tag", "alpha", "owner=carl", "--remove", "project")
    check(r.returncode == 0 and "owner=carl" in r.stdout and "project" not in r.stdout,
          "a tag is replaced and another removed", r.stdout)

    # Bad input names its place.
    r = d.call({"op": "tag", "sweep": a, "tags": {"bad key": "x"}})
    check(not r["ok"] and r["error"]["code"] == "invalid_request" and r["error"]["path"] == "tags.bad key",
          "a key with a space is refused at its path", r)
    r = d.call({"op": "tag", "sweep": a, "tags": {"k": 3}})
    check(not r["ok"] and r["error"]["path"] == "tags.k", "a non-string value is refused", r)
    r = d.call({"op": "tag", "sweep": a, "tags": {"k": "a\u001bb"}})
    check(not r["ok"] and r["error"]["code"] == "invalid_request", "a control character is refused", r)
    r = d.call({"op": "tag", "sweep": a, "config": 9, "tags": {"k": "v"}})
    check(not r["ok"] and r["error"]["code"] == "not_found" and r["error"]["path"] == "config",
          "an unknown configuration is not_found", r)
    r = d.call({"op": "tag", "sweep": a, "tags": {"t%d" % i: "v" for i in range(70)}})
    check(not r["ok"], "more than 64 tags at once are refused", r["error"])
    r = ctl(d, "tag", "alpha", "novalue")
    check(r.returncode == 2, "mlpctl tag KEY without =VALUE is a usage error", r)

    # Notes: the first needs no version, a replacement needs the one it replaces.
    r = ctl(d, "note", "alpha", "lr 0.3 looks best")
    check(r.returncode == 0 and "version 1" in r.stdout, "the first note is written", r)
    r = ctl(d, "note", "alpha", "overwrite without looking")
    check(r.returncode == 1 and "conflict" not in r.stdout and "--if-version" in r.stderr,
          "replacing a note without its version is refused", r)
    r = ctl(d, "note", "alpha", "--if-version", "1", "rerun with more seeds")
    check(r.returncode == 0 and "version 2" in r.stdout, "--if-version 1 replaces version 1", r)
    r = ctl(d, "note", "alpha", "--if-version", "1", "a stale edit")
    check(r.returncode == 1 and "version 2" in r.stderr, "a stale --if-version is refused", r)
    rc, doc = ctl_json(d, "show", "alpha")
    check(doc["sweep"]["note"]["text"] == "rerun with more seeds" and doc["sweep"]["note"]["version"] == 2,
          "and the note is as the winning edit left it", doc["sweep"]["note"])
    r = ctl(d, "note", "alpha", "--append", "-", stdin="second line\n")
    check(r.returncode == 0 and "rerun with more seeds\n  second line" in r.stdout,
          "--append adds a line (text from stdin)", r.stdout)
    r = ctl(d, "note", "alpha", "--config", "1", "diverges at lr 1")
    rc, doc = ctl_json(d, "show", "alpha")
    notes = {c["config"]["id"]: c.get("note") for c in doc["configs"]}
    check(notes[1] and notes[1]["text"] == "diverges at lr 1" and notes[2] is None,
          "a configuration's note is shown with it", notes)
    r = ctl(d, "note", "alpha")
    check(r.returncode == 0 and "version 3" in r.stdout and "second line" in r.stdout,
          "mlpctl note SWEEP prints the note and its version", r.stdout)

    # A race: eight clients edit version 3 at once; exactly one wins, nothing is lost silently.
    results = []

    def edit(i):
        results.append(d.call({"op": "note", "sweep": a, "text": "edit %d" % i, "version": 3}))

    threads = [threading.Thread(target=edit, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [r for r in results if r["ok"]]
    lost = [r for r in results if not r["ok"]]
    check(len(won) == 1 and len(lost) == 7 and all(r["error"]["code"] == "conflict" for r in lost),
          "of 8 racing edits of version 3 one wins, 7 get conflict", [r.get("error") for r in results])
    rc, doc = ctl_json(d, "show", "alpha")
    check(doc["sweep"]["note"]["text"] == won[0]["note"]["text"] and doc["sweep"]["note"]["version"] == 4,
          "the note holds the winner's text at version 4", doc["sweep"]["note"])
    r = d.call({"op": "note", "sweep": a, "text": "x" * (70 * 1024), "version": 4})
    check(not r["ok"] and r["error"]["code"] == "too_large", "a note over 64 KiB is refused", r.get("error"))
    r = d.call({"op": "note", "sweep": a, "text": "bell\u0007", "version": 4})
    check(not r["ok"] and r["error"]["path"] == "text", "control characters in a note are refused", r)

    # Report, persistence, and removal with the sweep.
    out = os.path.join(d.home, "r.html")
    ctl(d, "tag", "alpha", "html=<b>&")
    r = ctl(d, "report", "alpha", "--out", out)
    html = open(out).read() if r.returncode == 0 else ""
    check("html=&lt;b&gt;&amp;" in html and "<b>&" not in html and "diverges at lr 1" in html,
          "the report shows tags and notes, escaped", r)
    d.stop()
    d.start()
    rc, doc = ctl_json(d, "show", "alpha")
    check(doc["sweep"]["tags"].get("owner") == "carl" and doc["sweep"]["note"]["version"] == 4,
          "tags and notes survive a restart", doc["sweep"])
    d.ok({"op": "delete", "sweep": a})
    left = d.sql("select (select count(*) from tags where sweep_id=?), "
                 "(select count(*) from notes where sweep_id=?)", (a, a))[0]
    check(left == (0, 0), "deleting the sweep removes its tags and notes", left)

done()
