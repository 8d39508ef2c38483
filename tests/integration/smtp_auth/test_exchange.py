"""The AUTH command's framing with a raw client, byte for byte: bad
base64, "=" and "*", AUTH out of place (before EHLO, twice, inside a
mail transaction), unknown mechanisms, over-long responses, and a SCRAM
wrong proof, which must end in 535 without a verdict sent as a 334."""

import base64

import pytest

from authlib import FAILED, Raw, scram_messages, wait_auth_offered


@pytest.fixture(scope="module")
def d(daemon_factory):
    daemon = daemon_factory({}, {"smtp": {}})
    wait_auth_offered(daemon.ports["smtp"])
    return daemon


def b64(data):
    return base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode()


PLAIN_OK = "AUTH PLAIN " + b64("\0alice\0secret")
ABORTED = (501, ["501 5.7.0 Authentication aborted"])     # Postfix's reply


def session(d):
    c = Raw(d.ports["smtp"])
    c.ehlo()
    return c


def test_auth_before_ehlo(d):
    c = Raw(d.ports["smtp"])
    assert c.cmd(PLAIN_OK) == (503, ["503 5.5.1 Error: send HELO/EHLO first"])
    c.ehlo()
    assert c.cmd(PLAIN_OK)[0] == 235


def test_bad_base64(d):
    c = session(d)
    assert c.cmd("AUTH PLAIN !!!!") == (501, ["501 5.5.2 Invalid base64 data in initial response"])
    assert c.cmd("AUTH LOGIN") == (334, ["334 " + b64("Username:")])
    assert c.cmd("@@@") == (501, ["501 5.5.2 Invalid base64 data in continued response"])
    # The exchange is over: the next line is a command again.
    assert c.cmd("NOOP") == (250, ["250 2.0.0 Ok"])
    assert c.cmd(PLAIN_OK)[0] == 235


def test_unknown_and_unoffered_mechanisms(d):
    c = session(d)
    assert c.cmd("AUTH X-UNKNOWN") == (504, ["504 5.5.4 Unrecognized authentication type"])
    # noanonymous is the default: ANONYMOUS is neither offered nor accepted.
    assert c.cmd("AUTH ANONYMOUS") == (504, ["504 5.5.4 Unrecognized authentication type"])
    assert c.cmd("AUTH") == (501, ["501 5.5.4 Syntax: AUTH mechanism"])
    assert c.cmd("AUTH plain " + b64("\0alice\0secret"))[0] == 235   # case-insensitive


def test_twice_after_success_and_inside_a_transaction(d):
    c = session(d)
    assert c.cmd("MAIL FROM:<sender@remote.example>")[0] == 250
    assert c.cmd(PLAIN_OK) == (503, ["503 5.5.1 Error: MAIL transaction in progress"])
    assert c.cmd("RSET")[0] == 250
    assert c.cmd(PLAIN_OK) == (235, ["235 2.7.0 Authentication successful"])
    assert c.cmd(PLAIN_OK) == (503, ["503 5.5.1 Error: already authenticated"])
    assert c.cmd("AUTH LOGIN") == (503, ["503 5.5.1 Error: already authenticated"])
    # Still authenticated as alice: relaying is allowed.
    assert c.cmd("MAIL FROM:<alice@test.example>")[0] == 250
    assert c.cmd("RCPT TO:<someone@elsewhere.example>")[0] == 250


def test_cancel_with_star(d):
    mark = d.log_mark()
    c = session(d)
    assert c.cmd("AUTH LOGIN")[0] == 334
    assert c.cmd("*") == ABORTED
    assert c.cmd("AUTH LOGIN " + b64("alice")) == (334, ["334 " + b64("Password:")])
    assert c.cmd("*") == ABORTED
    assert c.cmd("AUTH CRAM-MD5")[0] == 334
    assert c.cmd("*") == ABORTED
    assert c.cmd("NOOP")[0] == 250
    assert c.cmd(PLAIN_OK)[0] == 235
    c.cmd("QUIT")
    d.wait_log_since(mark, r"disconnect from .* auth=1/4 ")
    # Logged as Postfix does, and not as a failed authentication.
    log = d.log_since(mark)
    assert len([l for l in log.splitlines()
                if "]: SASL LOGIN authentication aborted" in l]) == 2, log
    assert "]: SASL CRAM-MD5 authentication aborted" in log
    assert "authentication failed" not in log


def test_equals_is_an_empty_initial_response(d):
    mark = d.log_mark()
    c = session(d)
    # RFC 4954 4: "=" is an initial response of zero length, not bad base64
    # and not a request for a prompt: PLAIN gets its verdict at once.
    assert c.cmd("AUTH PLAIN =") == FAILED
    d.wait_log_since(mark, r"SASL PLAIN authentication failed: malformed PLAIN message")
    # LOGIN has no user name yet: it prompts for one.
    assert c.cmd("AUTH LOGIN =") == (334, ["334 " + b64("Username:")])
    assert c.cmd("*") == ABORTED
    # Without "=" PLAIN prompts with an empty challenge.
    assert c.cmd("AUTH PLAIN") == (334, ["334 "])
    assert c.cmd(b64("\0alice\0secret"))[0] == 235


def test_overlong_response_line(d):
    """A response line longer than the line limit: 500 5.5.6 (RFC 4954 4),
    the exchange ends, the rest of the line is not a command, the session
    goes on."""
    c = session(d)
    assert c.cmd("AUTH LOGIN")[0] == 334
    c.send("A" * 20000 + "NOOP\r\n")
    assert c.reply() == (500, ["500 5.5.6 Authentication Exchange line is too long"])
    assert c.cmd("RCPT TO:<bob@test.example>") == (503, ["503 5.5.1 Error: need MAIL command"])
    assert c.cmd(PLAIN_OK)[0] == 235


def test_response_longer_than_a_command_line(d):
    """A response may exceed line_length_limit (2048) up to
    smtpd_sasl_response_limit (12288), as in Postfix: it is decoded and
    judged, not refused as too long."""
    c = session(d)
    assert c.cmd("AUTH PLAIN") == (334, ["334 "])
    long_plain = b64("\0alice\0" + "x" * 6000)
    assert 2048 < len(long_plain) < 12288
    assert c.cmd(long_plain) == FAILED
    assert c.cmd("AUTH LOGIN")[0] == 334
    assert c.cmd(b64("alice"))[0] == 334
    assert c.cmd(b64("y" * 9000)) == FAILED
    # Commands keep the shorter limit.
    assert c.cmd("NOOP " + "z" * 3000) == (500, ["500 5.5.2 Error: line too long"])
    assert c.cmd(PLAIN_OK)[0] == 235


def test_overlong_initial_response(d):
    c = session(d)
    c.send("AUTH PLAIN " + "A" * 20000 + "\r\n")
    code, lines = c.reply()
    assert code == 500, lines
    assert c.cmd("NOOP") == (250, ["250 2.0.0 Ok"])
    assert c.cmd(PLAIN_OK)[0] == 235


@pytest.mark.parametrize("mech", ["SCRAM-SHA-1", "SCRAM-SHA-256"])
def test_scram_wrong_proof_gets_535_not_a_verdict(d, mech):
    """The server-final "e=invalid-proof" would tell a client that hangs
    up there that the password was wrong, before the failure is logged,
    delayed or counted: the failure reply comes in its place."""
    mark = d.log_mark()
    c = session(d)
    steps = scram_messages("sha256" if mech.endswith("256") else "sha1", "alice", "wrong")
    code, lines = c.cmd("AUTH %s %s" % (mech, b64(next(steps))))
    assert code == 334, lines
    final = steps.send(base64.b64decode(lines[0][4:]))
    assert c.cmd(b64(final)) == FAILED
    d.wait_log_since(mark, r"SASL %s authentication failed: wrong password, "
                           r"sasl_username=alice@test.example" % mech)
    # The session goes on; the right password works.
    steps = scram_messages("sha256" if mech.endswith("256") else "sha1", "alice", "secret")
    code, lines = c.cmd("AUTH %s %s" % (mech, b64(next(steps))))
    final = steps.send(base64.b64decode(lines[0][4:]))
    code, lines = c.cmd(b64(final))
    assert code == 334, lines       # v=ServerSignature, checked by the client
    steps.send(base64.b64decode(lines[0][4:]))
    assert c.cmd("") == (235, ["235 2.7.0 Authentication successful"])
