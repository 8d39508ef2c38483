"""Bare <LF> and bare <CR> in commands and in message content, under each
smtpd_forbid_bare_newline value, and the dot-stuffing round trip.

  no, normalize   a bare LF ends a command line or a content line; a bare CR
                  inside a line is kept; only <CR><LF>.<CR><LF> ends DATA
  reject          a command line with a bare LF or CR is answered
                  "550 5.5.2 <myhostname> Error: bare <LF> received" and the
                  connection is closed; content with one is read to the real
                  end of data, then refused the same way (nothing is queued)
"""

import pytest

from lib.smtp_raw import RawSMTP

REJECT = (550, ["550 5.5.2 mx.test.example Error: bare <LF> received"])


def open_session(port, source=None):
    c = RawSMTP(port, source=source)
    assert c.reply()[0] == 220
    return c


def start_data(c):
    assert c.cmd("EHLO client.remote.example")[0] == 250
    assert c.cmd("MAIL FROM:<sender@remote.example>")[0] == 250
    assert c.cmd("RCPT TO:<alice@test.example>")[0] == 250
    assert c.cmd("DATA")[0] == 354


@pytest.mark.parametrize("mode", ["no", "normalize", "yes"])
def test_bare_lf_accepted_as_line_end(gatepost, mode):
    gp = gatepost(main={"smtpd_forbid_bare_newline": mode})
    c = open_session(gp.port)
    c.send(b"EHLO client.remote.example\n")
    assert c.reply()[0] == 250
    c.send(b"MAIL FROM:<sender@remote.example>\nRCPT TO:<alice@test.example>\r\n")
    assert [code for code, _ in c.replies(2)] == [250, 250]
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: bare\n\nline one\nline\rtwo\r\n.\nstill content\r\n.\r\n")
    code, lines = c.reply()
    assert code == 250, lines
    (msg,) = gp.maildir_messages("alice")
    body = msg.split(b"\n\n", 1)[1]
    assert body == b"line one\nline\rtwo\n.\nstill content\n"


def test_reject_mode_refuses_bare_lf_command_and_disconnects(gatepost):
    gp = gatepost(main={"smtpd_forbid_bare_newline": "reject"})
    c = open_session(gp.port)
    assert c.cmd("EHLO client.remote.example")[0] == 250
    c.send(b"MAIL FROM:<sender@remote.example>\n")
    assert c.reply() == REJECT
    assert c.closed()
    # As in Postfix, the stage named is the last command handled.
    gp.wait_log(r"NOQUEUE: reject: EHLO from localhost\.test\.example\[127\.0\.0\.1\]: "
                r"bare <LF> received; proto=ESMTP helo=<client\.remote\.example>")


def test_reject_mode_refuses_bare_cr_command(gatepost):
    gp = gatepost(main={"smtpd_forbid_bare_newline": "reject"})
    c = open_session(gp.port)
    c.send(b"NOOP\rRSET\r\n")
    assert c.reply() == REJECT
    assert c.closed()


def test_reject_mode_refuses_content_after_the_real_end(gatepost):
    gp = gatepost(main={"smtpd_forbid_bare_newline": "reject"})
    c = open_session(gp.port)
    start_data(c)
    c.send(b"Subject: bare\r\n\r\nline one\nline two\r\n.\n")
    assert c.pending(wait=0.3) == b""          # ".\n" is not the end
    c.send(b"more\r\n.\r\n")
    assert c.reply() == REJECT
    # The session goes on; the message was not queued.
    assert c.cmd("NOOP") == (250, ["250 2.0.0 Ok"])
    start_data_again = c.cmd("MAIL FROM:<sender@remote.example>")
    assert start_data_again[0] == 250
    c.cmd("RCPT TO:<alice@test.example>")
    c.cmd("DATA")
    assert c.cmd("Subject: clean\r\n\r\nclean body\r\n.")[0] == 250
    msgs = gp.maildir_messages("alice")
    assert len(msgs) == 1 and b"clean body" in msgs[0]
    gp.wait_log(r"reject: END-OF-MESSAGE from localhost\.test\.example\[127\.0\.0\.1\]: "
                r"bare <LF> received; from=<sender@remote\.example> to=<alice@test\.example>")


def test_reject_mode_exclusions(gatepost):
    gp = gatepost(main={"smtpd_forbid_bare_newline": "reject",
                        "smtpd_forbid_bare_newline_exclusions": "127.0.0.1"})
    c = open_session(gp.port, source="127.0.0.1")
    c.send(b"EHLO client.remote.example\n")
    assert c.reply()[0] == 250
    c.close()
    c = open_session(gp.port, source="127.0.0.11")
    c.send(b"EHLO client.remote.example\n")
    assert c.reply() == REJECT


def test_reject_code_is_configurable(gatepost):
    gp = gatepost(main={"smtpd_forbid_bare_newline": "reject",
                        "smtpd_forbid_bare_newline_reject_code": "521"})
    c = open_session(gp.port)
    c.send(b"EHLO client.remote.example\n")
    assert c.reply() == (521, ["521 5.5.2 mx.test.example Error: bare <LF> received"])


def test_dot_stuffing_round_trip(gatepost):
    gp = gatepost()
    c = open_session(gp.port)
    start_data(c)
    lines = [b"Subject: dots", b"", b".", b"..", b"...", b".leading", b"..double",
             b"middle . dot", b" .", b"end."]
    # Client side (RFC 5321 4.5.2): a line starting with "." gets one more.
    stuffed = [b"." + l if l.startswith(b".") else l for l in lines]
    code, _ = c.cmd(b"\r\n".join(stuffed) + b"\r\n.")
    assert code == 250
    (msg,) = gp.maildir_messages("alice")
    body = msg.split(b"\n\n", 1)[1]
    assert body == b"\n".join(lines[2:]) + b"\n"


def test_empty_message(gatepost):
    gp = gatepost()
    c = open_session(gp.port)
    start_data(c)
    assert c.cmd(".")[0] == 250
    (msg,) = gp.maildir_messages("alice")
    assert msg.startswith(b"Return-Path: <sender@remote.example>\n")
