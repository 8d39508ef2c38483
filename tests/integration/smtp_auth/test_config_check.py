"""`gatepost config check` on AUTH safety: plaintext mechanisms without
TLS, AUTH on port 25 open to every network (also when that is said
explicitly), a failure limit out of range or high; the shipped conf/
draws none of these."""

import os
import shutil
import subprocess
import tempfile

import pytest

from lib.gatepost import ROOT, gatepost_binary

PLAINTEXT = "AUTH offers plaintext mechanisms (PLAIN, LOGIN) without TLS"
PORT25 = "AUTH on port 25 is open to every client network"
HIGH = "gives a dictionary attacker"


@pytest.fixture
def confdir():
    d = tempfile.mkdtemp(prefix="gatepost-auth-check-", dir=os.environ.get("GATEPOST_TEST_TMP", "/tmp"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def check(directory, main_extra="", master=None, base="conf"):
    """Writes main.cf (the shipped one plus main_extra) and master.cf
    (the shipped one, or master) and returns (exit code, output)."""
    shutil.copy(os.path.join(ROOT, base, "main.cf"), os.path.join(directory, "main.cf"))
    with open(os.path.join(directory, "main.cf"), "a") as f:
        f.write("\n" + main_extra)
    if master is None:
        shutil.copy(os.path.join(ROOT, base, "master.cf"), os.path.join(directory, "master.cf"))
    else:
        with open(os.path.join(directory, "master.cf"), "w") as f:
            f.write(master)
    r = subprocess.run([gatepost_binary(), "-c", directory, "config", "check"],
                       capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


def test_shipped_configuration_draws_no_auth_warning(confdir):
    rc, out = check(confdir)
    assert rc == 0, out
    for text in (PLAINTEXT, PORT25, HIGH, "warning"):
        assert text not in out, out


SUBMISSION = "submission inet n - n - - smtpd\n  -o smtpd_sasl_auth_enable=yes\n"


@pytest.mark.parametrize("extra,warned", [
    ("smtpd_tls_auth_only = no\n", True),
    ("smtpd_tls_auth_only = no\nsmtpd_sasl_security_options = noanonymous, noplaintext\n", False),
    ("smtpd_tls_auth_only = yes\n", False),
])
def test_plaintext_without_tls(confdir, extra, warned):
    rc, out = check(confdir, extra, SUBMISSION)
    assert rc == 0, out
    assert (PLAINTEXT in out) == warned, out
    if warned:
        assert "service submission" in out


def test_wrapped_service_is_not_plaintext(confdir):
    master = ("submissions inet n - n - - smtpd\n  -o smtpd_sasl_auth_enable=yes\n"
              "  -o smtpd_tls_wrappermode=yes\n")
    rc, out = check(confdir, "smtpd_tls_auth_only = no\n", master)
    assert rc == 0 and PLAINTEXT not in out, out


@pytest.mark.parametrize("opts,warned", [
    ("", True),
    # Saying "everywhere" explicitly is still everywhere.
    ("  -o smtpd_sasl_auth_networks=0.0.0.0/0\n", True),
    ("  -o smtpd_sasl_auth_networks=192.0.2.0/24\n", False),
    ("  -o smtpd_sasl_auth_networks=cidr:/etc/gatepost/auth.cidr\n", False),
    ("  -o smtpd_auth_restrictions=permit_mynetworks,reject\n", False),
])
def test_auth_on_port_25(confdir, opts, warned):
    master = "smtp inet n - n - - smtpd\n  -o smtpd_sasl_auth_enable=yes\n" + opts
    rc, out = check(confdir, "", master)
    assert (PORT25 in out) == warned, out
    if warned:
        assert "service smtp:" in out
    # Submission on its own port is not warned about.
    rc, out = check(confdir, "", SUBMISSION)
    assert PORT25 not in out, out


def test_failure_limit(confdir):
    rc, out = check(confdir, "smtpd_sasl_auth_failure_limit = 0\n")
    assert rc == 1, out
    assert "smtpd_sasl_auth_failure_limit" in out and "must be between 1 and 1000" in out, out
    rc, out = check(confdir, "smtpd_sasl_auth_failure_limit = 100\n")
    assert rc == 0, out
    assert "smtpd_sasl_auth_failure_limit = 100 gives a dictionary attacker 100 guesses" in out
    rc, out = check(confdir, "smtpd_sasl_auth_failure_limit = 5\n")
    assert rc == 0 and HIGH not in out, out
