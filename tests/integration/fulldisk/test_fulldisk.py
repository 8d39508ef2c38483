"""A full queue file system against the real daemon: the queue lives on a
small tmpfs mounted for the test. With free space under queue_minfree the
client is refused at MAIL ("452 4.3.1 Insufficient system storage"); when
the space runs out while a message is written, the client gets a 451/452
at the end of DATA and never a 250 for something not stored; no partial
file stays behind; and once space returns the daemon accepts mail again
without a restart."""

import os
import smtplib
import subprocess
import time

import pytest

from lib.mail import message
from lib.smtp_raw import RawSMTP

KB = 1024
MINFREE = 64 * KB
# The writer keeps the statvfs answer for a second.
SPACE_CACHE_WAIT = 1.2


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def fill_to(queue_dir, free_target):
    """Grows a filler file until about free_target bytes remain free."""
    filler = os.path.join(queue_dir, "filler")
    with open(filler, "ab") as f:
        need = free_bytes(queue_dir) - free_target
        while need > 0:
            chunk = min(need, 256 * KB)
            f.write(b"\0" * chunk)
            f.flush()
            os.fsync(f.fileno())
            need = free_bytes(queue_dir) - free_target
    time.sleep(SPACE_CACHE_WAIT)


def clear_filler(queue_dir):
    try:
        os.unlink(os.path.join(queue_dir, "filler"))
    except FileNotFoundError:
        pass
    time.sleep(SPACE_CACHE_WAIT)


def try_send(port, body, size=None):
    """(code, text) of the DATA reply, or of the first refusal."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
        c.ehlo("client.remote.example")
        code, msg = c.mail("sender@remote.example", ["SIZE=%d" % size] if size else [])
        if code != 250:
            return code, msg.decode()
        code, msg = c.rcpt("alice@test.example")
        assert code == 250
        code, msg = c.data(body)
        return code, msg.decode()


@pytest.fixture
def queue_on_tmpfs(gatepost):
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a tmpfs")
    gp = gatepost(start=False, main={"queue_minfree": str(MINFREE)})
    queue_dir = gp.params["queue_directory"]
    os.makedirs(queue_dir)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", queue_dir],
                   check=True, timeout=30)
    try:
        gp.start()
        yield gp, queue_dir
    finally:
        gp.stop()
        subprocess.run(["umount", "-l", queue_dir], timeout=30)


def test_full_queue_file_system(queue_on_tmpfs):
    gp, queue_dir = queue_on_tmpfs
    assert try_send(gp.port, message("before"))[0] == 250

    # Under queue_minfree: refused at MAIL.
    fill_to(queue_dir, MINFREE // 2)
    c = RawSMTP(gp.port)
    c.reply()
    c.cmd("EHLO client.remote.example")
    assert c.cmd("MAIL FROM:<sender@remote.example>") == (
        452, ["452 4.3.1 Insufficient system storage"])
    c.close()
    gp.wait_log(r"warning: not enough free space in queue file system")

    # Enough for the floor, not for the announced size (1.5 x SIZE must fit).
    clear_filler(queue_dir)
    fill_to(queue_dir, 400 * KB)
    assert try_send(gp.port, message("announced"), size=300 * KB) == (
        452, "4.3.1 Insufficient system storage")

    # The floor passes, the message does not fit: kept in memory, it fails
    # at the commit; spilled to disk while it arrives, it fails there.
    for free, size in ((100 * KB, 200 * KB), (300 * KB, 1500 * KB)):
        clear_filler(queue_dir)
        fill_to(queue_dir, free)
        body = message("toobig-%d" % size, body=("x" * 76 + "\r\n") * (size // 78))
        code, text = try_send(gp.port, body)
        assert code in (451, 452), (free, size, code, text)
        assert text in ("4.3.1 Insufficient system storage", "4.3.0 Error: queue file write error")

    # Nothing that was refused is anywhere; no partial file stays behind.
    time.sleep(0.5)
    for sub in ("tmp", "incoming", "active", "deferred"):
        assert os.listdir(os.path.join(queue_dir, sub)) == [], sub

    # Space returns: mail flows again, no restart needed.
    clear_filler(queue_dir)
    assert try_send(gp.port, message("after"))[0] == 250
    msgs = gp.maildir_messages("alice", count=2)
    assert len(msgs) == 2
    assert any(b"before" in m for m in msgs) and any(b"after" in m for m in msgs)
    assert not any(b"toobig" in m or b"announced" in m for m in msgs)
