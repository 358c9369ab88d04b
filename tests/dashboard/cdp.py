"""A headless Chromium driven through the DevTools protocol over
--remote-debugging-pipe (fd 3: commands in, fd 4: replies out, NUL-separated
JSON), standard library only.  Every call has a real deadline, so a page that
keeps a connection open (an EventSource) can never hang the test: waits are
conditions polled with Runtime.evaluate until true or the timeout.
"""
import base64, json, os, select, shutil, signal, subprocess, time


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


class CDPError(Exception):
    pass


class Browser:
    def __init__(self, exe, profile, width=1200, height=900, timeout=120):
        cmd_r, self._cmd_w = os.pipe()  # we write commands, chromium reads fd 3
        self._out_r, out_w = os.pipe()  # chromium writes fd 4, we read

        def child():  # onto fds 3 and 4 (via high numbers: the originals may be 3 or 4)
            a, b = os.dup2(cmd_r, 100), os.dup2(out_w, 101)
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--disable-dev-shm-usage",
                "--remote-debugging-pipe", "--user-data-dir=" + profile,
                "--window-size=%d,%d" % (width, height), "about:blank"]
        self.log = profile + ".log"
        self.proc = subprocess.Popen(args, preexec_fn=child, pass_fds=(3, 4),
                                     stdout=subprocess.DEVNULL, stderr=open(self.log, "w"),
                                     start_new_session=True)
        os.close(cmd_r)
        os.close(out_w)
        self._buf = b""
        self._id = 0
        self.session = None
        self.timeout = timeout
        t = self.call("Target.createTarget", {"url": "about:blank"}, session=False)
        s = self.call("Target.attachToTarget", {"targetId": t["targetId"], "flatten": True},
                      session=False)
        self.session = s["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")

    def _send(self, msg):
        data = json.dumps(msg).encode() + b"\0"
        while data:
            n = os.write(self._cmd_w, data)
            data = data[n:]

    def _recv(self, deadline):
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CDPError("chromium did not answer in time")
            r, _, _ = select.select([self._out_r], [], [], left)
            if not r:
                continue
            chunk = os.read(self._out_r, 1 << 20)
            if not chunk:
                raise CDPError("chromium closed the DevTools pipe (see %s)" % self.log)
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=True, timeout=None):
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        self._send(msg)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            r = self._recv(deadline)
            if r.get("id") == self._id:
                if "error" in r:
                    raise CDPError("%s: %s" % (method, r["error"]))
                return r.get("result", {})

    def goto(self, url):
        self.call("Page.navigate", {"url": url})

    def eval(self, expr):
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True})
        if "exceptionDetails" in r:
            raise CDPError("%s: %s" % (expr, r["exceptionDetails"].get("text")))
        return r.get("result", {}).get("value")

    def wait_for(self, expr, timeout=120, what=None):
        """Poll expr until truthy; returns its value, or None after timeout seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                v = self.eval(expr)
            except CDPError:
                v = None  # mid-navigation: the context is being replaced
            if v:
                return v
            time.sleep(0.2)
        return None

    def screenshot(self, path):
        r = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))

    def close(self):
        try:
            self.call("Browser.close", session=False, timeout=10)
        except (CDPError, OSError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        for fd in (self._cmd_w, self._out_r):
            try:
                os.close(fd)
            except OSError:
                pass
