"""Every mechanism end to end with real clients, on a STARTTLS service
and on an implicit-TLS (smtpd_tls_wrappermode) service: PLAIN and LOGIN
with smtplib and swaks, CRAM-MD5 with both (for a user who has it),
SCRAM-SHA-1 and SCRAM-SHA-256 with GNU gsasl (through socat for the
wrapped service). A login is checked by its reply and by the
sasl_method/sasl_username the next MAIL logs."""

import shutil
import signal
import socket
import subprocess
import time

import pytest

from authlib import (FAILED, gsasl, scram_login, smtp_client, smtplib_login, swaks,
                     wait_auth_offered)
from lib.ports import free_port

pytestmark = pytest.mark.skipif(not all(shutil.which(x) for x in ("swaks", "gsasl", "socat")),
                                reason="needs swaks, gsasl and socat")


@pytest.fixture(scope="module")
def d(daemon_factory):
    daemon = daemon_factory({}, {
        "submission": {"syslog_name": "gatepost/submission"},
        "submissions": {"syslog_name": "gatepost/submissions", "smtpd_tls_wrappermode": "yes"},
    })
    wait_auth_offered(daemon.ports["submission"])
    return daemon


VARIANTS = {"starttls": dict(starttls=True), "wrapped": dict(wrapped=True)}
SERVICE = {"starttls": "submission", "wrapped": "submissions"}


def mail_after_login(d, variant, mech, user, password):
    """Logs in with smtplib, sends MAIL, returns the logged sasl line."""
    port = d.ports[SERVICE[variant]]
    mark = d.log_mark()
    with smtp_client(port, **VARIANTS[variant]) as c:
        c.user, c.password = user, password
        code, _ = c.auth(mech, getattr(c, "auth_" + mech.lower().replace("-", "_")),
                         initial_response_ok=mech != "LOGIN")
        assert code == 235
        assert c.mail("sender@remote.example")[0] == 250
        assert c.rcpt("bob@test.example")[0] == 250
    return d.wait_log_since(mark, r"client=.*sasl_method=")


@pytest.mark.parametrize("variant", ["starttls", "wrapped"])
@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_smtplib(d, variant, mech):
    (line,) = mail_after_login(d, variant, mech, "alice", "secret")
    assert "sasl_method=%s, sasl_username=alice@test.example" % mech in line
    assert "gatepost/%s/smtpd" % SERVICE[variant] in line
    port = d.ports[SERVICE[variant]]
    assert smtplib_login(port, mech, "alice", "wrong", **VARIANTS[variant]) == (
        FAILED[0], FAILED[1][0][4:].encode())


@pytest.mark.parametrize("variant", ["starttls", "wrapped"])
def test_cram_md5_needs_the_users_cram_state(d, variant):
    port = d.ports[SERVICE[variant]]
    assert smtplib_login(port, "CRAM-MD5", "bob", "bob's pw", **VARIANTS[variant])[0] == 535
    assert smtplib_login(port, "PLAIN", "bob", "bob's pw", **VARIANTS[variant])[0] == 235


@pytest.mark.parametrize("variant", ["starttls", "wrapped"])
@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_swaks(d, variant, mech):
    port = d.ports[SERVICE[variant]]
    mark = d.log_mark()
    r = swaks(port, mech, "alice@test.example", "secret", tls=variant, quit_after="RCPT", extra=("--to", "bob@test.example"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "235 2.7.0 Authentication successful" in r.stdout
    (line,) = d.wait_log_since(mark, r"client=.*sasl_method=")
    assert "sasl_method=%s, sasl_username=alice@test.example" % mech in line
    bad = swaks(port, mech, "alice@test.example", "not it", tls=variant)
    assert bad.returncode != 0
    assert "535 5.7.8 Error: authentication failed: authentication failure" in bad.stdout


def gsasl_login(d, port, mech, password, **kw):
    """gsasl logs in and sends MAIL and RCPT; returns its exit code, its
    output and the log line with the queue ID (None if there is none)."""
    mark = d.log_mark()
    found = []

    def wait_queue_id():
        try:
            found.extend(d.wait_log_since(mark, r"client=.*sasl_method=", timeout=5))
        except AssertionError:
            pass
    rc, out = gsasl(port, mech, "alice", password, after=wait_queue_id, **kw)
    return rc, out, found[0] if found else None, mark


@pytest.mark.parametrize("mech", ["SCRAM-SHA-1", "SCRAM-SHA-256"])
def test_gsasl_scram_starttls(d, cert, mech):
    port = d.ports["submission"]
    rc, out, line, _ = gsasl_login(d, port, mech, "secret", tls="starttls", cafile=cert["crt"])
    assert rc == 0, out
    assert "235 2.7.0 Authentication successful" in out
    assert line and "sasl_method=%s, sasl_username=alice@test.example" % mech in line, out
    rc, out, line, mark = gsasl_login(d, port, mech, "wrong", tls="starttls",
                                      cafile=cert["crt"])
    assert rc != 0 and line is None, out
    d.wait_log_since(mark, r"SASL %s authentication failed: .*sasl_username=alice@test.example"
                     % mech)


class Socat:
    """socat bridging a plaintext loopback port to the wrapped service."""

    def __init__(self, target):
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["socat", "TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork" % self.port,
             "OPENSSL:127.0.0.1:%d,verify=0" % target],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("socat never listened")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(10)


@pytest.mark.parametrize("mech", ["SCRAM-SHA-1", "SCRAM-SHA-256"])
def test_gsasl_scram_wrapped_through_socat(d, mech):
    bridge = Socat(d.ports["submissions"])
    try:
        rc, out, line, _ = gsasl_login(d, bridge.port, mech, "secret", tls=None)
        assert rc == 0, out
        assert line and "gatepost/submissions/smtpd" in line
        assert "sasl_method=%s, sasl_username=alice@test.example" % mech in line
        rc, out, line, mark = gsasl_login(d, bridge.port, mech, "wrong", tls=None)
        assert rc != 0 and line is None, out
        d.wait_log_since(mark, r"gatepost/submissions/smtpd.*SASL %s authentication failed"
                         % mech)
    finally:
        bridge.stop()


@pytest.mark.parametrize("variant", ["starttls", "wrapped"])
def test_scram_by_hand(d, variant):
    """SCRAM driven by hand (RFC 5802), checking the server's signature."""
    port = d.ports[SERVICE[variant]]
    mark = d.log_mark()
    with smtp_client(port, **VARIANTS[variant]) as c:
        assert scram_login(c, "SCRAM-SHA-256", "alice", "secret")[0] == 235
        assert c.mail("sender@remote.example")[0] == 250
        assert c.rcpt("bob@test.example")[0] == 250
    (line,) = d.wait_log_since(mark, r"client=.*sasl_method=")
    assert "sasl_method=SCRAM-SHA-256, sasl_username=alice@test.example" in line
