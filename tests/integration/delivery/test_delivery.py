"""Mail for a local (virtual mailbox) domain is accepted, made durable,
delivered into the recipient's Maildir, and logged in Postfix's format."""

import smtplib
import subprocess

import pytest


def send(port, rcpts, body=b"Subject: hi\r\n\r\nhello\r\n", sender="sender@remote.example"):
    with smtplib.SMTP("127.0.0.1", port, timeout=20) as c:
        c.ehlo("client.remote.example")
        return c.sendmail(sender, rcpts, body)


def test_smtplib_delivery_to_maildir(gatepost):
    gp = gatepost()
    refused = send(gp.port, ["alice@test.example"],
                   b"Message-ID: <m1@remote.example>\r\nSubject: hi\r\n\r\nhello there\r\n.dot line\r\n")
    assert refused == {}
    (msg,) = gp.maildir_messages("alice")
    text = msg.decode()
    assert text.startswith("Return-Path: <sender@remote.example>\n")
    assert "Delivered-To: alice@test.example\n" in text
    assert "Received: from client.remote.example (localhost.test.example [127.0.0.1])" in text
    assert "by mx.test.example (gatepost) with ESMTP id" in text
    assert "\nhello there\n.dot line\n" in text
    gp.wait_log(r"gatepost/qmgr\[\d+\]: \w+: removed")
    log = gp.log()
    assert "gatepost/cleanup[" in log and "message-id=<m1@remote.example>" in log
    assert "relay=virtual" in log and "status=sent (delivered to maildir)" in log


def test_swaks_multiple_recipients(gatepost):
    gp = gatepost()
    out = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % gp.port, "--from", "x@remote.example",
                          "--to", "alice@test.example,bob@test.example", "--helo", "client.remote.example"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "250 2.0.0 Ok: queued as" in out.stdout
    assert len(gp.maildir_messages("alice")) == 1
    assert len(gp.maildir_messages("bob")) == 1


def test_unknown_recipient_rejected_with_postfix_wording(gatepost):
    gp = gatepost()
    with smtplib.SMTP("127.0.0.1", gp.port, timeout=20) as c:
        c.ehlo("client.remote.example")
        c.mail("sender@remote.example")
        code, msg = c.rcpt("nobody@test.example")
    assert code == 550
    assert msg.decode() == ("5.1.1 <nobody@test.example>: Recipient address rejected: "
                            "User unknown in virtual mailbox table")
    line = gp.wait_log(r"NOQUEUE: reject: RCPT")[0]
    assert ("NOQUEUE: reject: RCPT from localhost.test.example[127.0.0.1]: 550 5.1.1 "
            "<nobody@test.example>: Recipient address rejected: User unknown in virtual mailbox "
            "table; from=<sender@remote.example> to=<nobody@test.example> proto=ESMTP "
            "helo=<client.remote.example>") in line


def test_relay_denied_outside_mynetworks(gatepost):
    gp = gatepost(main={"mynetworks": "127.0.0.1/32"})
    with smtplib.SMTP("127.0.0.1", gp.port, timeout=20, source_address=("127.0.0.11", 0)) as c:
        c.ehlo("client1.test.example")
        c.mail("sender@remote.example")
        code, msg = c.rcpt("someone@elsewhere.example")
    # Postfix's default smtpd_relay_restrictions ends with defer_unauth_destination.
    assert code == 454
    assert msg.decode() == "4.7.1 <someone@elsewhere.example>: Relay access denied"
    gp.wait_log(r"NOQUEUE: reject: RCPT from client1\.test\.example\[127\.0\.0\.11\]: 454 4\.7\.1")


def test_disconnect_counters(gatepost):
    gp = gatepost()
    send(gp.port, ["alice@test.example"])
    gp.wait_log(r"disconnect from localhost\.test\.example\[127\.0\.0\.1\] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5")
