"""smtpd_sasl_type = cyrus end to end over SMTP: a Postfix-style smtpd.conf
(pwcheck_method: saslauthd, mech_list: PLAIN LOGIN) and a real saslauthd
(-a shadow, a throw-away system account). swaks and smtplib say STARTTLS,
then AUTH PLAIN / LOGIN succeed through saslauthd; CRAM-MD5 is neither
advertised nor accepted; a wrong password gets 535 5.7.8 and the warning.
One daemon and one saslauthd serve the whole module."""

import os
import re
import shutil
import smtplib
import ssl
import subprocess
import tempfile
import time

import pytest


@pytest.fixture(scope="module")
def d(module_gatepost, module_saslauthd, tls_cert):
    if shutil.which("swaks") is None:
        pytest.skip("swaks is not installed")
    confdir = tempfile.mkdtemp(prefix="gatepost-sasl-")
    os.chmod(confdir, 0o755)
    with open(os.path.join(confdir, "smtpd.conf"), "w") as f:
        f.write("pwcheck_method: saslauthd\nsaslauthd_path: %s\nmech_list: PLAIN LOGIN\n"
                % module_saslauthd.mux)
    gp = module_gatepost(main={
        "smtpd_sasl_auth_enable": "yes",
        "smtpd_sasl_type": "cyrus",
        "cyrus_sasl_config_path": confdir,
        "smtpd_sasl_failure_delay": "0",
        "smtpd_tls_security_level": "may",
        "smtpd_tls_cert_file": tls_cert["crt"],
        "smtpd_tls_key_file": tls_cert["key"],
        "smtpd_tls_auth_only": "yes",
    }, name="smtpsasl")
    gp.crt = tls_cert["crt"]
    gp.sasl = module_saslauthd
    deadline = time.time() + 15
    while auth_offered(gp) != {"PLAIN", "LOGIN"}:
        assert time.time() < deadline, "AUTH PLAIN LOGIN never offered after STARTTLS"
        time.sleep(0.1)
    yield gp
    shutil.rmtree(confdir, ignore_errors=True)


def tls_client(gp):
    c = smtplib.SMTP("127.0.0.1", gp.port, timeout=30)
    c.ehlo("client.example")
    assert c.starttls(context=ssl.create_default_context(cafile=gp.crt))[0] == 220
    c.ehlo("client.example")
    return c


def auth_offered(gp):
    with tls_client(gp) as c:
        return set(c.esmtp_features.get("auth", "").split())


def swaks(gp, mech, user, password):
    return subprocess.run(["swaks", "--server", "127.0.0.1:%d" % gp.port, "--tls",
                           "--quit-after", "AUTH", "--auth", mech, "--auth-user", user,
                           "--auth-password", password, "--helo", "client.example"],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_swaks_through_saslauthd(d, mech):
    r = swaks(d, mech, d.sasl.user, d.sasl.password)
    assert r.returncode == 0, r.stdout + r.stderr
    assert " -> STARTTLS" in r.stdout, r.stdout
    assert "~> AUTH %s" % mech in r.stdout, r.stdout
    assert "<~  235 2.7.0 Authentication successful" in r.stdout, r.stdout
    assert "[user=%s] [service=smtp]" % d.sasl.user in d.sasl.log()


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_smtplib_through_saslauthd(d, mech):
    with tls_client(d) as c:
        c.user, c.password = d.sasl.user, d.sasl.password
        code, _ = c.auth(mech, getattr(c, "auth_" + mech.lower()))
        assert code == 235


def test_cram_md5_not_offered(d):
    with smtplib.SMTP("127.0.0.1", d.port, timeout=30) as c:
        c.ehlo("client.example")
        assert "auth" not in c.esmtp_features            # smtpd_tls_auth_only
    with tls_client(d) as c:
        assert c.esmtp_features["auth"].split() == ["PLAIN", "LOGIN"]
        assert c.docmd("AUTH", "CRAM-MD5")[0] == 504     # 5.5.4 Unrecognized authentication type
    r = swaks(d, "CRAM-MD5", d.sasl.user, d.sasl.password)
    assert r.returncode != 0
    assert "<~  235" not in r.stdout


def test_wrong_password(d):
    r = swaks(d, "LOGIN", d.sasl.user, "not the password")
    assert r.returncode != 0
    assert "<~* 535 5.7.8 Error: authentication failed: authentication failure" in r.stdout, \
        r.stdout
    with tls_client(d) as c:
        c.user, c.password = d.sasl.user, "not it either"
        with pytest.raises(smtplib.SMTPAuthenticationError) as e:
            c.auth("PLAIN", c.auth_plain)
        assert (e.value.smtp_code, e.value.smtp_error) == \
            (535, b"5.7.8 Error: authentication failed: authentication failure")
    for mech in ("LOGIN", "PLAIN"):
        lines = d.wait_log(r"gatepost/smtpd\[\d+\]: warning: unknown\[127\.0\.0\.1\]: SASL %s "
                           r"authentication failed: " % mech)
        assert re.search(r"authentication failed: \S", lines[-1]), lines
