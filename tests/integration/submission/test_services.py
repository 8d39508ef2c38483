"""The shipped submission (STARTTLS required) and submissions (implicit
TLS) services of conf/master.cf, with their -o options exactly as shipped:
nothing happens before STARTTLS, nobody relays without SMTP AUTH, and an
authenticated client relays to a remote domain (the message is queued;
remote delivery is deferred, gatepost has no SMTP client yet). Clients:
smtplib and swaks."""

import os
import re
import shutil
import smtplib
import subprocess
import uuid

import pytest

from lib.smtp_client import client_context
from sublib import USERS, connect, queue_id, send_data
from lib.mail import wait_for

CLIENT = r"localhost\.test\.example\[127\.0\.0\.1\]"


def marker():
    return uuid.uuid4().hex[:12]


def test_submission_wants_starttls_first(sub):
    """Postfix: under smtpd_tls_security_level = encrypt, AUTH is not
    announced before STARTTLS and every command but EHLO/HELO/STARTTLS/
    NOOP/RSET/QUIT gets 530."""
    with smtplib.SMTP("127.0.0.1", sub.ports["submission"], timeout=30) as c:
        code, _ = c.ehlo("client.remote.example")
        assert code == 250
        assert c.has_extn("starttls")
        assert not c.has_extn("auth"), c.esmtp_features
        assert c.docmd("MAIL FROM:<someone@remote.example>") == \
            (530, b"5.7.0 Must issue a STARTTLS command first")
        assert c.docmd("AUTH PLAIN", "AGFsaWNlAGFsaWNlIHB3IDE=") == \
            (530, b"5.7.0 Must issue a STARTTLS command first")
        assert c.docmd("RCPT TO:<x@remote.example>") == \
            (530, b"5.7.0 Must issue a STARTTLS command first")
        assert c.starttls(context=client_context())[0] == 220
        c.ehlo("client.remote.example")
        assert not c.has_extn("starttls")
        mechs = c.esmtp_features["auth"].split()
        assert "PLAIN" in mechs and "LOGIN" in mechs
        assert c.mail("someone@remote.example")[0] == 250


def test_submissions_speaks_tls_from_the_first_byte(sub):
    with smtplib.SMTP_SSL("127.0.0.1", sub.ports["submissions"], timeout=30,
                          context=client_context()) as c:
        c.ehlo("client.remote.example")
        assert not c.has_extn("starttls")
        assert "PLAIN" in c.esmtp_features["auth"].split()
    # Plain text on the wrapper port never gets a greeting.
    with pytest.raises((smtplib.SMTPServerDisconnected, OSError)):
        with smtplib.SMTP("127.0.0.1", sub.ports["submissions"], timeout=5) as c:
            c.ehlo("client.remote.example")


@pytest.mark.parametrize("service", ["submission", "submissions"])
def test_no_relaying_without_auth(sub, service):
    m = marker()
    sender, rcpt = "s%s@remote.example" % m, "r%s@elsewhere.example" % m
    c = connect(sub, service)
    try:
        assert c.mail(sender)[0] == 250
        # The shipped smtpd_relay_restrictions end in "reject": Postfix's generic text.
        want = "5.7.1 <%s>: Recipient address rejected: Access denied" % rcpt
        assert c.rcpt(rcpt) == (554, want.encode())
        # "reject" is unconditional: a local recipient is refused just the same.
        assert c.rcpt("alice@test.example")[0] == 554
        assert c.docmd("DATA")[0] == 554
    finally:
        c.close()
    line = sub.wait_log(r"NOQUEUE: reject: RCPT from .*to=<%s>" % re.escape(rcpt))[0]
    assert re.search(r" gatepost/%s/smtpd\[\d+\]: NOQUEUE: reject: RCPT from %s: 554 %s; "
                     r"from=<%s> to=<%s> proto=ESMTP helo=<client\.remote\.example>$"
                     % (service, CLIENT, re.escape(want), re.escape(sender), re.escape(rcpt)),
                     line), line


def queued_file(d, qid):
    for dirpath, _dirs, files in os.walk(os.path.join(d.dir, "queue")):
        if qid in files:
            return os.path.join(dirpath, qid)
    return None


def assert_relayed_and_deferred(d, service, qid, user, mech, sender, rcpt):
    d.wait_log(r"%s: client=" % qid)
    assert re.search(r" gatepost/%s/smtpd\[\d+\]: %s: client=%s, sasl_method=%s, "
                     r"sasl_username=%s$" % (service, qid, CLIENT, mech, user),
                     d.log(), re.M), d.log_lines(qid)
    d.wait_log(r"%s: from=<%s>, size=\d+, nrcpt=1 \(queue active\)" % (qid, re.escape(sender)))
    line = d.wait_log(r"%s: to=<%s>, " % (qid, re.escape(rcpt)))[0]
    assert "status=deferred (delivery to remote domains is not available yet)" in line, line
    assert "dsn=4." in line
    # The status is logged before the file moves to deferred/.
    deferred = os.path.join(d.dir, "queue", "deferred", qid)
    wait_for(lambda: os.path.exists(deferred), what="%s in deferred/" % deferred)
    assert queued_file(d, qid) == deferred


@pytest.mark.parametrize("service,mech", [("submission", "PLAIN"), ("submission", "LOGIN"),
                                          ("submissions", "PLAIN"), ("submissions", "LOGIN")])
def test_authenticated_client_relays(sub, service, mech):
    m = marker()
    sender, rcpt = "alice@test.example", "r%s@elsewhere.example" % m
    c = connect(sub, service, user="alice", mech=mech)
    try:
        assert c.mail(sender)[0] == 250
        assert c.rcpt(rcpt) == (250, b"2.1.5 Ok")
        code, text = send_data(c, ("Subject: relay %s\r\n\r\nhi\r\n" % m).encode())
        assert code == 250 and text.startswith("2.0.0 Ok: queued as "), text
    finally:
        c.quit()
    assert_relayed_and_deferred(sub, service, queue_id(text), "alice", mech, sender, rcpt)


@pytest.mark.skipif(shutil.which("swaks") is None, reason="needs swaks")
@pytest.mark.parametrize("service,tls,mech", [("submission", "--tls", "PLAIN"),
                                              ("submissions", "--tlsc", "LOGIN")])
def test_swaks_relays_after_auth(sub, service, tls, mech):
    m = marker()
    rcpt = "r%s@elsewhere.example" % m
    r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(sub.ports[service]), tls,
                        "--auth", mech, "--auth-user", "bob", "--auth-password", USERS["bob"],
                        "--from", "bob@test.example", "--to", rcpt, "--helo", "client.remote.example",
                        "--header", "Subject: swaks %s" % m],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "235 2.7.0 Authentication successful" in r.stdout
    found = re.search(r"<~  250 2\.0\.0 Ok: queued as (\S+)", r.stdout)
    assert found, r.stdout
    assert_relayed_and_deferred(sub, service, found.group(1), "bob", mech, "bob@test.example", rcpt)


@pytest.mark.skipif(shutil.which("swaks") is None, reason="needs swaks")
def test_swaks_without_auth_is_refused(sub):
    m = marker()
    rcpt = "r%s@elsewhere.example" % m
    r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(sub.ports["submission"]),
                        "--tls", "--from", "bob@test.example", "--to", rcpt,
                        "--helo", "client.remote.example"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    # swaks marks an error reply read over TLS "<~*".
    assert "<~* 554 5.7.1 <%s>: Recipient address rejected: Access denied" % rcpt in r.stdout, r.stdout
    sub.wait_log(r"NOQUEUE: reject: RCPT from .*to=<%s>" % re.escape(rcpt))
