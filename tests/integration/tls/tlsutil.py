"""Helpers of the TLS tests: test certificates made with openssl, a daemon
with one master.cf service per setting, TLS client contexts that accept the
self-signed test certificates, and a raw SMTP connection that can switch to
TLS in place."""

import os
import socket
import ssl
import hashlib
import subprocess
import time

from lib.gatepost import Instance, smtpd_service
from lib.ports import free_port
from lib.smtp_client import client_context  # noqa: F401 (used by the tls tests)
from lib.smtp_raw import RawSMTP



def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True, timeout=60)


def make_pair(directory, name, algorithm, cn="mx.test.example"):
    """name.key and name.crt (self-signed), plus name.pem (key then certificate)."""
    key = os.path.join(directory, name + ".key")
    crt = os.path.join(directory, name + ".crt")
    if algorithm == "rsa":
        newkey = ["-newkey", "rsa:2048"]
    else:
        newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    openssl("req", "-x509", *newkey, "-nodes", "-keyout", key, "-out", crt, "-days", "3",
            "-subj", "/CN=%s/O=%s" % (cn, name))
    pem = os.path.join(directory, name + ".pem")
    with open(pem, "wb") as out:
        for part in (key, crt):
            with open(part, "rb") as f:
                out.write(f.read())
    return {"key": key, "crt": crt, "pem": pem, "fingerprint": fingerprint_of_file(crt)}


def fingerprint_of_file(crt):
    with open(crt) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return fingerprint(der)


def fingerprint(der):
    return hashlib.sha256(der).hexdigest()


def wait_accepting(port, timeout=15):
    """Waits until port accepts connections (a wrapper-mode port says nothing first)."""
    deadline = time.time() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            return
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.05)


class Daemon:
    """One started Instance for a module, with named extra services."""

    def __init__(self, dns, main, services, users=()):
        """services: {name: (options dict)}; each becomes a master.cf smtpd
        line on its own port with -o overrides, reachable as self.ports[name].
        users: (login, password) pairs for the SASL user database."""
        self.ports = {}
        self.users = list(users)
        lines = []
        for name, opts in services.items():
            port = free_port()
            self.ports[name] = port
            lines.append(smtpd_service(port, opts))
        self.inst = Instance(main=main, master=lines, dns=dns, name="tls")
        first = next(iter(self.ports.values()))
        self.inst.port = first

    def start(self):
        for login, password in self.users:
            self.inst.command("user", "add", login, input=password + "\n")
        self.inst.start(wait_port=self.inst.port)
        for port in self.ports.values():
            wait_accepting(port)
        return self

    def finish(self):
        self.inst.stop()
        problems = self.inst.sanitizer_problems()
        if not problems:
            self.inst.cleanup()
        return problems


class TlsRaw(RawSMTP):
    """RawSMTP that can wrap its socket in TLS (after STARTTLS, or at once)."""

    def starttls(self, ctx=None, handshake=True):
        plain = self.sock
        plain.settimeout(10)
        self.sock = (ctx or client_context()).wrap_socket(
            plain, server_hostname="mx.test.example", do_handshake_on_connect=handshake)
        return self.sock

    def peer_fingerprint(self):
        return fingerprint(self.sock.getpeercert(binary_form=True))


def tls_connect(port, greet=True, ctx=None):
    """A TlsRaw that has read the greeting and said EHLO; not yet TLS."""
    c = TlsRaw(port)
    if greet:
        assert c.reply()[0] == 220
    return c


def wrapped(port, ctx=None):
    """An implicit-TLS connection: handshake at once, then the greeting."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    c = TlsRaw.__new__(TlsRaw)
    c.buf = b""
    c.sock = (ctx or client_context()).wrap_socket(s, server_hostname="mx.test.example")
    return c


def wait_delivered(d, user, marker, timeout=20):
    """The text of the message for user carrying marker, once delivered."""
    deadline = time.time() + timeout
    while True:
        for m in d.inst.maildir_messages(user, count=1, timeout=timeout):
            if marker.encode() in m:
                return m.decode(errors="replace")
        if time.time() > deadline:
            raise AssertionError("message %s never delivered to %s" % (marker, user))
        time.sleep(0.05)
