"""smtpd_sasl_type = dovecot end to end over SMTP: real clients (smtplib,
swaks, gsasl) say STARTTLS and AUTH to a real `gatepost serve` whose auth
process relays to a real Dovecot (passwd-file) on private/auth.

Dovecot runs seed 000's setup: the passdb's override_fields limit every
user to allow_nets=127.0.0.1/32. A client at 127.0.0.9 with the right
password is refused and one at 127.0.0.1 is accepted, which proves the
SMTP client's address reaches Dovecot as rip=. dave exists only in the
passdb Dovecot picks for TLS-secured requests, which proves "secured"
follows the SMTP session's STARTTLS.

One daemon and one Dovecot serve the whole module: a STARTTLS service
with smtpd_tls_auth_only = yes, and a plaintext one for the secured check."""

import re
import smtplib
import ssl
import subprocess
import time

import pytest

from lib.ports import free_port

MECHS = {"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"}
FAILED = (535, b"5.7.8 Error: authentication failed: authentication failure")
OUTSIDE = "127.0.0.9"        # not in Dovecot's allow_nets
# Dovecot delays every lookup from an address with recent failures (its
# auth penalty, 2 s doubling up to 15 s), so failures are spread over client
# addresses, none logs in again after failing, and 127.0.0.1 (the only one
# allowed to log in) fails only in the last test.
OUTSIDE2 = "127.0.0.10"
UNKNOWN_USER_CLIENT = "127.0.0.5"
PLAINTEXT_CLIENT = "127.0.0.3"
SECURED_CLIENT = "127.0.0.4"


@pytest.fixture(scope="module")
def d(module_gatepost, module_dovecot, tls_cert):
    p_tls, p_plain = free_port(), free_port()
    main = {
        "smtpd_sasl_auth_enable": "yes",
        "smtpd_sasl_type": "dovecot",
        "smtpd_sasl_path": "private/auth",
        "smtpd_sasl_failure_delay": "0",
        "smtpd_sasl_auth_failure_limit": "10",
        "smtpd_tls_security_level": "may",
        "smtpd_tls_cert_file": tls_cert["crt"],
        "smtpd_tls_key_file": tls_cert["key"],
        "smtpd_tls_auth_only": "yes",
    }
    master = ["127.0.0.1:%d inet n - n - - smtpd" % p_tls,
              "127.0.0.1:%d inet n - n - - smtpd -o smtpd_tls_security_level=none "
              "-o smtpd_tls_auth_only=no" % p_plain]
    gp = module_gatepost(main=main, master=master, start=False, name="smtpdove")
    gp.port = p_tls
    gp.start()
    gp.plain_port = p_plain
    gp.crt = tls_cert["crt"]
    dv = module_dovecot(gp.params["queue_directory"] + "/private/auth", allow_nets="127.0.0.1/32",
                        failure_delay="0")
    deadline = time.time() + 15
    while auth_offered(gp) != MECHS:
        assert time.time() < deadline, "AUTH never offered after STARTTLS"
        time.sleep(0.1)
    gp.dovecot = dv
    return gp


def tls_client(gp, source=None, port=None):
    c = smtplib.SMTP("127.0.0.1", port or gp.port, timeout=30,
                     source_address=(source, 0) if source else None)
    c.ehlo("client.example")
    ctx = ssl.create_default_context(cafile=gp.crt)
    assert c.starttls(context=ctx)[0] == 220
    c.ehlo("client.example")
    return c


def auth_offered(gp):
    with tls_client(gp) as c:
        return set(c.esmtp_features.get("auth", "").split())


def login(c, mech, user, password):
    c.user, c.password = user, password
    method = getattr(c, "auth_" + mech.lower().replace("-", "_"))
    try:
        return c.auth(mech, method, initial_response_ok=mech != "LOGIN")
    except smtplib.SMTPAuthenticationError as e:
        return e.smtp_code, e.smtp_error


def swaks(gp, mech, user, password, source=None):
    args = ["swaks", "--server", "127.0.0.1:%d" % gp.port, "--tls", "--quit-after", "AUTH",
            "--auth", mech, "--auth-user", user, "--auth-password", password,
            "--helo", "client.example"]
    if source:
        args += ["--local-interface", source]
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def gsasl(gp, mech, user, password):
    """gsasl over STARTTLS. --no-cb: gsasl 2.2 offered TLS channel binding
    fails inside the client (before it sends its first message) for the
    non-PLUS SCRAM gatepost and Dovecot offer."""
    return subprocess.run(["gsasl", "--smtp", "--connect", "127.0.0.1:%d" % gp.port,
                           "--starttls", "--no-cb", "--x509-ca-file", gp.crt, "-m", mech,
                           "-a", user, "-p", password],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def dovecot_log_shows(gp, text, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in gp.dovecot.log():
            return True
        time.sleep(0.05)
    return False


def test_auth_offered_only_after_starttls(d):
    with smtplib.SMTP("127.0.0.1", d.port, timeout=30) as c:
        c.ehlo("client.example")
        assert "starttls" in c.esmtp_features
        assert "auth" not in c.esmtp_features
        assert c.docmd("AUTH", "PLAIN")[0] == 530      # 5.7.0 Must issue a STARTTLS first
    assert auth_offered(d) == MECHS


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_smtplib_every_plain_mechanism(d, mech):
    with tls_client(d) as c:
        assert login(c, mech, "alice", "secret")[0] == 235
    if mech != "CRAM-MD5":          # carol's {SHA256-CRYPT} cannot do CRAM-MD5
        with tls_client(d) as c:
            assert login(c, mech, "carol", "carolpass")[0] == 235


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_swaks(d, mech):
    r = swaks(d, mech, "alice", "secret")
    assert r.returncode == 0, r.stdout + r.stderr
    assert " -> STARTTLS" in r.stdout and "<-  220 2.0.0 Ready to start TLS" in r.stdout, r.stdout
    assert "~> AUTH %s" % mech in r.stdout, r.stdout      # "~>": said inside TLS
    assert "<~  235 2.7.0 Authentication successful" in r.stdout, r.stdout


@pytest.mark.parametrize("mech", ["SCRAM-SHA-256", "SCRAM-SHA-1"])
def test_gsasl_scram(d, mech):
    r = gsasl(d, mech, "alice", "secret")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "235 2.7.0 Authentication successful" in r.stdout + r.stderr


def test_seed_000_allow_nets_sees_the_smtp_client(d):
    """Right password from 127.0.0.9: Dovecot refuses it (allow_nets); the
    same from 127.0.0.1 is accepted. Both smtplib and swaks."""
    with tls_client(d, source=OUTSIDE) as c:
        assert "PLAIN" in c.esmtp_features["auth"]         # gatepost offers AUTH...
        assert login(c, "PLAIN", "alice", "secret") == FAILED   # ...Dovecot refuses
    r = swaks(d, "LOGIN", "alice", "secret", source=OUTSIDE2)
    assert r.returncode != 0
    assert "<~* 535 5.7.8 Error: authentication failed: authentication failure" in r.stdout, \
        r.stdout
    for addr in (OUTSIDE, OUTSIDE2):
        assert dovecot_log_shows(d, "passwd-file(alice,%s" % addr), d.dovecot.log()
        assert "allow_nets check failed: IP %s not in allowed networks" % addr in d.dovecot.log()
    d.wait_log(r"warning: unknown\[%s\]: SASL PLAIN authentication failed: " % re.escape(OUTSIDE))
    d.wait_log(r"warning: unknown\[%s\]: SASL LOGIN authentication failed: " % re.escape(OUTSIDE2))
    with tls_client(d, source="127.0.0.1") as c:
        assert login(c, "PLAIN", "alice", "secret")[0] == 235
    r = swaks(d, "LOGIN", "alice", "secret", source="127.0.0.1")
    assert r.returncode == 0, r.stdout + r.stderr


def test_secured_follows_starttls(d):
    """dave is only in Dovecot's passdb for secured requests."""
    with smtplib.SMTP("127.0.0.1", d.plain_port, timeout=30,
                      source_address=(PLAINTEXT_CLIENT, 0)) as c:
        c.ehlo("client.example")
        assert "starttls" not in c.esmtp_features
        assert "PLAIN" in c.esmtp_features["auth"]
        assert login(c, "PLAIN", "dave", "davepw") == FAILED
    # (the allow_nets override is on the first passdb only, not dave's)
    with tls_client(d, source=SECURED_CLIENT) as c:
        assert login(c, "PLAIN", "dave", "davepw")[0] == 235


def test_authenticated_mail_logs_the_dovecot_user(d):
    with tls_client(d) as c:
        assert login(c, "PLAIN", "alice", "secret")[0] == 235
        assert c.sendmail("alice@test.example", ["bob@test.example"],
                          b"Subject: via dovecot\r\n\r\nhello\r\n") == {}
    d.wait_log(r"client=unknown\[127\.0\.0\.1\], sasl_method=PLAIN, sasl_username=alice$")
    assert b"via dovecot" in d.maildir_messages("bob")[0]


def test_wrong_password_and_unknown_user(d):
    """Last: 127.0.0.1 fails here (see OUTSIDE2)."""
    with tls_client(d) as c:
        assert login(c, "PLAIN", "alice", "wrong") == FAILED
        assert c.noop()[0] == 250          # the session goes on after a failure
    with tls_client(d, source=UNKNOWN_USER_CLIENT) as c:
        assert login(c, "LOGIN", "nobody-here", "secret") == FAILED
    lines = d.wait_log(r"warning: unknown\[127\.0\.0\.1\]: SASL PLAIN authentication failed: ")
    assert re.search(r"gatepost/smtpd\[\d+\]: warning: unknown\[127\.0\.0\.1\]: SASL PLAIN "
                     r"authentication failed: \S", lines[-1]), lines
    d.wait_log(r"warning: unknown\[%s\]: SASL LOGIN authentication failed: "
               % re.escape(UNKNOWN_USER_CLIENT))
    assert dovecot_log_shows(d, "passwd-file(alice,127.0.0.1")
    assert "Password mismatch" in d.dovecot.log()



def test_gsasl_scram_wrong_password(d):
    bad = gsasl(d, "SCRAM-SHA-256", "alice", "not secret")
    assert bad.returncode != 0, bad.stdout + bad.stderr
    assert "535 5.7.8 Error: authentication failed: authentication failure" in bad.stdout
    d.wait_log(r"warning: unknown\[127\.0\.0\.1\]: SASL SCRAM-SHA-256 authentication failed: ")
