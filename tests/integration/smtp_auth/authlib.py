"""Shared pieces of the SMTP AUTH protocol tests: a
daemon per test module with named services (each on its own port with
master.cf -o overrides) and users made with `gatepost user add` before it
starts, real-client helpers (smtplib, swaks, gsasl) and a raw client that
can switch to TLS. Daemons are checked for sanitizer reports when they
stop."""

import base64
import hashlib
import hmac
import os
import re
import select
import smtplib
import socket
import subprocess
import time

from lib.gatepost import Instance, smtpd_service
from lib.ports import free_port
from lib.smtp_client import client_context
from lib.smtp_client import wait_auth_offered as wait_mechanism
from lib.smtp_raw import RawSMTP


# The users every daemon has: alice may use CRAM-MD5, bob may not.
USERS = [(["--cram-md5", "alice@test.example"], "secret"),
         (["bob@test.example"], "bob's pw")]

AUTH_MAIN = {
    "smtpd_sasl_auth_enable": "yes",
    "smtpd_tls_auth_only": "no",
    "smtpd_sasl_failure_delay": "0",
    "smtpd_sasl_auth_failure_limit": "10",
    "smtpd_sasl_local_domain": "test.example",
    "smtpd_tls_security_level": "may",
}

# A failed authentication, whatever the reason (wrong password, unknown
# user, refused client).
FAILED = (535, ["535 5.7.8 Error: authentication failed: authentication failure"])


def wait_connectable(port, timeout=15):
    """An implicit-TLS port says nothing before the handshake: connect only."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("nothing listens on %d" % port)


class Daemon:
    """One Instance with named smtpd services; ports[name] is each one's port."""

    def __init__(self, dns, cert, main, services, users, files=None):
        """files: {name: text} written into the instance directory before
        start; "{dir}" in main.cf and master.cf values is that directory."""
        self.ports = {}
        lines = []
        for name, opts in services.items():
            port = free_port()
            self.ports[name] = port
            lines.append(smtpd_service(port, opts))
        params = dict(AUTH_MAIN)
        params.update({"smtpd_tls_cert_file": cert["crt"], "smtpd_tls_key_file": cert["key"]})
        params.update(main or {})
        self.inst = Instance(main=params, master=lines, dns=dns, name="auth")
        for k, v in list(self.inst.params.items()):
            self.inst.params[k] = v.replace("{dir}", self.inst.dir)
        self.inst.master_lines = [l.replace("{dir}", self.inst.dir) for l in lines]
        self.inst.write_config()
        for fname, text in (files or {}).items():
            with open(os.path.join(self.inst.dir, fname), "w") as f:
                f.write(text)
        self.inst.port = next(iter(self.ports.values()))
        self.wrapped = {n for n, o in services.items() if o.get("smtpd_tls_wrappermode") == "yes"}
        for args, password in users:
            self.inst.command("user", "add", *args, input=password + "\n")

    def start(self):
        self.inst.start(wait_port=self.inst.port)
        for name, port in self.ports.items():
            if name in self.wrapped:
                wait_connectable(port)
            else:
                self.inst.wait_listening(port)
        return self

    def finish(self):
        self.inst.stop()
        problems = self.inst.sanitizer_problems()
        if not problems and not os.environ.get("GATEPOST_TEST_KEEP"):
            self.inst.cleanup()
        return problems

    def log_mark(self):
        """The current log length: log_since(mark) is what came after."""
        return len(self.inst.log())

    def log_since(self, mark):
        return self.inst.log()[mark:]

    def wait_log_since(self, mark, pattern, timeout=20):
        rx = re.compile(pattern)
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = [l for l in self.log_since(mark).splitlines() if rx.search(l)]
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError("log never showed %r after mark; tail:\n%s" %
                             (pattern, self.log_since(mark)[-3000:]))


class Raw(RawSMTP):
    """RawSMTP that reads the greeting, can start TLS, and can open wrapped."""

    def __init__(self, port, source=None, wrapped=False, greet=True):
        if wrapped:
            s = socket.create_connection(("127.0.0.1", port), timeout=10,
                                         source_address=(source, 0) if source else None)
            self.sock = client_context().wrap_socket(s, server_hostname="mx.test.example")
            self.buf = b""
        else:
            super().__init__(port, source=source)
        if greet:
            code, lines = self.reply()
            assert code == 220, lines

    def ehlo(self, name="client.example"):
        code, lines = self.cmd("EHLO " + name)
        assert code == 250, lines
        return [l[4:] for l in lines[1:]]

    def starttls(self):
        assert self.cmd("STARTTLS")[0] == 220
        self.sock.settimeout(10)
        self.sock = client_context().wrap_socket(self.sock, server_hostname="mx.test.example")


def smtp_client(port, wrapped=False, starttls=False, source=None):
    """A smtplib client that has said EHLO (after STARTTLS if asked)."""
    src = (source, 0) if source else None
    if wrapped:
        c = smtplib.SMTP_SSL("127.0.0.1", port, timeout=30, context=client_context(),
                             source_address=src)
    else:
        c = smtplib.SMTP("127.0.0.1", port, timeout=30, source_address=src)
    c.ehlo("client.example")
    if starttls:
        c.starttls(context=client_context())
        c.ehlo("client.example")
    return c


def smtplib_login(port, mech, user, password, wrapped=False, starttls=False, source=None):
    """(code, text) of an AUTH with smtplib's own implementation of mech."""
    with smtp_client(port, wrapped, starttls, source) as c:
        c.user, c.password = user, password
        method = getattr(c, "auth_" + mech.lower().replace("-", "_"))
        try:
            return c.auth(mech, method, initial_response_ok=mech != "LOGIN")
        except smtplib.SMTPAuthenticationError as e:
            return e.smtp_code, e.smtp_error


def ehlo_auth(port, wrapped=False, starttls=False, source=None):
    """The AUTH keyword's mechanisms as smtplib sees them ('' if not offered)."""
    with smtp_client(port, wrapped, starttls, source) as c:
        return c.esmtp_features.get("auth", ""), c.ehlo_resp.decode()


def wait_auth_offered(port, wrapped=False, timeout=15):
    wait_mechanism(port, timeout=timeout, auth_keyword=lambda p: ehlo_auth(p, wrapped=wrapped)[0])


def swaks(port, mech, user, password, tls=None, source=None, quit_after="AUTH", extra=()):
    """Runs swaks; tls is None, "starttls" or "wrapped". Returns the CompletedProcess."""
    args = ["swaks", "--server", "127.0.0.1:%d" % port, "--helo", "client.example",
            "--quit-after", quit_after, "--auth", mech, "--auth-user", user,
            "--auth-password", password, "--timeout", "30"]
    if tls == "starttls":
        args.append("--tls")
    elif tls == "wrapped":
        args.append("--tls-on-connect")
    if source:
        args += ["--local-interface", source]
    args += list(extra)
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def gsasl(port, mech, user, password, tls="starttls", cafile=None, after=None, timeout=30):
    """Runs GNU gsasl as the SMTP client; returns (exit code, its output).
    After a login gsasl sends the lines it reads from standard input as
    SMTP commands, one per read: MAIL, then (once MAIL is answered) RCPT,
    for a logged queue ID. `after` is called while standard input is still
    open (its end cuts gsasl short), e.g. to wait for the server's log
    line. Channel binding is off: the server offers no -PLUS mechanism."""
    args = ["gsasl", "--smtp", "--connect", "127.0.0.1:%d" % port, "-m", mech, "-a", user,
            "-p", password, "--no-cb"]
    if tls == "starttls":
        args += ["--starttls"] + (["--x509-ca-file", cafile] if cafile else [])
    else:
        args.append("--no-starttls")
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    out = b""
    deadline = time.time() + timeout

    def read_until(marker):
        nonlocal out
        while marker not in out and time.time() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], max(0.01, deadline - time.time()))
            chunk = os.read(proc.stdout.fileno(), 65536) if ready else b""
            if not chunk:
                return False
            out += chunk
        return marker in out

    try:
        if read_until(b"Enter application data"):
            proc.stdin.write(b"MAIL FROM:<sender@remote.example>\n")
            proc.stdin.flush()
            if read_until(b"250 2.1.0"):
                proc.stdin.write(b"RCPT TO:<bob@test.example>\n")
                proc.stdin.flush()
                if read_until(b"250 2.1.5") and after:
                    after()
    except BrokenPipeError:
        pass
    try:
        proc.stdin.close()
    except BrokenPipeError:
        pass
    rest = proc.stdout.read()
    proc.stdout.close()
    return proc.wait(max(1, deadline - time.time())), (out + rest).decode(errors="replace")


def scram_messages(hash_name, user, password):
    """A SCRAM client (RFC 5802) as a generator: yields the client-first
    message, is sent the server-first and yields the client-final, is sent
    the server-final and checks the server's signature."""
    nonce = base64.b64encode(os.urandom(18)).decode()
    bare = "n=%s,r=%s" % (user, nonce)
    server_first = (yield ("n,," + bare).encode()).decode()
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    assert attrs["r"].startswith(nonce) and len(attrs["r"]) > len(nonce)
    salted = hashlib.pbkdf2_hmac(hash_name, password.encode(), base64.b64decode(attrs["s"]),
                                 int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", hash_name).digest()
    stored_key = hashlib.new(hash_name, client_key).digest()
    without_proof = "c=biws,r=" + attrs["r"]
    auth_message = ",".join([bare, server_first, without_proof]).encode()
    signature = hmac.new(stored_key, auth_message, hash_name).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    server_final = yield ("%s,p=%s" % (without_proof, base64.b64encode(proof).decode())).encode()
    server_key = hmac.new(salted, b"Server Key", hash_name).digest()
    expected = hmac.new(server_key, auth_message, hash_name).digest()
    assert server_final.decode() == "v=" + base64.b64encode(expected).decode()
    yield b""


def scram_login(client, mech, user, password):
    """SCRAM over a smtplib client that has said EHLO; returns the final reply."""
    steps = scram_messages("sha256" if mech.endswith("256") else "sha1", user, password)
    first = base64.b64encode(next(steps)).decode()
    code, text = client.docmd("AUTH", "%s %s" % (mech, first))
    while code == 334:
        answer = steps.send(base64.b64decode(text))
        code, text = client.docmd(base64.b64encode(answer).decode())
    return code, text
