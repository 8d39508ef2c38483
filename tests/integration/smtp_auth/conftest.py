"""Fixtures of the SMTP AUTH protocol tests: a test certificate and a
factory of daemons shared by the tests of a module (see authlib)."""

import os
import shutil
import subprocess
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from authlib import USERS, Daemon  # noqa: E402


@pytest.fixture(scope="session")
def cert():
    d = tempfile.mkdtemp(prefix="gatepost-auth-cert-", dir=os.environ.get("GATEPOST_TEST_TMP", "/tmp"))
    os.chmod(d, 0o755)
    key, crt = os.path.join(d, "server.key"), os.path.join(d, "server.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "3", "-subj", "/CN=mx.test.example",
                    "-addext", "subjectAltName=DNS:mx.test.example,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    yield {"key": key, "crt": crt}
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def daemon_factory(dns, cert):
    """daemon_factory(main, services, users, files) -> a started Daemon, checked at module end."""
    made = []

    def make(main, services, users=USERS, files=None):
        d = Daemon(dns, cert, main, services, users, files)
        made.append(d)
        return d.start()

    yield make
    problems = []
    for d in made:
        problems += d.finish()
    assert not problems, "sanitizer or panic output:\n" + "\n".join(problems)
