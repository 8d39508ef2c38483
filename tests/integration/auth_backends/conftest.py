"""Real outside helpers for the auth backend tests: Dovecot (Debian's
dovecot-core) with a passwd-file passdb, and Cyrus saslauthd (Debian's
sasl2-bin) checking a throw-away system account. Each runs in its own
temporary directory, on unix sockets or 127.0.0.1, and is stopped by the
test; every wait is bounded."""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import pytest

from authd_proto import AuthConnection


def wait_for(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def stop_process(proc, timeout=15):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def can_connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def need_root(what):
    if os.geteuid() != 0:
        pytest.skip("%s needs root" % what)


# ---- Dovecot ----

# {SHA256-CRYPT} of "carolpass", made with `doveadm pw -s SHA256-CRYPT`.
CAROL_HASH = "{SHA256-CRYPT}$5$8kDh3cCE6hNV3RJc$VxWfuaeYLX0S716ibjQgygTMqXdRZQFXUxNhfi7J8o8"

PASSWD = """alice:{PLAIN}secret
bob:{PLAIN}bobpass::::::allow_nets=10.0.0.0/8
carol:%s
""" % CAROL_HASH


class Dovecot:
    def __init__(self, socket_path, inet_port=None, allow_nets=None):
        self.dir = tempfile.mkdtemp(prefix="gatepost-dovecot-")
        os.chmod(self.dir, 0o755)
        self.socket_path = socket_path
        self.inet_port = inet_port
        # seed 000: "override_fields = allow_nets=..." on the passdb
        self.override = "  override_fields = allow_nets=%s\n" % allow_nets if allow_nets else ""
        self.proc = None
        self.log_path = os.path.join(self.dir, "dovecot.log")
        # dave exists only in the file named for TLS-secured requests ("%{secured}").
        for name, text in (("passwd", PASSWD), ("passwd-", ""),
                           ("passwd-secured", "dave:{PLAIN}davepw\n")):
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(text)
            os.chmod(os.path.join(self.dir, name), 0o644)
        self.conf = os.path.join(self.dir, "dovecot.conf")
        self._write_conf()

    def _write_conf(self):
        inet = ""
        if self.inet_port:
            inet = "  inet_listener {\n    address = 127.0.0.1\n    port = %d\n  }\n" % self.inet_port
        with open(self.conf, "w") as f:
            f.write("""base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols =
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5 scram-sha-1 scram-sha-256
auth_failure_delay = 2 secs
auth_verbose = yes
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = {d}/passwd
{override}}}
passdb {{
  driver = passwd-file
  args = {d}/passwd-%{{secured}}
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home=/nonexistent
}}
service auth {{
  unix_listener {sock} {{
    mode = 0600
    user = root
  }}
{inet}}}
""".format(d=self.dir, sock=self.socket_path, inet=inet, override=self.override))

    def start(self):
        self.proc = subprocess.Popen(["dovecot", "-F", "-c", self.conf], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        wait_for(lambda: can_connect(self.socket_path) or self.proc.poll() is not None, 15,
                 "Dovecot's auth socket")
        assert self.proc.poll() is None, "dovecot exited:\n" + self.log()
        return self

    def stop(self):
        """Stops every Dovecot process, as systemd does: its auth processes
        would otherwise keep serving the clients they have."""
        if self.proc:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            stop_process(self.proc)
            wait_for(lambda: subprocess.run(["pgrep", "-g", str(self.proc.pid)],
                                            capture_output=True).returncode != 0, 15,
                     "Dovecot's processes to end")
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""


def need_dovecot():
    """Skips unless Dovecot, its users and root are there."""
    if shutil.which("dovecot") is None:
        pytest.skip("dovecot is not installed")
    need_root("Dovecot")
    for name in ("dovecot", "dovenull"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            pytest.skip("no %s user" % name)


@pytest.fixture
def dovecot_factory():
    need_dovecot()
    made = []

    def make(socket_path, **kw):
        d = Dovecot(socket_path, **kw)
        made.append(d)
        return d

    yield make
    for d in made:
        d.cleanup()


# ---- saslauthd ----

class Saslauthd:
    """saslauthd -a shadow checking a temporary system account."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="gatepost-saslauthd-")
        os.chmod(self.dir, 0o755)
        self.mux = os.path.join(self.dir, "mux")
        self.user = "gptest" + uuid.uuid4().hex[:8]
        self.password = "Pw-" + uuid.uuid4().hex[:12]
        self.proc = None
        subprocess.run(["useradd", "-M", "-N", "-s", "/usr/sbin/nologin", self.user], check=True,
                       timeout=30)
        subprocess.run(["chpasswd"], input="%s:%s\n" % (self.user, self.password), text=True,
                       check=True, timeout=30)

    def start(self):
        self.log_file = open(os.path.join(self.dir, "saslauthd.log"), "ab")
        self.proc = subprocess.Popen(["saslauthd", "-d", "-a", "shadow", "-n", "2", "-m", self.dir],
                                     stdin=subprocess.DEVNULL, stdout=self.log_file,
                                     stderr=self.log_file, start_new_session=True)
        wait_for(lambda: can_connect(self.mux) or self.proc.poll() is not None, 15,
                 "saslauthd's socket")
        assert self.proc.poll() is None, "saslauthd exited"
        return self

    def stop(self):
        if self.proc:
            stop_process(self.proc)
            self.log_file.close()
            self.proc = None

    def log(self):
        with open(os.path.join(self.dir, "saslauthd.log"), errors="replace") as f:
            return f.read()

    def cleanup(self):
        self.stop()
        subprocess.run(["userdel", self.user], timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)


def running_saslauthd():
    """A started Saslauthd for a fixture, cleaned up when the fixture ends."""
    if shutil.which("saslauthd") is None:
        pytest.skip("saslauthd is not installed")
    need_root("saslauthd -a shadow with a test account")
    s = Saslauthd()
    try:
        yield s.start()
    finally:
        s.cleanup()


@pytest.fixture
def saslauthd():
    yield from running_saslauthd()


# ---- the auth process of a running gatepost ----

def authd_path(gp):
    return os.path.join(gp.params["queue_directory"], "private", "authd")


@pytest.fixture
def authd():
    """authd(gp) -> an AuthConnection to gp's auth process (closed at the end)."""
    made = []

    def connect(gp):
        path = authd_path(gp)
        wait_for(lambda: can_connect(path), 15, "the auth process socket")
        c = AuthConnection(path)
        made.append(c)
        return c

    yield connect
    for c in made:
        c.close()


# ---- end to end over SMTP: one daemon per module, a TLS certificate ----

@pytest.fixture(scope="module")
def tls_cert():
    """A self-signed certificate for 127.0.0.1 / localhost / mx.test.example;
    clients trust it as their CA. -> {"crt", "key"} paths."""
    d = tempfile.mkdtemp(prefix="gatepost-cert-")
    os.chmod(d, 0o755)
    crt, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                    "/CN=mx.test.example", "-addext",
                    "subjectAltName=DNS:mx.test.example,DNS:localhost,IP:127.0.0.1",
                    "-addext", "basicConstraints=critical,CA:TRUE",
                    "-keyout", key, "-out", crt], check=True, capture_output=True, timeout=60)
    os.chmod(key, 0o644)
    yield {"crt": crt, "key": key}
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def module_dovecot():
    """module_dovecot(socket_path, failure_delay=None, **kw) -> a started
    Dovecot for the module; failure_delay replaces its auth_failure_delay."""
    need_dovecot()
    made = []

    def make(socket_path, failure_delay=None, **kw):
        d = Dovecot(socket_path, **kw)
        made.append(d)
        if failure_delay is not None:
            with open(d.conf) as f:
                text = f.read()
            with open(d.conf, "w") as f:
                f.write(text.replace("auth_failure_delay = 2 secs",
                                     "auth_failure_delay = %s" % failure_delay))
        return d.start()

    yield make
    for d in made:
        d.cleanup()


@pytest.fixture(scope="module")
def module_saslauthd():
    yield from running_saslauthd()
