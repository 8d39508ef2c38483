"""Address routing against the real daemon: local delivery for
mydestination to a real passwd user (mbox in mail_spool_directory and
Maildir under home_mailbox), local_recipient_maps, virtual mailbox
domains (Maildir and mbox results), relay control (reject_unauth_destination
and the default defer_unauth_destination), and mail for a remote domain from
mynetworks: accepted, then deferred (there is no SMTP client yet)."""

import os
import smtplib

from lib.mail import header_values, message, send, wait_for
from lib.smtp_raw import RawSMTP


def spool_dir(gp):
    path = os.path.join(gp.dir, "spool")
    os.makedirs(path, exist_ok=True)
    os.chmod(path, 0o1777)
    return path


def test_local_mbox_delivery(gatepost, local_user):
    gp = gatepost(start=False)
    spool = spool_dir(gp)
    gp.params.update({"mydestination": "mx.test.example, localhost", "mail_spool_directory": spool})
    gp.write_config()
    gp.start()
    rcpt = "%s@mx.test.example" % local_user.pw_name
    assert send(gp.port, rcpt, message("mbox1", body="From the start\r\nplain\r\n")) == {}
    assert send(gp.port, rcpt, message("mbox2")) == {}
    path = os.path.join(spool, local_user.pw_name)
    wait_for(lambda: os.path.exists(path) and open(path, "rb").read().count(b"\nFrom ") >= 1,
             what="two messages in %s" % path)
    data = open(path, "rb").read()
    st = os.stat(path)
    assert (st.st_uid, st.st_gid) == (local_user.pw_uid, local_user.pw_gid)
    assert data.startswith(b"From sender@remote.example  ")
    assert data.count(b"\nFrom sender@remote.example  ") == 1     # the second message
    assert b"Return-Path: <sender@remote.example>\n" in data
    assert ("Delivered-To: %s\n" % rcpt).encode() in data
    assert b"\n>From the start\n" in data                          # quoted in the body
    gp.wait_log(r"to=<%s>, relay=local, .*status=sent \(delivered to mailbox\)" % rcpt, count=2)


def test_local_maildir_delivery_in_home(gatepost, local_user):
    gp = gatepost(main={"mydestination": "mx.test.example", "home_mailbox": "Maildir/"})
    rcpt = "%s@mx.test.example" % local_user.pw_name
    assert send(gp.port, rcpt, message("home1")) == {}
    new = os.path.join(local_user.pw_dir, "Maildir", "new")
    names = wait_for(lambda: os.path.isdir(new) and os.listdir(new), what="delivery to " + new)
    assert len(names) == 1
    path = os.path.join(new, names[0])
    st = os.stat(path)
    assert (st.st_uid, st.st_gid) == (local_user.pw_uid, local_user.pw_gid)
    data = open(path, "rb").read()
    assert header_values(data, "Delivered-To") == [rcpt]
    assert b"home1" in data
    gp.wait_log(r"to=<%s>, relay=local, .*status=sent \(delivered to maildir\)" % rcpt)


def test_local_recipient_maps_refuses_unknown_users(gatepost, local_user):
    gp = gatepost(main={"mydestination": "mx.test.example"})
    c = RawSMTP(gp.port)
    c.reply()
    c.cmd("EHLO client.remote.example")
    c.cmd("MAIL FROM:<sender@remote.example>")
    assert c.cmd("RCPT TO:<no-such-user-here@mx.test.example>") == (
        550, ["550 5.1.1 <no-such-user-here@mx.test.example>: Recipient address rejected: "
              "User unknown in local recipient table"])
    assert c.cmd("RCPT TO:<%s@mx.test.example>" % local_user.pw_name)[0] == 250
    gp.wait_log(r"NOQUEUE: reject: RCPT from .*User unknown in local recipient table; "
                r"from=<sender@remote\.example> to=<no-such-user-here@mx\.test\.example>")


def test_virtual_mailbox_mbox_result(gatepost):
    gp = gatepost(main={"virtual_mailbox_maps":
                        "inline:{ alice@test.example=alice/, carol@test.example=carol }"})
    assert send(gp.port, "carol@test.example", message("carol1")) == {}
    path = os.path.join(gp.mail_dir, "carol")
    wait_for(lambda: os.path.isfile(path) and b"carol1" in open(path, "rb").read(),
             what="mbox " + path)
    data = open(path, "rb").read()
    assert data.startswith(b"From sender@remote.example  ")
    assert b"Delivered-To: carol@test.example\n" in data


def test_virtual_domain_unknown_user(gatepost):
    gp = gatepost()
    with smtplib.SMTP("127.0.0.1", gp.port, timeout=20) as c:
        c.ehlo("client.remote.example")
        c.mail("sender@remote.example")
        code, msg = c.rcpt("zed@test.example")
    assert code == 550
    assert b"User unknown in virtual mailbox table" in msg


def test_relay_denied_with_reject_unauth_destination(gatepost):
    gp = gatepost(main={"smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination"})
    c = RawSMTP(gp.port, source="127.0.0.11")
    c.reply()
    c.cmd("EHLO client1.test.example")
    c.cmd("MAIL FROM:<sender@remote.example>")
    assert c.cmd("RCPT TO:<someone@elsewhere.example>") == (
        554, ["554 5.7.1 <someone@elsewhere.example>: Relay access denied"])
    # Local domains are still reachable from outside.
    assert c.cmd("RCPT TO:<alice@test.example>")[0] == 250
    gp.wait_log(r"NOQUEUE: reject: RCPT from client1\.test\.example\[127\.0\.0\.11\]: 554 5\.7\.1 "
                r"<someone@elsewhere\.example>: Relay access denied; from=<sender@remote\.example> "
                r"to=<someone@elsewhere\.example> proto=ESMTP helo=<client1\.test\.example>")


def test_default_relay_restrictions_defer(gatepost):
    gp = gatepost()
    c = RawSMTP(gp.port, source="127.0.0.12")
    c.reply()
    c.cmd("EHLO client2.test.example")
    c.cmd("MAIL FROM:<sender@remote.example>")
    assert c.cmd("RCPT TO:<someone@elsewhere.example>") == (
        454, ["454 4.7.1 <someone@elsewhere.example>: Relay access denied"])


def test_remote_mail_from_mynetworks_is_accepted_and_deferred(gatepost):
    gp = gatepost(main={"minimal_backoff_time": "1s", "maximal_backoff_time": "2s",
                        "queue_run_delay": "1s"})
    assert send(gp.port, "someone@elsewhere.example", message("remote1"),
                source="127.0.0.1") == {}
    line = gp.wait_log(r"to=<someone@elsewhere\.example>, .*status=deferred")[0]
    assert "dsn=4." in line
    # Still queued, never dropped, and retried.
    gp.wait_log(r"to=<someone@elsewhere\.example>, .*status=deferred", count=2, timeout=30)
    assert not gp.log_lines(r"to=<someone@elsewhere\.example>, .*status=(sent|bounced)")
    deferred = os.path.join(gp.params["queue_directory"], "deferred")
    assert wait_for(lambda: os.listdir(deferred), what="a file in deferred/")
