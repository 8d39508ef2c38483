"""Logs are an interface: the real daemon's log lines have Postfix's shapes
(connect, client=, message-id=, from=... (queue active), to=... status=,
removed, NOQUEUE: reject: ..., disconnect ... commands=N), and Debian's
pflogsumm, reading a log made by a scripted mix of sessions, reports the
exact totals that mix should give."""

import re
import smtplib
import subprocess
import time

from lib.mail import message, send
from lib.smtp_raw import RawSMTP

SYSLOG_PREFIX = r"^\w{3} [ \d]\d \d\d:\d\d:\d\d mx\.test\.example gatepost/%s\[\d+\]: "


def one(gp, service, pattern, timeout=20):
    lines = gp.wait_log(SYSLOG_PREFIX % service + pattern, timeout=timeout)
    assert len(lines) == 1, lines
    return lines[0]


def test_postfix_log_line_shapes(gatepost):
    gp = gatepost()
    c = RawSMTP(gp.port)
    c.reply()
    c.cmd("EHLO client.remote.example")
    c.cmd("MAIL FROM:<sender@remote.example>")
    c.cmd("RCPT TO:<nobody@test.example>")
    c.cmd("RCPT TO:<alice@test.example>")
    c.cmd("DATA")
    code, lines = c.cmd(message("shapes").rstrip(b"\r\n") + b"\r\n.")
    qid = re.search(r"queued as (\w+)", lines[0]).group(1)
    c.cmd("QUIT")
    c.close()
    peer = r"localhost\.test\.example\[127\.0\.0\.1\]"
    gp.wait_log(r"qmgr\[\d+\]: %s: removed" % qid)
    one(gp, "smtpd", r"%s: client=%s$" % (qid, peer))
    one(gp, "cleanup", r"%s: message-id=<shapes@remote\.example>$" % qid)
    one(gp, "qmgr", r"%s: from=<sender@remote\.example>, size=\d+, nrcpt=1 \(queue active\)$" % qid)
    one(gp, "virtual", r"%s: to=<alice@test\.example>, relay=virtual, delay=[\d.]+, "
                       r"delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, dsn=2\.0\.0, "
                       r"status=sent \(delivered to maildir\)$" % qid)
    one(gp, "qmgr", r"%s: removed$" % qid)
    one(gp, "smtpd", r"NOQUEUE: reject: RCPT from %s: 550 5\.1\.1 <nobody@test\.example>: "
                     r"Recipient address rejected: User unknown in virtual mailbox table; "
                     r"from=<sender@remote\.example> to=<nobody@test\.example> proto=ESMTP "
                     r"helo=<client\.remote\.example>$" % peer)
    one(gp, "smtpd", r"disconnect from %s ehlo=1 mail=1 rcpt=1/2 data=1 quit=1 commands=5/6$" % peer)
    # Order within the message's life.
    log = gp.log()
    order = ["connect from", "%s: client=" % qid, "%s: message-id=" % qid,
             "%s: from=<" % qid, "%s: to=<" % qid, "%s: removed" % qid]
    positions = [log.index(s) for s in order]
    assert positions == sorted(positions)


def test_lost_connection_and_helo_log(gatepost):
    gp = gatepost()
    c = RawSMTP(gp.port)
    c.reply()
    c.cmd("HELO old.remote.example")
    c.cmd("MAIL FROM:<sender@remote.example>")
    c.close()
    gp.wait_log(r"lost connection after MAIL from localhost\.test\.example\[127\.0\.0\.1\]$")
    gp.wait_log(r"disconnect from localhost\.test\.example\[127\.0\.0\.1\] helo=1 mail=1 commands=2$")


def test_unverified_client_name_is_unknown(gatepost):
    # 127.0.0.13's PTR names a host whose address is elsewhere: not confirmed.
    gp = gatepost()
    c = RawSMTP(gp.port, source="127.0.0.13")
    c.reply()
    c.cmd("QUIT")
    gp.wait_log(r"connect from unknown\[127\.0\.0\.13\]$")
    gp.wait_log(r"disconnect from unknown\[127\.0\.0\.13\] quit=1 commands=1$")


def test_ptr_name_that_is_no_host_name_is_unknown(gatepost):
    # 127.0.0.14's PTR is "127.0.0.14": a name posing as an address would
    # even map back to it. 127.0.0.15's PTR has a label ending in '-' (its
    # A record exists, so only the syntax check refuses it).
    gp = gatepost()
    for source in ("127.0.0.14", "127.0.0.15"):
        c = RawSMTP(gp.port, source=source)
        c.reply()
        c.cmd("QUIT")
    gp.wait_log(r"smtpd\[\d+\]: warning: numeric hostname: 127\.0\.0\.14$")
    gp.wait_log(r"connect from unknown\[127\.0\.0\.14\]$")
    gp.wait_log(r"smtpd\[\d+\]: warning: hostname trailing-\.test\.example for address "
                r"127\.0\.0\.15: malformed name$")
    gp.wait_log(r"connect from unknown\[127\.0\.0\.15\]$")


def pflogsumm_totals(log_path):
    out = subprocess.run(["/usr/sbin/pflogsumm", "--syslog-name=gatepost", log_path],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    section = text[text.index("Grand Totals"):text.index("Per-Hour Traffic Summary")
                   if "Per-Hour Traffic Summary" in text else len(text)]
    totals = {}
    for line in section.splitlines():
        m = re.match(r"\s+(\d+)\s+(received|delivered|forwarded|deferred|bounced|rejected|"
                     r"reject warnings|held|discarded)\b(.*)$", line)
        if m:
            totals[m.group(2)] = (int(m.group(1)), m.group(3).strip())
    return totals, text


def test_pflogsumm_grand_totals(gatepost):
    gp = gatepost()
    # 3 messages, one recipient each: 3 received, 3 delivered.
    for i in range(3):
        assert send(gp.port, "alice@test.example", message("sum%d" % i)) == {}
    # 1 message, two recipients: 1 received, 2 delivered.
    assert send(gp.port, ["alice@test.example", "bob@test.example"], message("sum-two")) == {}
    # 1 message for a remote domain from mynetworks: 1 received, deferred once.
    assert send(gp.port, "someone@elsewhere.example", message("sum-remote")) == {}
    # 2 unknown users refused: 2 rejected (no transaction opened, nothing received).
    c = RawSMTP(gp.port)
    c.reply()
    c.cmd("EHLO client.remote.example")
    c.cmd("MAIL FROM:<sender@remote.example>")
    assert c.cmd("RCPT TO:<nobody1@test.example>")[0] == 550
    assert c.cmd("RCPT TO:<nobody2@test.example>")[0] == 550
    c.cmd("QUIT")
    # 1 relay attempt from outside mynetworks: 1 rejected.
    with smtplib.SMTP("127.0.0.1", gp.port, timeout=20, source_address=("127.0.0.11", 0)) as s:
        s.ehlo("client1.test.example")
        s.mail("sender@remote.example")
        assert s.rcpt("someone@elsewhere.example")[0] == 454
    # A client that goes away, and one that only says QUIT: counted as nothing.
    RawSMTP(gp.port).close()
    gp.wait_log(r"status=sent", count=5)
    gp.wait_log(r"status=deferred", count=1)
    gp.wait_log(r"disconnect from", count=6)
    time.sleep(0.2)

    totals, text = pflogsumm_totals(gp.log_path)
    assert totals["received"][0] == 5, text
    assert totals["delivered"][0] == 5, text
    assert totals["forwarded"][0] == 0, text
    assert totals["deferred"] == (1, "(1  deferrals)"), text
    assert totals["bounced"][0] == 0, text
    assert totals["rejected"] == (3, "(37%)"), text
    assert totals["discarded"][0] == 0, text
    assert "Relay access denied" in text and "User unknown in virtual mailbox table" in text
