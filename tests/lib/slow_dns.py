"""A DNS server on 127.0.0.1 that answers every query with NXDOMAIN after a
fixed delay. Tests use it to hold the daemon in its peer-name lookup (before
the greeting) for a known time, e.g. to catch clients that talk first."""

import socket
import struct
import threading

from .ports import free_port


class SlowDns:
    def __init__(self, delay=1.0):
        self.delay = delay
        self.port = free_port(udp=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.settimeout(0.1)
        self.stopping = threading.Event()
        self.timers = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def start(self):
        self.thread.start()
        return self

    def _answer(self, query, peer):
        if len(query) < 12:
            return
        qid, flags = struct.unpack("!HH", query[:4])
        # QR=1, the query's opcode and RD bit, RA=1, RCODE=3 (NXDOMAIN);
        # the question section is echoed, no answers.
        rflags = 0x8000 | (flags & 0x7900) | 0x0080 | 3
        reply = struct.pack("!HHHHHH", qid, rflags, 1, 0, 0, 0) + query[12:]
        try:
            self.sock.sendto(reply, peer)
        except OSError:
            pass

    def _serve(self):
        while not self.stopping.is_set():
            try:
                query, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            t = threading.Timer(self.delay, self._answer, (query, peer))
            t.daemon = True
            self.timers.append(t)
            t.start()

    def stop(self):
        self.stopping.set()
        for t in self.timers:
            t.cancel()
        self.thread.join(2)
        self.sock.close()
