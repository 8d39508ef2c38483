"""The durable queue against the real daemon.

A 250 for DATA means the message is on disk: when the reply arrives the
queue file is in incoming/ (or already further along, or delivered).

The crash test: several concurrent clients send a few hundred messages,
each with a unique Message-ID; in the middle the whole daemon (supervisor,
workers, queue manager) is killed with SIGKILL. After a restart, every
message that got a 250 is in its recipients' Maildirs exactly once, no
message is delivered twice (acknowledged or not), the queue drains, and
no partial file is left in the queue's tmp/ or a Maildir's tmp/.
"""

import collections
import os
import re
import smtplib
import threading
import time

from lib.mail import maildir_files, message, wait_for

QUEUE_STAGES = ("incoming", "active", "deferred")


def queue_files(gp, sub):
    path = os.path.join(gp.params["queue_directory"], sub)
    try:
        return os.listdir(path)
    except FileNotFoundError:
        return []


def rcpts_for(n):
    if n % 5 == 0:
        return ["bob@test.example"]
    if n % 2:
        return ["alice@test.example", "bob@test.example"]
    return ["alice@test.example"]


def test_250_only_when_the_file_is_stored(gatepost):
    gp = gatepost()
    queued_re = re.compile(rb"queued as (\w+)")
    with smtplib.SMTP("127.0.0.1", gp.port, timeout=20) as c:
        c.ehlo("client.remote.example")
        for i in range(10):
            c.mail("sender@remote.example")
            c.rcpt("alice@test.example")
            code, msg = c.data(message("durable-%d" % i))
            assert code == 250
            qid = queued_re.search(msg).group(1).decode()
            # Look at each later stage in turn: a file only moves forward.
            found = any(qid in queue_files(gp, sub) for sub in QUEUE_STAGES) or \
                any(b"durable-%d@" % i in data for data in maildir_files(gp.mail_dir).values())
            assert found, "message %s acknowledged but neither queued nor delivered" % qid
    gp.maildir_messages("alice", count=10)


class Load:
    """Concurrent clients sending numbered messages until told to stop."""

    def __init__(self, port, clients, total, per_session=5):
        self.port = port
        self.total = total
        self.per_session = per_session
        self.lock = threading.Lock()
        self.next = 0
        self.acked = {}             # n -> queue id
        self.attempted = set()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.client, daemon=True) for _ in range(clients)]

    def take(self):
        with self.lock:
            if self.next >= self.total or self.stop.is_set():
                return None
            n = self.next
            self.next += 1
            self.attempted.add(n)
            return n

    def client(self):
        while not self.stop.is_set():
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as c:
                    c.ehlo("client.remote.example")
                    for _ in range(self.per_session):
                        n = self.take()
                        if n is None:
                            return
                        c.mail("sender@remote.example")
                        for r in rcpts_for(n):
                            c.rcpt(r)
                        code, msg = c.data(message("crash-%d" % n))
                        if code == 250:
                            with self.lock:
                                self.acked[n] = msg.decode()
            except (OSError, smtplib.SMTPException):
                if self.stop.is_set():
                    return
                time.sleep(0.05)

    def start(self):
        for t in self.threads:
            t.start()

    def join(self):
        self.stop.set()
        for t in self.threads:
            t.join(30)


def deliveries(gp):
    """(n, mailbox) -> count over every delivered file."""
    seen = collections.Counter()
    marker = re.compile(rb"Message-ID: <crash-(\d+)@remote\.example>")
    for path, data in maildir_files(gp.mail_dir).items():
        m = marker.search(data)
        if m:
            mailbox = os.path.relpath(path, gp.mail_dir).split(os.sep)[0]
            seen[(int(m.group(1)), mailbox)] += 1
    return seen


def test_kill9_in_the_middle_loses_and_duplicates_nothing(gatepost):
    gp = gatepost(main={"smtpd_workers": "2", "queue_run_delay": "1s",
                        "minimal_backoff_time": "1s", "maximal_backoff_time": "2s"})
    load = Load(gp.port, clients=6, total=300)
    load.start()
    wait_for(lambda: len(load.acked) >= 120, timeout=120, interval=0.01,
             what="120 acknowledged messages")
    gp.kill9()
    load.join()
    acked = dict(load.acked)
    # A write the kill cut short, for certain (the kill may have hit none).
    partial = os.path.join(gp.params["queue_directory"], "tmp", "PARTIALWRITE")
    with open(partial, "wb") as f:
        f.write(b"half a queue file")
    os.chown(partial, gp.uid, gp.gid)
    assert len(acked) < 300, "the kill came too late to test anything"

    gp.start()

    def all_delivered():
        seen = deliveries(gp)
        return all(seen[(n, r.split("@")[0])] >= 1 for n in acked for r in rcpts_for(n))

    wait_for(all_delivered, timeout=120, interval=0.2, what="every acknowledged message delivered")
    wait_for(lambda: not any(queue_files(gp, sub) for sub in QUEUE_STAGES), timeout=60,
             what="the queue to drain")
    seen = deliveries(gp)
    duplicates = {k: v for k, v in seen.items() if v > 1}
    assert not duplicates, "delivered more than once: %r" % duplicates
    for (n, mailbox) in seen:
        assert n in load.attempted
        assert mailbox in [r.split("@")[0] for r in rcpts_for(n)]
    # No partial files: the queue's tmp/ and every Maildir's tmp/.
    assert not os.path.exists(partial)
    gp.wait_log(r"master\[\d+\]: removed \d+ unfinished queue files left by an earlier run")
    wait_for(lambda: not queue_files(gp, "tmp"), timeout=30, what="queue tmp/ to be cleaned")
    for user in ("alice", "bob"):
        tmp = os.path.join(gp.mail_dir, user, "tmp")
        assert not os.path.isdir(tmp) or os.listdir(tmp) == [], os.listdir(tmp)
    assert not queue_files(gp, "corrupt")
