#!/usr/bin/env python3
"""A tiny mlpd protocol client for the integration tests (no mlpctl needed).

As a library:
    c = Client(socket_path)
    r = c.call({"op": "status"})        # one request, one response dict
    for ev in c.stream({"op": "watch", "sweep": 1}): ...   # until "end"
As a command:
    mlpclient.py SOCKET '{"op": "status"}'   # prints the response line(s)
"""
import json
import socket
import sys


class Client:
    def __init__(self, path, timeout=60):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, obj):
        self.send_raw(json.dumps(obj).encode() + b"\n")

    def read_line(self):
        """The next response line as bytes, or None at EOF."""
        nl = self.buf.find(b"\n")
        if nl < 0:
            parts = [self.buf]
            while True:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    return None
                parts.append(chunk)
                k = chunk.find(b"\n")
                if k >= 0:
                    nl = sum(len(p) for p in parts[:-1]) + k
                    self.buf = b"".join(parts)
                    break
        line, self.buf = self.buf[:nl], self.buf[nl + 1:]
        return line

    def read(self):
        line = self.read_line()
        if line is None:
            raise EOFError("mlpd closed the connection")
        return json.loads(line)

    def call(self, obj):
        self.send(obj)
        return self.read()

    def stream(self, obj):
        self.send(obj)
        while True:
            r = self.read()
            yield r
            if not r.get("ok") or r.get("event") == "end":
                return


def call(path, obj, timeout=60):
    c = Client(path, timeout)
    try:
        return c.call(obj)
    finally:
        c.close()


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: mlpclient.py SOCKET JSON")
    c = Client(sys.argv[1])
    req = json.loads(sys.argv[2])
    if req.get("op") == "watch":
        for ev in c.stream(req):
            print(json.dumps(ev))
    else:
        print(json.dumps(c.call(req)))
    c.close()


if __name__ == "__main__":
    main()
