"""Certificates reload on SIGHUP: the files are replaced, the supervisor is
told, and new connections (STARTTLS and wrapper mode) see the new
certificate while a TLS session opened before carries on to the end of
its message with the old one."""

import os
import shutil
import signal
import smtplib
import time

import pytest

from tlsutil import client_context, fingerprint, tls_connect, wait_delivered, wrapped


@pytest.fixture(scope="module")
def setup(daemon_factory, certs):
    live = os.path.join(certs["dir"], "live")
    os.makedirs(live, exist_ok=True)
    install(certs["rsa"], live)
    main = {
        "smtpd_tls_security_level": "may",
        "smtpd_tls_cert_file": os.path.join(live, "cert.pem"),
        "smtpd_tls_key_file": os.path.join(live, "key.pem"),
    }
    d = daemon_factory(main, {"may": {}, "wrapper": {"smtpd_tls_wrappermode": "yes"}})
    return d, live


def install(pair, live):
    """Replaces the live files as an administrator would (new file, rename)."""
    for src, name in ((pair["key"], "key.pem"), (pair["crt"], "cert.pem")):
        tmp = os.path.join(live, name + ".new")
        shutil.copy(src, tmp)
        os.rename(tmp, os.path.join(live, name))


def starttls_fingerprint(port):
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as c:
        c.ehlo("client.remote.example")
        c.starttls(context=client_context())
        return fingerprint(c.sock.getpeercert(binary_form=True))


def wrapper_fingerprint(port):
    c = wrapped(port)
    try:
        assert c.reply()[0] == 220
        return c.peer_fingerprint()
    finally:
        c.close()


def test_sighup_loads_new_certificates_old_session_carries_on(setup, certs):
    d, live = setup
    old, new = certs["rsa"]["fingerprint"], certs["rsa2"]["fingerprint"]
    assert starttls_fingerprint(d.ports["may"]) == old
    assert wrapper_fingerprint(d.ports["wrapper"]) == old

    # A session in the middle of a transaction over TLS.
    c = tls_connect(d.ports["may"])
    c.cmd("EHLO client.remote.example")
    assert c.cmd("STARTTLS")[0] == 220
    c.starttls()
    assert c.peer_fingerprint() == old
    assert c.cmd("EHLO client.remote.example")[0] == 250
    assert c.cmd("MAIL FROM:<sender@remote.example>")[0] == 250

    install(certs["rsa2"], live)
    # Files alone change nothing: contexts are built at (re)load.
    assert starttls_fingerprint(d.ports["may"]) == old
    d.inst.proc.send_signal(signal.SIGHUP)

    deadline = time.time() + 15
    seen = old
    while seen != new and time.time() < deadline:
        time.sleep(0.1)
        seen = starttls_fingerprint(d.ports["may"])
    assert seen == new
    assert wrapper_fingerprint(d.ports["wrapper"]) == new

    # The old session still talks TLS with the old certificate.
    assert c.cmd("RCPT TO:<alice@test.example>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    code, lines = c.cmd(b"Message-ID: <before-reload@remote.example>\r\n\r\nbody\r\n.")
    assert code == 250, lines
    assert c.peer_fingerprint() == old
    assert c.cmd("QUIT")[0] == 221
    assert "with ESMTPS" in wait_delivered(d, "alice", "before-reload")
