#!/usr/bin/env python3
"""Another uid is refused (SO_PEERCRED).  Needs root and a `nobody` user to
connect as someone else; otherwise the test is skipped (exit 77)."""
import os
import pwd
import shutil
import subprocess
import sys

from harness import Daemon, check, done

if os.geteuid() != 0 or not shutil.which("setpriv"):
    print("skip: needs root and setpriv")
    sys.exit(77)
try:
    nobody = pwd.getpwnam("nobody")
except KeyError:
    print("skip: no nobody user")
    sys.exit(77)

here = os.path.dirname(os.path.abspath(__file__))
with Daemon(workers=1) as d:
    d.start()
    check(oct(os.stat(d.sock).st_mode & 0o777) == "0o600", "the socket is created 0600")
    check(oct(os.stat(d.home).st_mode & 0o777) == "0o700", "the state dir is 0700")
    # Let nobody reach the socket, so that only SO_PEERCRED stands in the way.
    os.chmod(d.home, 0o711)
    os.chmod(d.sock, 0o666)
    code = ("import json,socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); "
            "\ntry:\n s.sendall(b'{\"op\":\"status\"}\\n')\nexcept OSError:\n pass\n"
            "print(s.makefile().readline().strip())")
    p = subprocess.run(["setpriv", "--reuid=%d" % nobody.pw_uid, "--regid=%d" % nobody.pw_gid,
                        "--clear-groups", sys.executable, "-c", code, d.sock],
                       capture_output=True, text=True, timeout=20, cwd="/")
    import json
    try:
        r = json.loads(p.stdout)
    except ValueError:
        r = {"raw": p.stdout, "err": p.stderr}
    check(r.get("ok") is False and r.get("error", {}).get("code") == "permission",
          "another uid gets a permission error", r)
    check(d.ok({"op": "status"})["pid"] == d.proc.pid, "our own uid is still served")
done()
