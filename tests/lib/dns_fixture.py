"""A fixture DNS server for the integration tests: Debian's nsd, serving
zone files written by the test, on 127.0.0.1 at a free port. The daemon
under test is pointed at it with dns_servers, so no test ever asks the
system resolver."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from .ports import free_port_tcp_and_udp


def _ptr_zone_name(prefix):
    return ".".join(reversed(prefix.split("."))) + ".in-addr.arpa"


class DnsServer:
    """records: {zone: [(name, type, data), ...]}; names are relative to the
    zone ("@" for its apex) or absolute with a trailing dot."""

    def __init__(self, records):
        self.dir = tempfile.mkdtemp(prefix="gatepost-dns-", dir=os.environ.get("GATEPOST_TEST_TMP", "/tmp"))
        os.chmod(self.dir, 0o755)
        self.port = free_port_tcp_and_udp()
        self.records = records
        self.proc = None

    def _write_zone(self, zone, rrs):
        lines = [
            "$ORIGIN %s." % zone,
            "$TTL 60",
            "@ IN SOA ns.%s. hostmaster.%s. 1 60 60 60 60" % (zone, zone),
            "@ IN NS ns.%s." % zone,
        ]
        for name, rtype, data in rrs:
            lines.append("%s IN %s %s" % (name, rtype, data))
        path = os.path.join(self.dir, zone + ".zone")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def start(self, attempts=5):
        """Starts nsd; a port taken between choosing and binding it means another try."""
        for attempt in range(attempts):
            try:
                return self._start_once()
            except RuntimeError:
                if self.proc and self.proc.poll() is None:
                    self.proc.kill()
                    self.proc.wait()
                if attempt + 1 == attempts:
                    raise
                self.port = free_port_tcp_and_udp()
        return self

    def _start_once(self):
        conf = [
            "server:",
            "  ip-address: 127.0.0.1@%d" % self.port,
            "  port: %d" % self.port,
            "  username: \"\"",
            "  chroot: \"\"",
            "  zonesdir: \"%s\"" % self.dir,
            "  pidfile: \"%s/nsd.pid\"" % self.dir,
            "  database: \"\"",
            "  zonelistfile: \"%s/zone.list\"" % self.dir,
            "  xfrdfile: \"%s/xfrd.state\"" % self.dir,
            "  xfrdir: \"%s\"" % self.dir,
            "  logfile: \"%s/nsd.log\"" % self.dir,
            "  server-count: 1",
            "  verbosity: 1",
            "remote-control:",
            "  control-enable: no",
        ]
        for zone, rrs in self.records.items():
            path = self._write_zone(zone, rrs)
            conf += ["zone:", "  name: \"%s\"" % zone, "  zonefile: \"%s\"" % path]
        conf_path = os.path.join(self.dir, "nsd.conf")
        with open(conf_path, "w") as f:
            f.write("\n".join(conf) + "\n")
        self.proc = subprocess.Popen(["/usr/sbin/nsd", "-d", "-c", conf_path],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("nsd exited: %s%s" % (self.proc.stderr.read().decode(),
                                                         self._log_tail()))
            if self._answers():
                return self
            time.sleep(0.05)
        raise RuntimeError("nsd did not start")

    def _log_tail(self):
        try:
            with open(os.path.join(self.dir, "nsd.log"), errors="replace") as f:
                return f.read()[-1000:]
        except OSError:
            return ""

    def _answers(self):
        """A minimal SOA query for the first zone; any reply means nsd is up."""
        zone = next(iter(self.records))
        qname = b"".join(bytes([len(p)]) + p.encode() for p in zone.split(".")) + b"\0"
        query = b"\x12\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00" + qname + b"\x00\x06\x00\x01"
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.2)
        try:
            s.sendto(query, ("127.0.0.1", self.port))
            s.recvfrom(512)
            return True
        except OSError:
            return False
        finally:
            s.close()

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def default_records():
    """Names the tests use: clients 127.0.0.x with forward-confirmed PTRs,
    one whose PTR does not map back, two whose PTR is no host name (an
    address, a label ending in '-'), and example domains."""
    return {
        "test.example": [
            ("client1", "A", "127.0.0.11"),
            ("client2", "A", "127.0.0.12"),
            ("mx", "A", "127.0.0.1"),
            ("@", "MX", "10 mx.test.example."),
            ("liar", "A", "192.0.2.99"),
            ("localhost", "A", "127.0.0.1"),
            ("trailing-", "A", "127.0.0.15"),
        ],
        "127.in-addr.arpa": [
            ("11.0.0", "PTR", "client1.test.example."),
            ("12.0.0", "PTR", "client2.test.example."),
            ("13.0.0", "PTR", "liar.test.example."),
            ("1.0.0", "PTR", "localhost.test.example."),
            ("14.0.0", "PTR", "127.0.0.14."),
            ("15.0.0", "PTR", "trailing-.test.example."),
        ],
    }
