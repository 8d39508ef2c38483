"""Dictionary-attack defences: smtpd_sasl_auth_failure_limit ends the
session at the N-th failure with 421 4.7.0; smtpd_sasl_failure_delay
holds failure replies back with a timer while other sessions on the same
worker are served; unknown users and wrong passwords get the same reply
in comparable time."""

import base64
import statistics
import threading
import time

import pytest

from authlib import FAILED, Raw, wait_auth_offered

DELAY = 1.0


@pytest.fixture(scope="module")
def d(daemon_factory):
    daemon = daemon_factory({"smtpd_workers": "1"}, {
        "plain": {},
        "limit": {"smtpd_sasl_auth_failure_limit": "3"},
        "delay": {"smtpd_sasl_failure_delay": "%ds" % DELAY},
    })
    wait_auth_offered(daemon.ports["plain"])
    return daemon


def b64(text):
    return base64.b64encode(text.encode()).decode()


def plain(user, password):
    return "AUTH PLAIN " + b64("\0%s\0%s" % (user, password))


CLOSING = (421, ["421 4.7.0 mx.test.example Error: too many failed authentications"])


def test_failure_limit_closes_at_the_nth_failure(d):
    mark = d.log_mark()
    c = Raw(d.ports["limit"])
    c.ehlo()
    assert c.cmd(plain("alice", "wrong 1")) == FAILED
    assert c.cmd(plain("nobody", "wrong 2")) == FAILED
    assert c.cmd(plain("alice", "wrong 3")) == CLOSING
    assert c.closed()
    d.wait_log_since(mark, r"too many failed authentications after AUTH from "
                           r"localhost\.test\.example\[127\.0\.0\.1\]")
    # The count is per session: a new one starts from zero.
    c = Raw(d.ports["limit"])
    c.ehlo()
    assert c.cmd(plain("alice", "wrong")) == FAILED
    assert c.cmd(plain("alice", "secret"))[0] == 235


def test_cancels_count_and_the_last_gets_one_reply(d):
    """A "*" counts toward the limit; the one that reaches it gets the 421
    alone (one reply per line, or a pipelining client loses step)."""
    c = Raw(d.ports["limit"])
    c.ehlo()
    assert c.cmd(plain("alice", "wrong")) == FAILED
    assert c.cmd("AUTH LOGIN")[0] == 334
    assert c.cmd("*") == (501, ["501 5.7.0 Authentication aborted"])
    assert c.cmd("AUTH LOGIN")[0] == 334
    assert c.cmd("*") == CLOSING
    assert c.closed()
    assert c.buf == b""


def test_failure_delay_holds_the_reply_but_not_the_worker(d):
    port = d.ports["delay"]
    slow = Raw(port)
    slow.ehlo()
    result = {}

    def fail_once():
        t0 = time.monotonic()
        result["reply"] = slow.cmd(plain("alice", "wrong"))
        result["took"] = time.monotonic() - t0

    t = threading.Thread(target=fail_once)
    started = time.monotonic()
    t.start()
    # Meanwhile (one worker) another client is served at once.
    other = Raw(port)
    other.ehlo()
    assert other.cmd(plain("alice", "secret"))[0] == 235
    served = time.monotonic() - started
    t.join(10 + DELAY)
    assert result["reply"] == FAILED
    assert result["took"] >= DELAY * 0.95, result
    assert served < result["took"], (served, result)
    # A success is not delayed.
    t0 = time.monotonic()
    c = Raw(port)
    c.ehlo()
    assert c.cmd(plain("bob", "bob's pw"))[0] == 235
    assert time.monotonic() - t0 < DELAY * 0.9


def auth_time(port, user, password):
    c = Raw(port)
    c.ehlo()
    t0 = time.monotonic()
    reply = c.cmd(plain(user, password))
    took = time.monotonic() - t0
    c.close()
    return reply, took


def test_unknown_user_and_wrong_password_alike(d):
    port = d.ports["plain"]
    wrong, unknown = [], []
    for i in range(10):
        r1, t1 = auth_time(port, "alice", "wrong %d" % i)
        r2, t2 = auth_time(port, "nobody%d" % i, "wrong %d" % i)
        assert r1 == r2 == FAILED
        wrong.append(t1)
        unknown.append(t2)
    ratio = statistics.median(unknown) / statistics.median(wrong)
    assert 0.5 <= ratio <= 2.0, (ratio, wrong, unknown)
