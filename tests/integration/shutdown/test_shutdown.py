"""Stopping and reloading the real daemon.

SIGTERM: idle sessions are told "421 4.3.2 <host> Service shutting down"
and closed; a message in the middle of DATA is either finished (250, and
then it is delivered, at the latest after a restart) or refused with a
temporary error (and never delivered) - never acknowledged and lost; the
whole daemon exits. SIGHUP: a changed smtpd_banner is used for new
connections while a session that was open at the time carries on.
"""

import os
import re
import signal
import subprocess
import time

from lib.mail import message, send, wait_for
from lib.smtp_raw import RawSMTP

SHUTDOWN = (421, ["421 4.3.2 mx.test.example Service shutting down"])


def processes(gp):
    out = subprocess.run(["pgrep", "-f", gp.dir], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def open_idle(port, n):
    sessions = []
    for _ in range(n):
        c = RawSMTP(port)
        assert c.reply()[0] == 220
        assert c.cmd("EHLO client.remote.example")[0] == 250
        sessions.append(c)
    return sessions


def test_sigterm_tells_idle_sessions_and_exits(gatepost):
    gp = gatepost()
    idle = open_idle(gp.port, 3)
    gp.proc.send_signal(signal.SIGTERM)
    for c in idle:
        assert c.reply(timeout=10) == SHUTDOWN
        assert c.closed()
    assert gp.proc.wait(20) == 0
    assert wait_for(lambda: not processes(gp), timeout=10, what="every process gone")
    gp.wait_log(r"disconnecting localhost\.test\.example\[127\.0\.0\.1\]: service shutting down",
                count=3)


def test_sigterm_during_data_never_acknowledges_and_loses(gatepost):
    gp = gatepost()
    c = RawSMTP(gp.port)
    c.reply()
    c.cmd("EHLO client.remote.example")
    c.cmd("MAIL FROM:<sender@remote.example>")
    c.cmd("RCPT TO:<alice@test.example>")
    assert c.cmd("DATA")[0] == 354
    c.send(b"Message-ID: <mid-data@remote.example>\r\nSubject: in flight\r\n\r\nfirst half\r\n")
    time.sleep(0.2)
    gp.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    try:
        c.send(b"second half\r\n.\r\n")
        code, lines = c.reply(timeout=20)
    except (ConnectionError, OSError):
        code, lines = None, []
    assert gp.proc.wait(60) == 0
    wait_for(lambda: not processes(gp), timeout=10, what="every process gone")
    if code == 250:
        # Acknowledged: it must be delivered, now or after the restart.
        gp.start()
        (msg,) = gp.maildir_messages("alice")
        assert b"first half\nsecond half\n" in msg
    else:
        assert code is None or 400 <= code < 500, lines
        gp.start()
        time.sleep(1)
        assert gp.maildir_count("alice") == 0


def test_sigterm_does_not_wait_out_the_tarpit(gatepost):
    gp = gatepost(main={"smtpd_error_sleep_time": "600s", "smtpd_soft_error_limit": "1",
                        "smtpd_hard_error_limit": "100"})
    c = RawSMTP(gp.port)
    c.reply()
    assert c.cmd("BOGUS")[0] == 502
    c.send("NOOP\r\n")
    assert c.pending(wait=0.5) == b""          # held for 600 s
    start = time.time()
    gp.proc.send_signal(signal.SIGTERM)
    assert c.reply(timeout=10) == (250, ["250 2.0.0 Ok"])
    assert c.reply(timeout=10) == SHUTDOWN
    assert gp.proc.wait(20) == 0
    assert time.time() - start < 10


def test_sigterm_with_a_client_that_never_reads(gatepost):
    """A stuck client does not keep the daemon from stopping for long."""
    gp = gatepost()
    c = RawSMTP(gp.port)
    c.reply()
    c.sock.setsockopt(__import__("socket").SOL_SOCKET, __import__("socket").SO_RCVBUF, 4096)
    c.send(b"EHLO client.remote.example\r\n" * 20000)
    time.sleep(0.5)
    start = time.time()
    gp.proc.send_signal(signal.SIGTERM)
    assert gp.proc.wait(60) == 0
    assert time.time() - start < 45
    c.close()


def children_by_uid(gp):
    """{uid: [pid, ...]} of the supervisor's children (workers run as the mail owner)."""
    out = {}
    for pid in gp.child_pids():
        try:
            with open("/proc/%d/status" % pid) as f:
                uid = int(next(l for l in f if l.startswith("Uid:")).split()[1])
        except (OSError, StopIteration):
            continue
        out.setdefault(uid, []).append(pid)
    return out


def set_banner(gp, banner):
    gp.params["smtpd_banner"] = banner
    gp.write_config()


def test_sighup_reload_new_banner_existing_session_continues(gatepost):
    gp = gatepost()
    old = RawSMTP(gp.port)
    assert old.reply() == (220, ["220 mx.test.example ESMTP gatepost"])
    assert old.cmd("EHLO client.remote.example")[0] == 250
    before = children_by_uid(gp)
    set_banner(gp, "$myhostname ESMTP reloaded")
    gp.proc.send_signal(signal.SIGHUP)
    gp.wait_log(r"master\[\d+\]: reload -- version")
    # Never two queue managers: the old one is gone before the new one runs.
    if os.geteuid() == 0:
        def new_qmgr():
            now = children_by_uid(gp)       # one snapshot: children come and go
            root = now.get(0, [])
            return len(root) == 1 and root != before[0] and now

        after = wait_for(new_qmgr, timeout=20, what="the new queue manager")
        assert len(after.get(0, [])) == 1

    def new_banner():
        c = RawSMTP(gp.port)
        got = c.reply()
        c.cmd("QUIT")
        c.close()
        return got == (220, ["220 mx.test.example ESMTP reloaded"])

    wait_for(new_banner, timeout=20, interval=0.2, what="the new banner")
    # Every new connection now meets the new generation.
    for _ in range(10):
        assert new_banner()
    # The session opened before the reload goes on and delivers a message.
    assert old.cmd("MAIL FROM:<sender@remote.example>") == (250, ["250 2.1.0 Ok"])
    assert old.cmd("RCPT TO:<alice@test.example>")[0] == 250
    assert old.cmd("DATA")[0] == 354
    code, lines = old.cmd(message("across-reload").rstrip(b"\r\n") + b"\r\n.")
    assert code == 250, lines
    assert old.cmd("QUIT")[0] == 221
    (msg,) = gp.maildir_messages("alice")
    assert b"across-reload" in msg
    # Its worker, idle now, has left; only the new generation remains.
    old_workers = set(before.get(gp.uid, []))
    wait_for(lambda: not old_workers & set(gp.child_pids()), timeout=20,
             what="the old workers to exit")
    # And new sessions deliver too.
    assert send(gp.port, "bob@test.example", message("after-reload")) == {}
    assert len(gp.maildir_messages("bob")) == 1


def test_sighup_with_a_broken_configuration_keeps_running(gatepost):
    gp = gatepost()
    gp.params["smtpd_timeout"] = "banana"
    gp.write_config()
    gp.proc.send_signal(signal.SIGHUP)
    gp.wait_log(r"reload: configuration has errors; still running the old one")
    assert send(gp.port, "alice@test.example", message("still-running")) == {}
    assert len(gp.maildir_messages("alice")) == 1
