"""After authentication, on plain ports: permit_sasl_authenticated in
smtpd_relay_restrictions and in smtpd_recipient_restrictions lets a logged
in client relay while strangers get "Relay access denied"; and
reject_sender_login_mismatch with smtpd_sender_login_maps decides which
MAIL FROM addresses a login may use (alice owns alice@ and sales@, bob
owns bob@ and sales@)."""

import re
import shutil
import smtplib
import subprocess
import uuid

import pytest

from sublib import USERS, connect, queue_id, send_data

CLIENT = r"localhost\.test\.example\[127\.0\.0\.1\]"


def marker():
    return uuid.uuid4().hex[:12]


def assert_noqueue(d, rcpt, reply, sender, cmd="RCPT"):
    line = d.wait_log(r"NOQUEUE: reject: %s from .* %s; from=<%s> to=<%s>"
                      % (cmd, re.escape(reply), re.escape(sender), re.escape(rcpt)))[0]
    assert re.search(r" gatepost/smtpd\[\d+\]: NOQUEUE: reject: %s from %s: %s; from=<%s> "
                     r"to=<%s> proto=ESMTP helo=<client\.remote\.example>$"
                     % (cmd, CLIENT, re.escape(reply), re.escape(sender), re.escape(rcpt)),
                     line), line


# -- permit_sasl_authenticated in the relay and the recipient restrictions --

@pytest.mark.parametrize("service", ["relay", "rcpt"])
def test_strangers_do_not_relay(sub, service):
    m = marker()
    sender, rcpt = "s%s@remote.example" % m, "r%s@elsewhere.example" % m
    c = connect(sub, service)
    try:
        assert c.mail(sender)[0] == 250
        reply = "554 5.7.1 <%s>: Relay access denied" % rcpt
        assert c.rcpt(rcpt) == (554, reply[4:].encode())
        # Mail for this server's own domains needs no login.
        assert c.rcpt("alice@test.example") == (250, b"2.1.5 Ok")
    finally:
        c.close()
    assert_noqueue(sub, rcpt, reply, sender)


@pytest.mark.parametrize("service,mech", [("relay", "PLAIN"), ("rcpt", "LOGIN")])
def test_logged_in_clients_relay(sub, service, mech):
    m = marker()
    rcpt = "r%s@elsewhere.example" % m
    c = connect(sub, service, user="bob", mech=mech)
    try:
        assert c.mail("bob@test.example")[0] == 250
        assert c.rcpt(rcpt) == (250, b"2.1.5 Ok")
        code, text = send_data(c, ("Subject: %s\r\n\r\nhi\r\n" % m).encode())
        assert code == 250
    finally:
        c.quit()
    qid = queue_id(text)
    sub.wait_log(r"gatepost/smtpd\[\d+\]: %s: client=%s, sasl_method=%s, sasl_username=bob$"
                 % (qid, CLIENT, mech))
    line = sub.wait_log(r"%s: to=<%s>, " % (qid, re.escape(rcpt)))[0]
    assert "status=deferred" in line


def test_failed_login_does_not_permit(sub):
    m = marker()
    rcpt = "r%s@elsewhere.example" % m
    c = connect(sub, "relay")
    try:
        c.user, c.password = "bob", "not the password"
        with pytest.raises(smtplib.SMTPAuthenticationError) as e:
            c.auth("PLAIN", c.auth_plain)
        assert e.value.smtp_code == 535
        assert c.mail("bob@test.example")[0] == 250
        assert c.rcpt(rcpt)[0] == 554
    finally:
        c.close()


# -- smtpd_sender_login_maps + reject_sender_login_mismatch --

def try_sender(d, sender, user=None, mech="PLAIN"):
    """MAIL FROM sender, RCPT TO a local mailbox; returns the RCPT reply
    (smtpd_delay_reject = yes: sender restrictions answer at RCPT)."""
    c = connect(d, "login", user=user, mech=mech)
    try:
        code, _ = c.mail(sender)
        assert code == 250
        code, text = c.rcpt("bob@test.example")
        if code == 250:
            code, text = send_data(c, b"Subject: login test\r\n\r\nhi\r\n")
            assert code == 250, text
            return code, text
        return code, text.decode()
    finally:
        c.close()


@pytest.mark.parametrize("user,sender", [("alice", "alice@test.example"),
                                         ("alice", "sales@test.example"),
                                         ("bob", "sales@test.example"),
                                         ("bob", "bob@test.example"),
                                         ("alice", "Alice@Test.Example"),
                                         ("alice", "alice+lists@test.example")])
def test_owner_may_send(sub, user, sender):
    code, text = try_sender(sub, sender, user=user)
    assert code == 250, text


@pytest.mark.parametrize("user,sender", [("alice", "bob@test.example"),
                                         ("bob", "alice@test.example"),
                                         ("alice", "stranger@remote.example")])
def test_login_may_not_use_others_addresses(sub, user, sender):
    code, text = try_sender(sub, sender, user=user)
    want = "5.7.1 <%s>: Sender address rejected: not owned by user %s" % (sender, user)
    assert (code, text) == (553, want)
    assert_noqueue(sub, "bob@test.example", "553 " + want, sender)


def test_owned_address_needs_a_login(sub):
    code, text = try_sender(sub, "sales@test.example")
    assert (code, text) == (553, "5.7.1 <sales@test.example>: Sender address rejected: not logged in")
    assert_noqueue(sub, "bob@test.example",
                   "553 5.7.1 <sales@test.example>: Sender address rejected: not logged in",
                   "sales@test.example")


def test_unowned_address_without_login_is_not_checked(sub):
    code, text = try_sender(sub, "stranger%s@remote.example" % marker())
    assert code == 250, text


def test_null_sender_is_never_checked(sub):
    assert try_sender(sub, "", user="alice")[0] == 250
    assert try_sender(sub, "")[0] == 250


def test_refusal_is_per_transaction(sub):
    c = connect(sub, "login", user="alice")
    try:
        assert c.mail("bob@test.example")[0] == 250
        assert c.rcpt("bob@test.example")[0] == 553
        assert c.rset()[0] == 250
        assert c.mail("sales@test.example")[0] == 250
        assert c.rcpt("bob@test.example") == (250, b"2.1.5 Ok")
    finally:
        c.close()


@pytest.mark.skipif(shutil.which("swaks") is None, reason="needs swaks")
def test_swaks_login_mismatch(sub):
    base = ["swaks", "--server", "127.0.0.1", "--port", str(sub.ports["login"]),
            "--auth", "LOGIN", "--auth-user", "alice", "--auth-password", USERS["alice"],
            "--to", "bob@test.example", "--helo", "client.remote.example"]
    r = subprocess.run(base + ["--from", "bob@test.example"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode != 0
    assert "<** 553 5.7.1 <bob@test.example>: Sender address rejected: not owned by user alice" \
        in r.stdout, r.stdout
    r = subprocess.run(base + ["--from", "sales@test.example"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"<-  250 2\.0\.0 Ok: queued as \S+", r.stdout), r.stdout
