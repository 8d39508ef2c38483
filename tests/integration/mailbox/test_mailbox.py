"""Mailbox delivery against the real daemon: trace headers (Received with
the queue ID and protocol keyword, "for <rcpt>" only with one recipient,
Return-Path, Delivered-To), Maildir safe delivery (tmp/ then new/, nothing
left in tmp/), the mailbox size limits (a 5.2.2 bounce, and an RFC 3464
report that reaches a local sender), and retries after a temporary
delivery failure."""

import os
import re
import shutil
import smtplib
import subprocess

import pytest

from lib.mail import header_values, message, send, wait_for
from lib.smtp_raw import RawSMTP

FAST_RETRY = {"queue_run_delay": "1s", "minimal_backoff_time": "1s", "maximal_backoff_time": "2s"}


def queued_id(port, rcpts, body, sender="sender@remote.example", helo="client.remote.example",
              esmtp=True, mail_params=""):
    c = RawSMTP(port)
    c.reply()
    c.cmd(("EHLO " if esmtp else "HELO ") + helo)
    assert c.cmd("MAIL FROM:<%s>%s" % (sender, mail_params))[0] == 250
    for r in rcpts:
        assert c.cmd("RCPT TO:<%s>" % r)[0] == 250
    assert c.cmd("DATA")[0] == 354
    code, lines = c.cmd(body.rstrip(b"\r\n") + b"\r\n.")
    assert code == 250, lines
    c.cmd("QUIT")
    return re.search(r"queued as (\w+)", lines[0]).group(1)


# ---- trace headers ----

def test_received_header_single_recipient(gatepost):
    gp = gatepost()
    qid = queued_id(gp.port, ["alice@test.example"], message("trace1"))
    (msg,) = gp.maildir_messages("alice")
    (received,) = header_values(msg, "Received")
    assert re.fullmatch(r"from client\.remote\.example \(localhost\.test\.example \[127\.0\.0\.1\]\) "
                        r"by mx\.test\.example \(gatepost\) with ESMTP id %s "
                        r"for <alice@test\.example>; \w{3}, \d{1,2} \w{3} \d{4} "
                        r"\d\d:\d\d:\d\d [+-]\d{4}" % qid, received), received
    assert header_values(msg, "Return-Path") == ["<sender@remote.example>"]
    assert header_values(msg, "Delivered-To") == ["alice@test.example"]
    # Return-Path, then Delivered-To, then Received, then the client's headers.
    names = [l.split(":")[0] for l in msg.decode().split("\n\n")[0].split("\n") if l[:1] not in " \t"]
    assert names[:4] == ["Return-Path", "Delivered-To", "Received", "Message-ID"]


def test_received_header_several_recipients_and_smtp(gatepost):
    gp = gatepost()
    qid = queued_id(gp.port, ["alice@test.example", "bob@test.example"], message("trace2"),
                    esmtp=False, helo="old.remote.example")
    for user in ("alice", "bob"):
        (msg,) = gp.maildir_messages(user)
        (received,) = header_values(msg, "Received")
        assert "with SMTP id %s;" % qid in received
        assert "for <" not in received        # never disclose the other recipients
        assert received.startswith("from old.remote.example (")
        assert header_values(msg, "Delivered-To") == ["%s@test.example" % user]


def test_null_sender_return_path(gatepost):
    gp = gatepost()
    queued_id(gp.port, ["alice@test.example"], message("nullsender"), sender="")
    (msg,) = gp.maildir_messages("alice")
    assert header_values(msg, "Return-Path") == ["<>"]


def test_maildir_safe_delivery_leaves_nothing_in_tmp(gatepost):
    gp = gatepost()
    for i in range(5):
        assert send(gp.port, "alice@test.example", message("safe%d" % i)) == {}
    msgs = gp.maildir_messages("alice", count=5)
    assert len(msgs) == 5
    base = os.path.join(gp.mail_dir, "alice")
    assert os.listdir(os.path.join(base, "tmp")) == []
    for name in os.listdir(os.path.join(base, "new")):
        st = os.stat(os.path.join(base, "new", name))
        assert (st.st_uid, st.st_gid) == (gp.uid, gp.gid)
        assert st.st_mode & 0o077 == 0          # private to the mailbox owner
        assert ":" not in name and not name.startswith(".")


# ---- size limits and bounces ----

def dsn_checks(report, rcpt, status):
    text = report.decode(errors="replace")
    assert header_values(report, "Return-Path") == ["<>"]
    assert "Subject: Undelivered Mail Returned to Sender" in text
    assert re.search(r"Content-Type: multipart/report; report-type=delivery-status;", text)
    assert "Content-Type: message/delivery-status" in text
    assert "Reporting-MTA: dns; mx.test.example" in text
    assert "Final-Recipient: rfc822; %s" % rcpt in text
    assert "Action: failed" in text
    assert "Status: %s" % status in text


def test_virtual_mailbox_limit_bounces_to_local_sender(gatepost):
    # carol's mailbox is an mbox file (no trailing slash): the limit is on its total size.
    gp = gatepost(main={"virtual_mailbox_maps": "inline:{ alice@test.example=alice/, "
                                                "bob@test.example=bob/, carol@test.example=carol }",
                        "virtual_mailbox_limit": "6000", "message_size_limit": "5000"})
    body = message("fill", body=("y" * 70 + "\r\n") * 50)          # ~3.6 kB
    assert send(gp.port, "carol@test.example", body, sender="bob@test.example") == {}
    gp.wait_log(r"to=<carol@test\.example>, relay=virtual, .*status=sent")
    qid = queued_id(gp.port, ["carol@test.example"], message("overflow", body=("z" * 70 + "\r\n") * 50),
                    sender="bob@test.example")
    line = gp.wait_log(r"%s: to=<carol@test\.example>, relay=virtual, .*status=bounced" % qid)[0]
    assert "dsn=5.2.2" in line
    gp.wait_log(r"%s: sender non-delivery notification: \w+" % qid)
    (report,) = gp.maildir_messages("bob")
    dsn_checks(report, "carol@test.example", "5.2.2")
    assert b"overflow" in report                # the returned message
    data = open(os.path.join(gp.mail_dir, "carol"), "rb").read()
    assert b"fill" in data and b"overflow" not in data


def test_virtual_maildir_limit_bounces(gatepost):
    gp = gatepost(main={"virtual_mailbox_limit": "2600"})
    # RET=HDRS keeps the report itself under the limit of the sender's Maildir.
    qid = queued_id(gp.port, ["alice@test.example"], message("big", body="w" * 3000 + "\r\n"),
                    sender="bob@test.example", mail_params=" RET=HDRS")
    line = gp.wait_log(r"%s: to=<alice@test\.example>, .*status=bounced" % qid)[0]
    assert "dsn=5.2.2" in line
    (report,) = gp.maildir_messages("bob")
    dsn_checks(report, "alice@test.example", "5.2.2")
    assert b"Message-ID: <big@remote.example>" in report and b"w" * 3000 not in report
    assert gp.maildir_count("alice") == 0
    tmp = os.path.join(gp.mail_dir, "alice", "tmp")
    assert not os.path.isdir(tmp) or os.listdir(tmp) == []


def test_local_mailbox_size_limit(gatepost, local_user):
    gp = gatepost(start=False)
    spool = os.path.join(gp.dir, "spool")
    os.makedirs(spool)
    os.chmod(spool, 0o1777)
    gp.params.update({"mydestination": "mx.test.example", "mail_spool_directory": spool,
                      "mailbox_size_limit": "6000", "message_size_limit": "5000"})
    gp.write_config()
    gp.start()
    rcpt = "%s@mx.test.example" % local_user.pw_name
    body = ("v" * 70 + "\r\n") * 50
    assert send(gp.port, rcpt, message("first", body=body), sender="bob@test.example") == {}
    gp.wait_log(r"to=<%s>, relay=local, .*status=sent \(delivered to mailbox\)" % rcpt)
    qid = queued_id(gp.port, [rcpt], message("second", body=body), sender="bob@test.example")
    line = gp.wait_log(r"%s: to=<%s>, relay=local, .*status=bounced" % (qid, rcpt))[0]
    assert "dsn=5.2.2" in line
    (report,) = gp.maildir_messages("bob")
    dsn_checks(report, rcpt, "5.2.2")
    data = open(os.path.join(spool, local_user.pw_name), "rb").read()
    assert b"first" in data and b"second" not in data     # the failed append was undone


def test_bounce_for_remote_sender_is_queued_not_lost(gatepost):
    gp = gatepost(main=dict(FAST_RETRY, virtual_mailbox_limit="2000"))
    qid = queued_id(gp.port, ["alice@test.example"], message("big2", body="w" * 3000 + "\r\n"),
                    sender="someone@elsewhere.example")
    gp.wait_log(r"%s: to=<alice@test\.example>, .*status=bounced" % qid)
    bounce = gp.wait_log(r"%s: sender non-delivery notification: (\w+)" % qid)[0].split()[-1]
    # No SMTP client yet: the notification waits in the queue.
    gp.wait_log(r"%s: to=<someone@elsewhere\.example>, .*status=deferred" % bounce)


# ---- temporary failures and retries ----

def test_unwritable_maildir_is_retried(gatepost):
    gp = gatepost(main=FAST_RETRY)
    base = os.path.join(gp.mail_dir, "alice")
    for sub in ("", "tmp", "new", "cur"):
        os.makedirs(os.path.join(base, sub), exist_ok=True)
    # Owned by root and read-only: the delivery (as the mailbox owner) fails.
    for sub in ("tmp", "new", "cur", ""):
        os.chmod(os.path.join(base, sub), 0o555)
    qid = queued_id(gp.port, ["alice@test.example"], message("retry1"))
    line = gp.wait_log(r"%s: to=<alice@test\.example>, relay=virtual, .*status=deferred" % qid)[0]
    assert re.search(r"dsn=4\.\d\.\d", line)
    assert gp.maildir_count("alice") == 0
    for sub in ("", "tmp", "new", "cur"):
        path = os.path.join(base, sub)
        os.chown(path, gp.uid, gp.gid)
        os.chmod(path, 0o700)
    gp.wait_log(r"%s: to=<alice@test\.example>, relay=virtual, .*status=sent" % qid, timeout=30)
    gp.wait_log(r"%s: removed" % qid)
    (msg,) = gp.maildir_messages("alice")
    assert b"retry1" in msg
