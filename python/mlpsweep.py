"""mlpsweep — a thin client of mlpd for notebooks and scripts (standard library only).

It speaks the documented socket protocol (daemon/PROTOCOL.md): one JSON
request per line, one JSON answer per line, answers streamed over several
lines ("more": true) put back together.

    import mlpsweep
    c = mlpsweep.Client()                      # $MLPD_SOCKET, else the default state dir
    sid = c.submit("configs/demo.json")        # or a dict holding the grid
    c.wait(sid)
    print(c.best(sid)["configs"][0])
    df = c.results(sid, trials=True)           # a pandas DataFrame when pandas is installed
    rows = c.results(sid, as_frame=False)      # else / or a list of dicts

Errors from mlpd raise MlpdError with .code ("not_found", "invalid_grid", ...),
.message and .path (the place in the request, e.g. "grid.lr[1]").
"""
import json
import os
import socket as _socket

__all__ = ["Client", "MlpdError", "default_socket"]

PROTOCOL = 1


class MlpdError(Exception):
    """An error answer of mlpd: code, message, path (None when absent)."""

    def __init__(self, code, message, path=None):
        super().__init__("%s: %s%s" % (code, path + ": " if path else "", message))
        self.code, self.message, self.path = code, message, path


def default_socket():
    """$MLPD_SOCKET, else <state dir>/mlpd.sock as mlpd and mlpctl find it."""
    if os.environ.get("MLPD_SOCKET"):
        return os.environ["MLPD_SOCKET"]
    home = os.environ.get("MLPD_HOME")
    if not home:
        state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
        home = os.path.join(state, "mlpd")
    return os.path.join(home, "mlpd.sock")


def _frame(rows):
    try:
        import pandas
    except ImportError:
        return rows
    return pandas.DataFrame(rows)


class Client:
    """One connection to mlpd; requests are answered in order."""

    def __init__(self, socket=None, timeout=None):
        self.path = socket or default_socket()
        self.sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(self.path)
        except OSError as e:
            self.sock.close()
            raise ConnectionError("cannot reach mlpd at %s (%s); start it with 'mlpd'" % (self.path, e)) from e
        self.buf = b""
        hello = self.call("hello", protocol=PROTOCOL)
        self.version = hello.get("version")

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("mlpd closed the connection")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return json.loads(line)

    def call(self, op, **fields):
        """Send {"op": op, **fields} and return the whole answer (streamed parts joined)."""
        req = {"op": op}
        req.update({k: v for k, v in fields.items() if v is not None})
        self.sock.sendall(json.dumps(req).encode() + b"\n")
        parts = {}
        while True:
            ans = self._line()
            if not ans.get("ok"):
                err = ans.get("error") or {}
                raise MlpdError(err.get("code", "internal"), err.get("message", ""), err.get("path"))
            if not ans.get("more"):
                break
            for k, v in ans.items():
                if isinstance(v, list):
                    parts.setdefault(k, []).extend(v)
                elif k == "data":
                    parts[k] = parts.get(k, "") + v
        for k, v in parts.items():
            ans[k] = v + ans.get(k, [] if isinstance(v, list) else "")
        ans.pop("ok", None)
        return ans

    # -- the verbs a notebook needs -------------------------------------------------

    def submit(self, grid, name=None, priority=None, base_dir=None, dry_run=None):
        """Queue a grid (a dict, or the path of a grid file); returns the sweep id.

        Relative dataset paths are resolved against base_dir: the file's
        directory for a path, else the current directory."""
        default_name = None
        if not isinstance(grid, dict):
            path = os.fspath(grid)
            with open(path, encoding="utf-8") as f:
                grid = json.load(f)
            base_dir = base_dir or os.path.dirname(os.path.abspath(path))
            default_name = os.path.splitext(os.path.basename(path))[0]
        ans = self.call("submit", grid=grid, base_dir=base_dir or os.getcwd(), name=name,
                        default_name=default_name, priority=priority, dry_run=dry_run)
        return ans if dry_run else ans["sweep"]["id"]

    def wait(self, sweep):
        """Block until the sweep has ended; returns its summary (state, counts, best)."""
        return self.call("wait", sweep=sweep)["sweep"]

    def summary(self, sweep):
        return self.call("show", sweep=sweep)["sweep"]

    def show(self, sweep, **kw):
        return self.call("show", sweep=sweep, **kw)

    def best(self, sweep, top=None, metric=None, min_seeds=None):
        """The ranking answer: configs (mean, sd, se, CI, n, test metric) and the comparison."""
        return self.call("best", sweep=sweep, top=top, metric=metric, min_seeds=min_seeds)

    def results(self, sweep, trials=False, curves=False, as_frame=True):
        """Rows of the results op (per configuration, per trial, or per epoch), each a dict
        with the grid keys under their names; a pandas DataFrame when pandas is present."""
        rows = self.call("results", sweep=sweep, trials=trials or None, curves=curves or None)["rows"]
        return _frame(rows) if as_frame else rows

    def list(self, state=None, tag=None, limit=None):
        return self.call("list", state=state, tag=tag, limit=limit)["sweeps"]

    def status(self):
        return self.call("status")

    def trial(self, trial_id):
        return self.call("trial", id=trial_id)["trial"]

    def tag(self, sweep, config=None, **tags):
        return self.call("tag", sweep=sweep, config=config, tags=tags)["tags"]

    def note(self, sweep, text, version=None, append=None, config=None):
        return self.call("note", sweep=sweep, config=config, text=text, version=version, append=append)["note"]

    def cancel(self, sweep):
        return self.call("cancel", sweep=sweep)
