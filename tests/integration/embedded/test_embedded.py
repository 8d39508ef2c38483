"""The embedded default: `gatepost serve` with no -c, no GATEPOST_CONFIG_DIR
and no /etc/gatepost, started from an empty working directory, listens on
127.0.0.1:2525, accepts mail for user@localhost, and stores it under
./run/mail/USER/new."""

import os
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time

import pytest

from lib.gatepost import gatepost_binary, sanitizer_problems
from lib.mail import message, wait_for

PORT = 2525


def port_busy(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # As a listener binds: connections left in TIME_WAIT do not count.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        return False
    except OSError:
        return True
    finally:
        s.close()


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="gatepost-embedded-", dir=os.environ.get("GATEPOST_TEST_TMP", "/tmp"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_embedded_default_from_empty_directory(workdir):
    if os.path.exists("/etc/gatepost/main.cf"):
        pytest.skip("/etc/gatepost/main.cf exists: the embedded default would not be used")
    deadline = time.time() + 10         # another short-lived user may be finishing
    while port_busy(PORT) and time.time() < deadline:
        time.sleep(0.2)
    if port_busy(PORT):
        pytest.skip("127.0.0.1:%d is busy" % PORT)
    env = {k: v for k, v in os.environ.items() if k != "GATEPOST_CONFIG_DIR"}
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
    stderr_path = os.path.join(workdir, "..", os.path.basename(workdir) + ".stderr")
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen([gatepost_binary(), "serve"], cwd=workdir, env=env,
                                stdin=subprocess.DEVNULL, stdout=err, stderr=err)
    try:
        def greeting():
            if proc.poll() is not None:
                raise AssertionError("gatepost exited: %s" % open(stderr_path).read()[-2000:])
            try:
                with socket.create_connection(("127.0.0.1", PORT), timeout=5) as s:
                    return s.recv(512)
            except OSError:
                return None

        banner = wait_for(greeting, timeout=20, what="the embedded default on port 2525")
        assert banner.startswith(b"220 ")
        with smtplib.SMTP("127.0.0.1", PORT, timeout=20) as c:
            c.ehlo("client.example")
            assert c.sendmail("you@example.com", ["alice@localhost"], message("embedded")) == {}
        new = os.path.join(workdir, "run", "mail", "alice", "new")
        names = wait_for(lambda: os.path.isdir(new) and os.listdir(new), timeout=20,
                         what="a message in ./run/mail/alice/new")
        assert len(names) == 1
        with open(os.path.join(new, names[0]), "rb") as f:
            data = f.read()
        assert b"Delivered-To: alice@localhost\n" in data and b"embedded" in data
        assert os.path.isdir(os.path.join(workdir, "run", "queue"))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        with open(stderr_path, errors="replace") as f:
            output = f.read()
        os.unlink(stderr_path)
    assert proc.returncode == 0, output[-2000:]
    problems = sanitizer_problems(output)
    assert not problems, problems
    assert "daemon started" in output
