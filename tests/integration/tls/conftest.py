"""Fixtures of the TLS tests: the test certificates (made once) and a
daemon shared by the tests of a module, checked for sanitizer reports when
it stops."""

import os
import shutil
import tempfile

import pytest

from tlsutil import Daemon, make_pair


@pytest.fixture(scope="session")
def certs():
    """Two RSA and one ECDSA key/certificate pairs in a directory root can read."""
    d = tempfile.mkdtemp(prefix="gatepost-tls-certs-", dir=os.environ.get("GATEPOST_TEST_TMP", "/tmp"))
    os.chmod(d, 0o755)
    made = {"dir": d,
            "rsa": make_pair(d, "rsa", "rsa"),
            "rsa2": make_pair(d, "rsa2", "rsa"),
            "ec": make_pair(d, "ec", "ec")}
    yield made
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def daemon_factory(dns):
    """daemon_factory(main, services) -> a started Daemon, stopped and checked at module end."""
    made = []

    def make(main, services, users=()):
        d = Daemon(dns, main, services, users)
        made.append(d)
        return d.start()

    yield make
    problems = []
    for d in made:
        problems += d.finish()
    assert not problems, "sanitizer or panic output:\n" + "\n".join(problems)


