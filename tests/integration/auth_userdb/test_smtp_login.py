"""SMTP AUTH end to end against the gatepost user database: users made
with `gatepost user` (or imported from a Cyrus sasldb2) log in with real
clients (smtplib, swaks) through the auth process; wrong passwords and
unknown users get the same reply; per-user networks and disabled accounts
are refused; every failure is logged in Postfix's shape."""

import os
import shutil
import smtplib
import subprocess

import pytest

from lib.smtp_client import wait_auth_offered

AUTH_MAIN = {
    "smtpd_sasl_auth_enable": "yes",
    "smtpd_tls_auth_only": "no",
    "smtpd_sasl_security_options": "noanonymous",
    "smtpd_sasl_failure_delay": "0",
    "smtpd_sasl_auth_failure_limit": "10",
    "smtpd_sasl_local_domain": "test.example",
}


def make(gatepost, users):
    gp = gatepost(main=AUTH_MAIN, start=False)
    for args, password in users:
        gp.command("user", "add", *args, input=password + "\n")
    gp.start()
    wait_auth_offered(gp.port)
    return gp


def login(port, mech, user, password):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
        c.ehlo("client.example")
        c.user, c.password = user, password
        method = getattr(c, "auth_" + mech.lower().replace("-", "_"))
        try:
            return c.auth(mech, method)
        except smtplib.SMTPAuthenticationError as e:
            return e.smtp_code, e.smtp_error


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_login_and_failures_look_alike(gatepost, mech):
    gp = make(gatepost, [(["--cram-md5", "alice@test.example"], "s3cret pw")])
    assert login(gp.port, mech, "alice", "s3cret pw")[0] == 235
    assert login(gp.port, mech, "alice@test.example", "s3cret pw")[0] == 235
    wrong = login(gp.port, mech, "alice", "s3cret")
    unknown = login(gp.port, mech, "mallory", "s3cret")
    assert wrong == unknown == (535, b"5.7.8 Error: authentication failed: authentication failure")
    lines = gp.wait_log(r"SASL %s authentication failed: unknown user" % mech)
    assert "warning: localhost.test.example[127.0.0.1]: SASL %s authentication failed: " % mech in lines[0] \
        or "warning: unknown[127.0.0.1]: SASL %s authentication failed: " % mech in lines[0]
    assert "SASL %s authentication failed: wrong password, sasl_username=alice@test.example" % mech \
        in gp.log()


def test_cram_md5_only_for_users_who_have_it(gatepost):
    gp = make(gatepost, [(["alice@test.example"], "pw one"), (["--cram-md5", "bob@test.example"], "pw two")])
    assert login(gp.port, "CRAM-MD5", "bob", "pw two")[0] == 235
    assert login(gp.port, "CRAM-MD5", "alice", "pw one")[0] == 535
    assert login(gp.port, "PLAIN", "alice", "pw one")[0] == 235


def test_per_user_networks_and_disabled_accounts(gatepost):
    gp = make(gatepost, [(["--allow", "192.0.2.0/24", "erin@test.example"], "pw"),
                         (["frank@test.example"], "pw")])
    assert login(gp.port, "PLAIN", "erin", "pw")[0] == 535
    gp.wait_log(r"SASL PLAIN authentication failed: user may not authenticate from this client")
    gp.command("user", "set", "erin@test.example", "--allow", "127.0.0.0/8")
    assert login(gp.port, "PLAIN", "erin", "pw")[0] == 235
    gp.command("user", "set", "frank@test.example", "--disable")
    assert login(gp.port, "LOGIN", "frank", "pw")[0] == 535
    gp.command("user", "set", "frank@test.example", "--enable")
    assert login(gp.port, "LOGIN", "frank", "pw")[0] == 235


@pytest.mark.skipif(not all(shutil.which(x) for x in ("saslpasswd2", "db_dump", "swaks")),
                    reason="needs sasl2-bin, db-util and swaks")
def test_imported_sasldb_users_log_in_with_swaks(gatepost):
    gp = gatepost(main=AUTH_MAIN, start=False)
    sasldb = os.path.join(gp.dir, "sasldb2")
    subprocess.run(["saslpasswd2", "-f", sasldb, "-p", "-c", "-u", "test.example", "carol"],
                   input="old sasl pw\n", text=True, check=True, timeout=30)
    out = gp.command("user", "import-sasldb", "-f", sasldb).stdout
    assert "1 new" in out
    gp.start()
    wait_auth_offered(gp.port)
    for mech in ("PLAIN", "LOGIN"):
        r = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % gp.port, "--quit-after", "AUTH",
                            "--auth", mech, "--auth-user", "carol@test.example",
                            "--auth-password", "old sasl pw", "--helo", "client.example"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "235 2.7.0 Authentication successful" in r.stdout
