"""A raw SMTP connection for tests that must send exactly the bytes they
mean (smuggling attempts, bare LF, over-long lines, pipelining), where a
polite client library would fix the input."""

import socket
import time


class RawSMTP:
    def __init__(self, port, host="127.0.0.1", source=None, timeout=10):
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def reply(self, timeout=10):
        """Reads one complete (possibly multi-line) reply: (code, text lines)."""
        lines = []
        deadline = time.time() + timeout
        while True:
            while b"\r\n" not in self.buf:
                self.sock.settimeout(max(0.01, deadline - time.time()))
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("connection closed; got %r" % lines)
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            text = line.decode(errors="replace")
            lines.append(text)
            if len(text) < 4 or text[3] != "-":
                return int(text[:3]), lines

    def replies(self, n, timeout=10):
        """Reads n complete replies (pipelined answers), in order."""
        deadline = time.time() + timeout
        return [self.reply(timeout=max(0.01, deadline - time.time())) for _ in range(n)]

    def pending(self, wait=0.3):
        """Whatever bytes arrive within `wait` seconds, without blocking longer."""
        self.sock.settimeout(wait)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self.buf += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        data, self.buf = self.buf, b""
        return data

    def cmd(self, line):
        self.send(line + "\r\n" if isinstance(line, str) else line + b"\r\n")
        return self.reply()

    def closed(self, timeout=5):
        """True if the server closes the connection (after any pending bytes)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
