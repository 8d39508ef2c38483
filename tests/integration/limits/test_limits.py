"""Robust input and session limits against the real daemon: over-long
command lines are refused whole (never truncated and executed), NUL bytes,
commands sent before the greeting, smtpd_timeout, the error tarpit
(smtpd_error_sleep_time with the soft and hard error limits, served by a
timer so other clients are not held up), smtpd_junk_command_limit, the
per-client and global connection limits, and the HTTP probe defence."""

import socket
import threading
import time

import pytest

from lib.mail import message, send
from lib.slow_dns import SlowDns
from lib.smtp_raw import RawSMTP


def connect(port, source=None):
    c = RawSMTP(port, source=source)
    assert c.reply()[0] == 220
    return c


# ---- over-long lines, NUL ----

def test_overlong_rcpt_is_refused_not_truncated(gatepost):
    gp = gatepost()
    c = connect(gp.port)
    c.cmd("EHLO client.remote.example")
    assert c.cmd("MAIL FROM:<a@remote.example>")[0] == 250
    # The first 2048 bytes alone would be a valid RCPT for alice.
    line = "RCPT TO:<alice@test.example>" + " " * 2100 + "X" * 500
    assert c.cmd(line) == (500, ["500 5.5.2 Error: line too long"])
    # The tail of an over-long line is not a command of its own either.
    line = "NOOP" + " " * 3000 + "RCPT TO:<bob@test.example>"
    assert c.cmd(line) == (500, ["500 5.5.2 Error: line too long"])
    assert c.cmd("DATA") == (503, ["503 5.5.1 Error: need RCPT command"])
    # The session is back in step.
    assert c.cmd("RCPT TO:<alice@test.example>") == (250, ["250 2.1.5 Ok"])
    assert c.cmd("QUIT")[0] == 221
    gp.wait_log(r"disconnect from .* unknown=0/2")


def test_line_at_the_limit_is_accepted(gatepost):
    gp = gatepost()
    c = connect(gp.port)
    # 2048 bytes before CRLF: the limit counts the line without its end.
    line = "NOOP " + "x" * (2048 - 5)
    assert c.cmd(line) == (250, ["250 2.0.0 Ok"])
    assert c.cmd("NOOP " + "x" * (2049 - 5))[0] == 500


def test_nul_in_command_is_refused(gatepost):
    gp = gatepost()
    c = connect(gp.port)
    assert c.cmd(b"MAIL FROM:<a@remote.example>\0RCPT TO:<alice@test.example>") == (
        500, ["500 5.5.2 Error: NUL character in command"])
    assert c.cmd("RCPT TO:<alice@test.example>") == (503, ["503 5.5.1 Error: need MAIL command"])


def test_nul_in_data_is_kept_as_content(gatepost):
    gp = gatepost()
    c = connect(gp.port)
    c.cmd("EHLO client.remote.example")
    c.cmd("MAIL FROM:<a@remote.example>")
    c.cmd("RCPT TO:<alice@test.example>")
    assert c.cmd("DATA")[0] == 354
    code, lines = c.cmd(b"Subject: nul\r\n\r\nbefore\0after\r\n.")
    assert code == 250, lines
    (msg,) = gp.maildir_messages("alice")
    assert b"before\0after\n" in msg


# ---- before the greeting ----

def test_commands_before_greeting_are_refused(gatepost):
    slow = SlowDns(delay=1.0).start()
    try:
        gp = gatepost(use_dns=False, main={"smtpd_peername_lookup": "yes",
                                           "dns_servers": slow.address})
        s = socket.create_connection(("127.0.0.1", gp.port), timeout=10)
        s.sendall(b"EHLO early.example\r\nMAIL FROM:<a@remote.example>\r\n")
        data = b""
        deadline = time.time() + 10
        while time.time() < deadline:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        assert data == b"554 5.5.0 Error: SMTP protocol synchronization\r\n"
        gp.wait_log(r"improper command pipelining after CONNECT from unknown\[127\.0\.0\.1\]: "
                    r"EHLO early\.example")
        # A patient client is greeted once the lookup is done.
        c = RawSMTP(gp.port)
        assert c.reply(timeout=10)[0] == 220
        c.close()
    finally:
        slow.stop()


# ---- timeouts ----

def test_idle_timeout(gatepost):
    gp = gatepost(main={"smtpd_timeout": "1s"})
    c = connect(gp.port)
    c.cmd("EHLO client.remote.example")
    start = time.time()
    assert c.reply(timeout=10) == (421, ["421 4.4.2 mx.test.example Error: timeout exceeded"])
    assert 0.8 <= time.time() - start < 5
    assert c.closed()
    gp.wait_log(r"timeout after EHLO from localhost\.test\.example\[127\.0\.0\.1\]")


def test_timeout_in_data(gatepost):
    gp = gatepost(main={"smtpd_timeout": "1s"})
    c = connect(gp.port)
    c.cmd("EHLO client.remote.example")
    c.cmd("MAIL FROM:<a@remote.example>")
    c.cmd("RCPT TO:<alice@test.example>")
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: slow\r\n\r\npart of a message\r\n")
    assert c.reply(timeout=10)[0] == 421
    assert c.closed()
    gp.wait_log(r"timeout after DATA \(\d+ bytes\) from localhost")
    assert gp.maildir_count("alice") == 0


# ---- the tarpit and the error limits ----

def timed(c, line):
    start = time.time()
    got = c.cmd(line)
    return got, time.time() - start


def test_tarpit_delays_replies_after_soft_limit(gatepost):
    # Seed 003's scheme (soft 2) with a short sleep; a single worker, so the
    # second client below proves the tarpit does not block the loop.
    gp = gatepost(main={"smtpd_error_sleep_time": "2s", "smtpd_soft_error_limit": "2",
                        "smtpd_hard_error_limit": "5", "smtpd_workers": "1"})
    c = connect(gp.port)
    (code, _), t1 = timed(c, "BOGUS1")
    assert code == 502 and t1 < 0.7
    (code, _), t2 = timed(c, "BOGUS2")
    assert code == 502 and t2 < 0.7
    # Two errors made: every reply from now on is delayed, errors or not.
    results = {}

    def slow():
        results["noop"] = timed(c, "NOOP")

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.2)
    other = connect(gp.port)
    (code, _), quick = timed(other, "NOOP")
    assert code == 250 and quick < 0.7, "another session waited %.2fs" % quick
    other.close()
    t.join(10)
    (code, _), t3 = results["noop"]
    assert code == 250 and t3 >= 1.8
    (code, _), t4 = timed(c, "BOGUS3")
    assert code == 502 and t4 >= 1.8


def test_hard_error_limit_disconnects(gatepost):
    gp = gatepost(main={"smtpd_soft_error_limit": "100", "smtpd_hard_error_limit": "3"})
    c = connect(gp.port)
    for i in range(3):
        assert c.cmd("BOGUS%d" % i)[0] == 502
    assert c.cmd("NOOP") == (421, ["421 4.7.0 mx.test.example Error: too many errors"])
    assert c.closed()
    gp.wait_log(r"too many errors after UNKNOWN from localhost\.test\.example\[127\.0\.0\.1\]")


def test_seed_003_tarpit_values_load(gatepost):
    # The article's values as written (600 s sleep). After the second error
    # the hard limit is reached: as in Postfix, its 421 waits out the sleep,
    # and so does the second error's reply, written just before it.
    gp = gatepost(main={"smtpd_error_sleep_time": "600s", "smtpd_soft_error_limit": "2",
                        "smtpd_hard_error_limit": "2"})
    out = gp.command("config", "smtpd_error_sleep_time", "smtpd_soft_error_limit",
                     "smtpd_hard_error_limit").stdout
    assert out.splitlines() == ["smtpd_error_sleep_time = 600s", "smtpd_soft_error_limit = 2",
                                "smtpd_hard_error_limit = 2"]
    c = connect(gp.port)
    assert c.cmd("BOGUS1")[0] == 502
    c.send("BOGUS2\r\n")
    assert c.pending(wait=1.0) == b""      # held by the tarpit
    c.close()


def test_successful_message_forgives_errors(gatepost):
    gp = gatepost(main={"smtpd_soft_error_limit": "100", "smtpd_hard_error_limit": "3"})
    c = connect(gp.port)
    c.cmd("EHLO client.remote.example")
    assert c.cmd("BOGUS1")[0] == 502
    assert c.cmd("BOGUS2")[0] == 502
    c.cmd("MAIL FROM:<a@remote.example>")
    c.cmd("RCPT TO:<alice@test.example>")
    c.cmd("DATA")
    assert c.cmd("Subject: x\r\n\r\nbody\r\n.")[0] == 250
    # As in Postfix, the client's earlier errors are forgiven once mail is queued.
    assert c.cmd("BOGUS3")[0] == 502
    assert c.cmd("BOGUS4")[0] == 502
    assert c.cmd("NOOP") == (250, ["250 2.0.0 Ok"])
    assert c.cmd("BOGUS5")[0] == 502
    assert c.cmd("NOOP")[0] == 421


def test_junk_command_limit(gatepost):
    gp = gatepost(main={"smtpd_junk_command_limit": "3", "smtpd_soft_error_limit": "100",
                        "smtpd_hard_error_limit": "2"})
    c = connect(gp.port)
    # Postfix counts an error for each junk command after limit + 1 of them.
    for i in range(6):
        assert c.cmd("NOOP") == (250, ["250 2.0.0 Ok"]), i
    assert c.cmd("NOOP") == (421, ["421 4.7.0 mx.test.example Error: too many errors"])
    gp.wait_log(r"too many errors after NOOP from")


def test_junk_commands_are_forgiven_by_a_message(gatepost):
    gp = gatepost(main={"smtpd_junk_command_limit": "2", "smtpd_soft_error_limit": "100",
                        "smtpd_hard_error_limit": "1"})
    c = connect(gp.port)
    for _ in range(3):
        assert c.cmd("RSET")[0] == 250
    c.cmd("MAIL FROM:<a@remote.example>")
    c.cmd("RCPT TO:<alice@test.example>")
    c.cmd("DATA")
    assert c.cmd("Subject: x\r\n\r\nbody\r\n.")[0] == 250
    for _ in range(3):
        assert c.cmd("NOOP")[0] == 250
    assert c.cmd("NOOP")[0] == 250      # the 4th junk command makes the error
    assert c.cmd("NOOP")[0] == 421


# ---- connection limits ----

def test_per_client_connection_limit(gatepost):
    gp = gatepost(main={"smtpd_client_connection_count_limit": "2"})
    held = [connect(gp.port, source="127.0.0.11") for _ in range(2)]
    third = RawSMTP(gp.port, source="127.0.0.11")
    assert third.reply() == (421, ["421 4.7.0 mx.test.example Error: too many connections "
                                   "from 127.0.0.11"])
    assert third.closed()
    # Another client address is not affected, and mynetworks is exempt
    # (smtpd_client_event_limit_exceptions defaults to $mynetworks).
    other = connect(gp.port, source="127.0.0.12")
    local = [connect(gp.port, source="127.0.0.1") for _ in range(3)]
    gp.wait_log(r"warning: Connection concurrency limit exceeded: 3 from "
                r"unknown\[127\.0\.0\.11\] for service 127\.0\.0\.1:\d+")
    for c in held + [other] + local:
        c.close()
    # Once a session ends its slot is free again.
    held[0].close()
    deadline = time.time() + 10
    while True:
        c = RawSMTP(gp.port, source="127.0.0.11")
        code = c.reply()[0]
        c.close()
        if code == 220 or time.time() > deadline:
            break
        time.sleep(0.1)
    assert code == 220


def test_global_connection_limit(gatepost):
    gp = gatepost(main={"smtpd_connection_limit": "3"})
    # The harness probed the port once at start; wait until that one is gone.
    gp.wait_log(r"disconnect from")
    held = [connect(gp.port, source="127.0.0.%d" % (11 + i)) for i in range(3)]
    fourth = RawSMTP(gp.port, source="127.0.0.14")
    code, lines = fourth.reply()
    assert code == 421 and lines[0].startswith("421 4.3.2 mx.test.example Error: too many "
                                               "connections")
    assert fourth.closed()
    gp.wait_log(r"warning: Connection limit exceeded: \d+ sessions \(smtpd_connection_limit\)")
    for c in held:
        c.close()


# ---- non-SMTP clients ----

@pytest.mark.parametrize("probe", ["GET / HTTP/1.1", "POST /index.php HTTP/1.0",
                                   "CONNECT mx.example:25 HTTP/1.0"])
def test_http_probe_is_dropped(gatepost, probe):
    gp = gatepost()
    c = connect(gp.port)
    assert c.cmd(probe) == (221, ["221 2.7.0 Error: I can break rules, too. Goodbye."])
    assert c.closed()
    gp.wait_log(r"warning: non-SMTP command from localhost\.test\.example\[127\.0\.0\.1\]: " +
                probe.split()[0])


def test_client_is_served_after_many_sessions(gatepost):
    """Sessions that end in every way leave the worker healthy."""
    gp = gatepost(main={"smtpd_timeout": "1s"})
    for i in range(5):
        c = connect(gp.port)
        c.send("EHLO x\r\nMAIL FROM:<a@b.example>\r\n")
        c.close()
    c = connect(gp.port)
    c.cmd("GET / HTTP/1.0")
    assert send(gp.port, "alice@test.example", message("after-many")) == {}
    assert len(gp.maildir_messages("alice")) == 1
