"""SMTP per RFC 5321 against the real daemon: greeting, HELO/EHLO and their
keywords, the transaction commands, VRFY/HELP/NOOP/RSET/QUIT, enhanced
status codes on every reply (RFC 2034), and message_size_limit both as
announced (SIZE=) and as counted."""

import re
import smtplib

from lib.mail import message, send
from lib.smtp_raw import RawSMTP

ENHANCED = re.compile(r"^[245]\.\d{1,3}\.\d{1,3} ")


def session(port, lines, source=None):
    """Runs lines one by one; returns [(line, code, text lines)] after the greeting."""
    c = RawSMTP(port, source=source)
    out = [("<greeting>",) + c.reply()]
    for line in lines:
        out.append((line,) + c.cmd(line))
    c.close()
    return out


def test_greeting_is_the_default_banner(gatepost):
    gp = gatepost()
    c = RawSMTP(gp.port)
    assert c.reply() == (220, ["220 mx.test.example ESMTP gatepost"])
    c.close()


def test_ehlo_keywords(gatepost):
    gp = gatepost(main={"message_size_limit": "123456"})
    c = RawSMTP(gp.port)
    c.reply()
    code, lines = c.cmd("EHLO client.remote.example")
    assert code == 250
    assert lines[0] == "250-mx.test.example"
    keywords = [l[4:] for l in lines[1:]]
    for k in ("PIPELINING", "SIZE 123456", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8", "VRFY"):
        assert k in keywords, keywords
    assert all(l.startswith("250-") for l in lines[:-1]) and lines[-1].startswith("250 ")


def test_helo_answers_without_keywords(gatepost):
    gp = gatepost()
    c = RawSMTP(gp.port)
    c.reply()
    assert c.cmd("HELO client.remote.example") == (250, ["250 mx.test.example"])
    assert c.cmd("HELO") == (501, ["501 5.5.4 Syntax: HELO hostname"])
    assert c.cmd("EHLO") == (501, ["501 5.5.4 Syntax: EHLO hostname"])


def test_helo_required(gatepost):
    gp = gatepost(main={"smtpd_helo_required": "yes"})
    c = RawSMTP(gp.port)
    c.reply()
    assert c.cmd("MAIL FROM:<a@remote.example>") == (503, ["503 5.5.1 Error: send HELO/EHLO first"])
    assert c.cmd("HELO client.remote.example")[0] == 250
    assert c.cmd("MAIL FROM:<a@remote.example>") == (250, ["250 2.1.0 Ok"])


def test_helo_not_required_by_default(gatepost):
    gp = gatepost()
    c = RawSMTP(gp.port)
    c.reply()
    assert c.cmd("MAIL FROM:<a@remote.example>") == (250, ["250 2.1.0 Ok"])
    assert c.cmd("RCPT TO:<alice@test.example>") == (250, ["250 2.1.5 Ok"])


def test_command_sequence_errors_and_replies(gatepost):
    gp = gatepost()
    got = session(gp.port, [
        "EHLO client.remote.example",
        "RCPT TO:<alice@test.example>",
        "DATA",
        "MAIL FROM:<a@remote.example>",
        "MAIL FROM:<b@remote.example>",
        "DATA",
        "RCPT TO:<alice@test.example>",
        "RSET",
        "RCPT TO:<alice@test.example>",
        "NOOP",
        "HELP",
        "BOGUS",
        "MAIL FROM:<unterminated@remote.example",
        "RSET extra",
        "QUIT",
    ])
    replies = {i: (code, text) for i, (_, code, text) in enumerate(got)}
    assert replies[2] == (503, ["503 5.5.1 Error: need MAIL command"])
    assert replies[3] == (503, ["503 5.5.1 Error: need RCPT command"])
    assert replies[4] == (250, ["250 2.1.0 Ok"])
    assert replies[5] == (503, ["503 5.5.1 Error: nested MAIL command"])
    assert replies[6] == (503, ["503 5.5.1 Error: need RCPT command"])
    assert replies[7] == (250, ["250 2.1.5 Ok"])
    assert replies[8] == (250, ["250 2.0.0 Ok"])
    assert replies[9] == (503, ["503 5.5.1 Error: need MAIL command"])
    assert replies[10] == (250, ["250 2.0.0 Ok"])
    assert replies[11][0] == 214
    assert replies[12] == (502, ["502 5.5.2 Error: command not recognized"])
    assert replies[13][0] == 501
    assert replies[14] == (501, ["501 5.5.4 Syntax: RSET"])
    assert replies[15] == (221, ["221 2.0.0 Bye"])


def test_every_reply_carries_an_enhanced_status_code(gatepost):
    gp = gatepost(main={"smtpd_hard_error_limit": "100"})
    got = session(gp.port, [
        "EHLO client.remote.example", "HELP", "NOOP", "VRFY alice@test.example",
        "VRFY nobody@test.example", "VRFY", "MAIL FROM:<>", "RCPT TO:<nobody@test.example>",
        "RCPT TO:<x@elsewhere.example>", "DATA", "RCPT TO:<alice@test.example>",
        "RSET", "MAIL FROM:<bad", "MAIL FROM:<a@remote.example> SIZE=abc", "RCPT",
        "XYZZY", "DATA x", "RSET", "QUIT",
    ], source="127.0.0.11")     # outside mynetworks: the relay attempt is refused
    for line, code, text in got:
        if line in ("<greeting>",) or line.startswith("EHLO") or code == 354:
            continue    # RFC 2034 exempts the greeting and the EHLO lines
        for t in text:
            assert ENHANCED.match(t[4:]), "%s -> %r" % (line, t)
            assert t[4] == str(code)[0], "%s -> %r" % (line, t)


def test_vrfy_enabled_and_disabled(gatepost):
    gp = gatepost()
    c = RawSMTP(gp.port)
    c.reply()
    assert c.cmd("VRFY alice@test.example") == (252, ["252 2.0.0 alice@test.example"])
    assert c.cmd("VRFY <nobody@test.example>")[0] == 550
    c.close()
    gp2 = gatepost(main={"disable_vrfy_command": "yes"})
    c = RawSMTP(gp2.port)
    c.reply()
    assert c.cmd("VRFY alice@test.example") == (502, ["502 5.5.1 VRFY command is disabled"])
    code, lines = c.cmd("EHLO client.remote.example")
    assert "250-VRFY" not in lines and "250 VRFY" not in lines


def test_quit_closes(gatepost):
    gp = gatepost()
    c = RawSMTP(gp.port)
    c.reply()
    assert c.cmd("QUIT") == (221, ["221 2.0.0 Bye"])
    assert c.closed()


def test_size_parameter_over_limit(gatepost):
    gp = gatepost(main={"message_size_limit": "10000"})
    c = RawSMTP(gp.port)
    c.reply()
    c.cmd("EHLO client.remote.example")
    assert c.cmd("MAIL FROM:<a@remote.example> SIZE=10001") == (
        552, ["552 5.3.4 Message size exceeds fixed limit"])
    assert c.cmd("MAIL FROM:<a@remote.example> SIZE=10000") == (250, ["250 2.1.0 Ok"])


def test_actual_size_over_limit_is_refused_and_not_delivered(gatepost):
    gp = gatepost(main={"message_size_limit": "10000"})
    with smtplib.SMTP("127.0.0.1", gp.port, timeout=20) as c:
        c.ehlo("client.remote.example")
        c.mail("a@remote.example")      # no SIZE= announced
        c.rcpt("alice@test.example")
        big = message("big1", body="x" * 78 + "\r\n") + (b"y" * 78 + b"\r\n") * 200
        code, msg = c.data(big)
        assert code == 552
        assert msg.decode().startswith("5.3.4 ")
        # The session goes on: a small message still gets through.
        c.rset()
        assert c.sendmail("a@remote.example", ["alice@test.example"], message("small1")) == {}
    msgs = gp.maildir_messages("alice")
    assert len(msgs) == 1 and b"small1" in msgs[0]


def test_smtplib_round_trip_with_8bit_body(gatepost):
    gp = gatepost()
    body = message("eight", extra_headers=["Content-Type: text/plain; charset=utf-8",
                                           "Content-Transfer-Encoding: 8bit"],
                   body="gr\u00fc\u00dfe\r\n").decode().encode("utf-8")
    with smtplib.SMTP("127.0.0.1", gp.port, timeout=20) as c:
        c.ehlo("client.remote.example")
        assert c.sendmail("a@remote.example", ["alice@test.example"], body,
                          mail_options=["BODY=8BITMIME"]) == {}
    (msg,) = gp.maildir_messages("alice")
    assert "gr\u00fc\u00dfe".encode() in msg


def test_unicode_address_needs_smtputf8(gatepost):
    gp = gatepost(main={"virtual_mailbox_maps":
                        "inline:{ alice@test.example=alice/, j\u00f6rg@test.example=jorg/ }"})
    c = RawSMTP(gp.port)
    c.reply()
    c.cmd("EHLO client.remote.example")
    assert c.cmd("MAIL FROM:<j\u00f6rg@remote.example>".encode()) == (
        553, ["553 5.6.7 Must declare SMTPUTF8 to send unicode address"])
    assert c.cmd(b"MAIL FROM:<a@remote.example>")[0] == 250
    assert c.cmd("RCPT TO:<j\u00f6rg@test.example>".encode()) == (
        553, ["553 5.6.7 Must declare SMTPUTF8 to send unicode address"])
    c.cmd("RSET")
    assert c.cmd("MAIL FROM:<j\u00f6rg@remote.example> SMTPUTF8".encode())[0] == 250
    assert c.cmd("RCPT TO:<j\u00f6rg@test.example>".encode())[0] == 250
    assert c.cmd("DATA")[0] == 354
    code, lines = c.cmd(b"Subject: utf8\r\n\r\nhej\r\n.")
    assert code == 250, lines
    (msg,) = gp.maildir_messages("jorg")
    assert "Return-Path: <j\u00f6rg@remote.example>".encode() in msg
    assert b"with UTF8SMTP id" in msg


def test_send_helper_multiple_recipients_one_transaction(gatepost):
    gp = gatepost()
    assert send(gp.port, ["alice@test.example", "bob@test.example"], message("two")) == {}
    assert len(gp.maildir_messages("alice")) == 1
    assert len(gp.maildir_messages("bob")) == 1


def test_strict_rfc821_envelopes(gatepost):
    lenient = gatepost()
    c = RawSMTP(lenient.port)
    c.reply()
    assert c.cmd("MAIL FROM:a@remote.example") == (250, ["250 2.1.0 Ok"])
    assert c.cmd("RCPT TO:alice@test.example") == (250, ["250 2.1.5 Ok"])
    c.close()
    strict = gatepost(main={"strict_rfc821_envelopes": "yes"})
    c = RawSMTP(strict.port)
    c.reply()
    assert c.cmd("MAIL FROM:a@remote.example") == (501, ["501 5.1.7 Bad sender address syntax"])
    assert c.cmd("MAIL FROM:<a@remote.example>") == (250, ["250 2.1.0 Ok"])
    assert c.cmd("RCPT TO:alice@test.example") == (501, ["501 5.1.3 Bad recipient address syntax"])
    assert c.cmd("RCPT TO:<alice@test.example>") == (250, ["250 2.1.5 Ok"])
