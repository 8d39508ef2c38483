"""What STARTTLS does to the SMTP session, with a raw client that switches
to TLS in place: plaintext pipelined behind STARTTLS is thrown away
(CVE-2011-0411), the session starts from scratch after the handshake (EHLO
again, no envelope), STARTTLS inside TLS is refused, a stalled or trickled
handshake holds up nobody and ends at smtpd_starttls_timeout, and garbage
instead of a ClientHello is a logged handshake failure after which the
worker keeps serving.

One daemon with a single SMTP worker serves the module, so "does not hold
up other sessions" means the same event loop."""

import re
import smtplib
import socket
import ssl
import threading
import time

import pytest

from tlsutil import client_context, tls_connect, wait_delivered, wrapped

HANDSHAKE_TIMEOUT = 2


@pytest.fixture(scope="module")
def d(daemon_factory, certs):
    main = {
        "smtpd_tls_security_level": "may",
        "smtpd_tls_cert_file": certs["rsa"]["crt"],
        "smtpd_tls_key_file": certs["rsa"]["key"],
        "smtpd_tls_loglevel": "1",
        "smtpd_workers": "1",
        "smtpd_starttls_timeout": "%ds" % HANDSHAKE_TIMEOUT,
    }
    services = {
        "may": {},
        "helo": {"smtpd_helo_required": "yes"},
        "wrapper": {"smtpd_tls_wrappermode": "yes"},
    }
    return daemon_factory(main, services)


def ehlo_starttls(port, source=None):
    c = tls_connect(port) if source is None else _connect_from(port, source)
    code, lines = c.cmd("EHLO client.remote.example")
    assert code == 250 and "250-STARTTLS" in lines
    return c


def _connect_from(port, source):
    from tlsutil import TlsRaw
    c = TlsRaw(port, source=source)
    assert c.reply()[0] == 220
    return c


def full_transaction(port, marker):
    """A whole STARTTLS transaction with smtplib; returns the elapsed time."""
    start = time.time()
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as c:
        c.ehlo("other.remote.example")
        c.starttls(context=client_context())
        c.ehlo("other.remote.example")
        c.sendmail("sender@remote.example", ["bob@test.example"],
                   ("Message-ID: <%s@remote.example>\r\n\r\nbody\r\n" % marker).encode())
    return time.time() - start


def worker_pids(d):
    return set(re.findall(r"gatepost/smtpd\[(\d+)\]", d.inst.log()))


# ---- CVE-2011-0411 ----

def test_plaintext_pipelined_after_starttls_is_discarded(d):
    c = ehlo_starttls(d.ports["may"], source="127.0.0.21")
    # One write: the RSET must not run inside the TLS session.
    c.send(b"STARTTLS\r\nRSET\r\n")
    assert c.reply() == (220, ["220 2.0.0 Ready to start TLS"])
    assert c.buf == b""
    c.starttls()
    assert c.pending(wait=0.5) == b""
    assert c.cmd("NOOP") == (250, ["250 2.0.0 Ok"])
    assert c.pending(wait=0.2) == b""
    assert c.cmd("QUIT")[0] == 221
    d.inst.wait_log(r"improper command pipelining after STARTTLS from \S+\[127\.0\.0\.21\]")
    (line,) = d.inst.wait_log(r"disconnect from \S+\[127\.0\.0\.21\]")
    assert line.endswith(" ehlo=1 starttls=1 noop=1 quit=1 commands=4"), line


def test_pipelined_mail_after_starttls_is_not_run(d):
    c = ehlo_starttls(d.ports["may"])
    c.send(b"STARTTLS\r\nMAIL FROM:<injected@remote.example>\r\nRCPT TO:<alice@test.example>\r\n")
    assert c.reply()[0] == 220
    c.starttls()
    assert c.cmd("EHLO client.remote.example")[0] == 250
    # No transaction leaked in: RCPT has no MAIL to belong to.
    assert c.cmd("RCPT TO:<alice@test.example>") == (503, ["503 5.5.1 Error: need MAIL command"])
    c.close()


# ---- a fresh session after the handshake ----

def test_ehlo_required_again_and_envelope_forgotten(d):
    c = ehlo_starttls(d.ports["helo"])
    assert c.cmd("MAIL FROM:<before@remote.example>")[0] == 250
    # RFC 2487/3207 allow STARTTLS at any time; what came before is forgotten.
    assert c.cmd("STARTTLS") == (220, ["220 2.0.0 Ready to start TLS"])
    c.starttls()
    assert c.cmd("MAIL FROM:<after@remote.example>") == (
        503, ["503 5.5.1 Error: send HELO/EHLO first"])
    code, lines = c.cmd("EHLO client.remote.example")
    assert code == 250
    assert not any("STARTTLS" in l for l in lines), lines
    assert c.cmd("RCPT TO:<alice@test.example>") == (503, ["503 5.5.1 Error: need MAIL command"])
    assert c.cmd("MAIL FROM:<after@remote.example>")[0] == 250
    assert c.cmd("RCPT TO:<alice@test.example>")[0] == 250
    c.close()


def test_starttls_twice(d):
    c = ehlo_starttls(d.ports["may"])
    assert c.cmd("STARTTLS")[0] == 220
    c.starttls()
    assert c.cmd("EHLO client.remote.example")[0] == 250
    assert c.cmd("STARTTLS") == (554, ["554 5.5.1 Error: TLS already active"])
    # The session goes on inside TLS.
    assert c.cmd("NOOP") == (250, ["250 2.0.0 Ok"])
    c.close()


def test_starttls_with_argument(d):
    c = ehlo_starttls(d.ports["may"])
    assert c.cmd("STARTTLS now") == (501, ["501 5.5.4 Syntax: STARTTLS"])
    assert c.cmd("STARTTLS")[0] == 220
    c.starttls()
    assert c.cmd("EHLO client.remote.example")[0] == 250
    c.close()


# ---- stalls ----

def test_silent_client_after_starttls_holds_up_nobody(d):
    c = ehlo_starttls(d.ports["may"], source="127.0.0.22")
    assert c.cmd("STARTTLS")[0] == 220
    started = time.time()
    # The handshake never begins; the same worker serves someone else.
    assert full_transaction(d.ports["may"], "while-silent") < HANDSHAKE_TIMEOUT
    wait_delivered(d, "bob", "while-silent")
    assert c.closed(timeout=HANDSHAKE_TIMEOUT + 5)
    assert HANDSHAKE_TIMEOUT - 0.5 <= time.time() - started < HANDSHAKE_TIMEOUT + 4
    d.inst.wait_log(r"timeout after STARTTLS from \S+\[127\.0\.0\.22\]")


def client_hello():
    """The bytes of a real TLS ClientHello."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = client_context().wrap_bio(incoming, outgoing, server_hostname="mx.test.example")
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    return outgoing.read()


def test_trickled_client_hello_holds_up_nobody_and_times_out(d):
    hello = client_hello()
    assert len(hello) > 100
    c = ehlo_starttls(d.ports["may"], source="127.0.0.23")
    assert c.cmd("STARTTLS")[0] == 220
    started = time.time()
    stop = threading.Event()
    closed = []

    def trickle():
        # One byte every 0.1 s: far slower than the timeout allows, and each
        # byte would reset a per-read timer.
        for i in range(min(len(hello) - 1, 80)):
            if stop.is_set():
                return
            try:
                c.sock.sendall(hello[i:i + 1])
            except OSError:
                closed.append(time.time())
                return
            time.sleep(0.1)

    t = threading.Thread(target=trickle)
    t.start()
    try:
        assert full_transaction(d.ports["may"], "while-trickled") < HANDSHAKE_TIMEOUT
        assert c.closed(timeout=HANDSHAKE_TIMEOUT + 5)
        elapsed = time.time() - started
    finally:
        stop.set()
        t.join(15)
    assert HANDSHAKE_TIMEOUT - 0.5 <= elapsed < HANDSHAKE_TIMEOUT + 4, elapsed
    d.inst.wait_log(r"timeout after STARTTLS from \S+\[127\.0\.0\.23\]")
    # The trickled bytes never became a session: only the other client's mail.
    wait_delivered(d, "bob", "while-trickled")


def test_silent_client_on_wrapper_port_times_out(d):
    s = socket.create_connection(("127.0.0.1", d.ports["wrapper"]), timeout=10,
                                 source_address=("127.0.0.24", 0))
    started = time.time()
    s.settimeout(HANDSHAKE_TIMEOUT + 5)
    assert s.recv(100) == b""
    assert HANDSHAKE_TIMEOUT - 0.5 <= time.time() - started < HANDSHAKE_TIMEOUT + 4
    s.close()
    d.inst.wait_log(r"timeout after CONNECT from \S+\[127\.0\.0\.24\]")


# ---- garbage ----

def test_garbage_instead_of_client_hello(d):
    before = worker_pids(d)
    c = ehlo_starttls(d.ports["may"], source="127.0.0.25")
    assert c.cmd("STARTTLS")[0] == 220
    c.send(b"GET / HTTP/1.0\r\nHost: mx.test.example\r\n\r\n")
    assert c.closed(timeout=10)
    # Postfix's three lines.
    d.inst.wait_log(r"gatepost/smtpd\[\d+\]: SSL_accept error from \S+\[127\.0\.0\.25\]: -1$")
    lines = d.inst.wait_log(r"warning: TLS library problem: error:[0-9A-F]+:SSL routines::"
                            r"http request:\S+:\d+:$")
    assert lines
    d.inst.wait_log(r"lost connection after STARTTLS from \S+\[127\.0\.0\.25\]")
    (line,) = d.inst.wait_log(r"disconnect from \S+\[127\.0\.0\.25\]")
    assert line.endswith(" ehlo=1 starttls=1 commands=2"), line
    # The same worker goes on: a whole TLS transaction right after.
    full_transaction(d.ports["may"], "after-garbage")
    wait_delivered(d, "bob", "after-garbage")
    assert worker_pids(d) == before


def test_garbage_on_wrapper_port(d):
    s = socket.create_connection(("127.0.0.1", d.ports["wrapper"]), timeout=10,
                                 source_address=("127.0.0.26", 0))
    s.sendall(b"EHLO client.remote.example\r\n")
    s.settimeout(10)
    data = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass        # the alert, then a close with our bytes unread
    s.close()
    assert b"220" not in data and b"250" not in data
    d.inst.wait_log(r"SSL_accept error from \S+\[127\.0\.0\.26\]: -1$")
    d.inst.wait_log(r"warning: TLS library problem: error:[0-9A-F]+:SSL routines::"
                    r"wrong version number:\S+:\d+:$")
    c = wrapped(d.ports["wrapper"])
    assert c.reply()[0] == 220
    assert c.cmd("EHLO client.remote.example")[0] == 250
    c.close()
