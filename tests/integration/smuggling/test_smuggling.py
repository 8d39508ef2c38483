"""SMTP smuggling (CVE-2023-51764 and relatives) against the real daemon.

Every non-standard end-of-data variant is followed by a forged second
transaction (MAIL FROM / RCPT TO / DATA for another recipient); the real
<CR><LF>.<CR><LF> comes after it. Whatever smtpd_forbid_bare_newline says,
and whether the client is inside mynetworks or not, the forged transaction
must never happen: the client gets exactly one reply for its DATA, the
forged recipient's Maildir stays empty, and the first message carries the
smuggled text as content (or, in reject mode, is refused as a whole).
"""

import itertools

import pytest

from lib.smtp_raw import RawSMTP

LINE_ENDS = [b"\n", b"\r", b"\r\n"]
# Every (end of previous line, end of the dot line) pair but the real one.
VARIANTS = [(a, b) for a, b in itertools.product(LINE_ENDS, LINE_ENDS)
            if (a, b) != (b"\r\n", b"\r\n")]
# A few more shapes seen in the 2023 reports.
EXTRA = [b"\r\n.\x00\r\n", b"\n..\n", b"\r\n \r\n.\n", b"\r\r\n.\n"]

FORGED = (b"MAIL FROM:<forger@remote.example>\r\n"
          b"RCPT TO:<bob@test.example>\r\n"
          b"DATA\r\n"
          b"Subject: smuggled\r\n\r\nforged body\r\n")


def payloads():
    out = [a + b"." + b for a, b in VARIANTS]
    return out + EXTRA


def smuggle(port, source, payload, marker):
    """One session: a message with payload + forged transaction inside."""
    c = RawSMTP(port, source=source)
    assert c.reply()[0] == 220
    c.cmd("EHLO client.remote.example")
    assert c.cmd("MAIL FROM:<sender@remote.example>")[0] == 250
    assert c.cmd("RCPT TO:<alice@test.example>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: first " + marker.encode() + b"\r\n\r\nfirst part" + payload + FORGED +
           b".\r\n")
    code, lines = c.reply()
    # Exactly one reply for the whole DATA: after it, QUIT's is the only one.
    c.send(b"QUIT\r\n")
    assert c.closed()
    rest = c.buf
    c.close()
    return code, lines, rest


@pytest.mark.parametrize("mode", ["no", "normalize"])
def test_smuggling_variants_stay_content(gatepost, mode):
    gp = gatepost(main={"smtpd_forbid_bare_newline": mode, "mynetworks": "127.0.0.0/30"})
    cases = []
    for source in ("127.0.0.1", "127.0.0.11"):          # inside and outside mynetworks
        for i, payload in enumerate(payloads()):
            marker = "%s-%d" % (source, i)
            code, lines, rest = smuggle(gp.port, source, payload, marker)
            assert code == 250 and lines[0].startswith("250 2.0.0 Ok: queued as"), (payload, lines)
            assert rest == b"221 2.0.0 Bye\r\n", (payload, rest)
            cases.append((marker, payload))
    msgs = gp.maildir_messages("alice", count=len(cases))
    assert len(msgs) == len(cases)
    for marker, payload in cases:
        (msg,) = [m for m in msgs if b"Subject: first " + marker.encode() + b"\n" in m]
        assert b"MAIL FROM:<forger@remote.example>" in msg, payload
        assert b"forged body" in msg
    assert gp.maildir_count("bob") == 0
    # The queue manager only ever saw the real messages.
    gp.wait_log(r"qmgr\[\d+\]: \w+: removed", count=len(cases))
    assert not gp.log_lines(r"from=<forger@remote\.example>")


def test_smuggling_variants_rejected_in_reject_mode(gatepost):
    gp = gatepost(main={"smtpd_forbid_bare_newline": "reject"})
    for source in ("127.0.0.1", "127.0.0.11"):
        for i, payload in enumerate(payloads()):
            if b"\n" not in payload.replace(b"\r\n", b"") and \
                    b"\r" not in payload.replace(b"\r\n", b""):
                continue        # no bare newline: nothing to reject
            code, lines, rest = smuggle(gp.port, source, payload, "r%d" % i)
            assert (code, lines) == (550, ["550 5.5.2 mx.test.example Error: bare <LF> received"]), \
                payload
            assert rest == b"221 2.0.0 Bye\r\n", (payload, rest)
    assert gp.maildir_count("alice") == 0
    assert gp.maildir_count("bob") == 0
    assert not gp.log_lines(r"from=<forger@remote\.example>")


def test_smuggling_without_bare_newlines_is_plain_content(gatepost):
    """A dot line that is really a dot line ends the message; a forged
    transaction after it is an ordinary (pipelined) second transaction from
    the same client, not smuggling - and it is answered as such."""
    gp = gatepost()
    c = RawSMTP(gp.port)
    c.reply()
    c.cmd("EHLO client.remote.example")
    c.cmd("MAIL FROM:<sender@remote.example>")
    c.cmd("RCPT TO:<alice@test.example>")
    c.cmd("DATA")
    c.send(b"Subject: honest\r\n\r\nbody\r\n.\r\n" + FORGED + b".\r\n")
    got = c.replies(5)
    assert [code for code, _ in got] == [250, 250, 250, 354, 250]
    assert len(gp.maildir_messages("alice")) == 1
    assert len(gp.maildir_messages("bob")) == 1
