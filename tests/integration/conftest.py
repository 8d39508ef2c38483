"""Fixtures shared by the integration tests."""

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid

import pytest


@pytest.fixture
def local_user():
    """A real passwd user with a home directory, removed afterwards."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create a user")
    name = "gpt%s" % uuid.uuid4().hex[:8]
    base = tempfile.mkdtemp(prefix="gatepost-home-", dir=os.environ.get("GATEPOST_TEST_TMP", "/tmp"))
    os.chmod(base, 0o755)
    home = os.path.join(base, name)
    subprocess.run(["useradd", "--create-home", "--home-dir", home, "--shell", "/usr/sbin/nologin",
                    "--user-group", name], check=True, capture_output=True, timeout=30)
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", "--remove", name], capture_output=True, timeout=30)
        shutil.rmtree(base, ignore_errors=True)
