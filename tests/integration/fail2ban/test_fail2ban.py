"""fail2ban reads gatepost's maillog_file: a scripted mix of successful and
failed SMTP AUTH (PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-256), wrong passwords
and unknown users, AUTH from a client outside smtpd_sasl_auth_networks,
cancelled AUTH and ordinary mail, then `fail2ban-regex` with

  * Debian's stock postfix filter (mode=auth) against a daemon with
    syslog_name = postfix: it must find exactly the failures we caused, at
    the right addresses, and nothing from successful clients;
  * our contrib/fail2ban filter with the default syslog_name: the same,
    plus the SCRAM failure the stock filter does not know.

The contrib jail must load in a copy of the fail2ban configuration
(`fail2ban-client --test`). Each log is made once per module."""

import base64
import os
import re
import shutil
import smtplib
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "auth_backends"))

from lib.gatepost import ROOT, Instance  # noqa: E402
from lib.smtp_client import wait_auth_offered  # noqa: E402
from sasl_clients import Scram  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("fail2ban-regex") is None,
                                reason="fail2ban is not installed")

CONTRIB = os.path.join(ROOT, "contrib", "fail2ban")

# Client source addresses (all on lo); auth networks are 127.0.0.0/29.
OK_CLIENT = "127.0.0.2"        # logs in with every mechanism, sends mail
WRONG_PW = "127.0.0.5"         # right user, wrong password, each mechanism
UNKNOWN = "127.0.0.6"          # unknown user, each mechanism
SCRAM_BAD = "127.0.0.7"        # SCRAM-SHA-256 with a wrong password
CANCEL = "127.0.0.4"           # starts AUTH and cancels with "*"
OUTSIDE = "127.0.0.9"          # outside smtpd_sasl_auth_networks: refused
MAIL_ONLY = "127.0.0.1"        # ordinary mail, no AUTH

USER, PASSWORD = "alice@test.example", "f2b right pw"
MECHS = ("PLAIN", "LOGIN", "CRAM-MD5")

AUTH_MAIN = {
    "smtpd_sasl_auth_enable": "yes",
    "smtpd_tls_auth_only": "no",
    "smtpd_sasl_security_options": "noanonymous",
    "smtpd_sasl_failure_delay": "0",
    "smtpd_sasl_auth_failure_limit": "10",
    "smtpd_sasl_local_domain": "test.example",
    "smtpd_sasl_auth_networks": "127.0.0.0/29",
    "mynetworks": "127.0.0.0/30",
}


# ---- the SMTP side ----

def client(source):
    c = smtplib.SMTP("127.0.0.1", client.port, timeout=30, source_address=(source, 0))
    c.ehlo("client.example")
    return c


def auth(source, mech, user, password):
    """One session, one AUTH; returns the reply code."""
    with client(source) as c:
        c.user, c.password = user, password
        method = getattr(c, "auth_" + mech.lower().replace("-", "_"))
        try:
            return c.auth(mech, method, initial_response_ok=False)[0]
        except smtplib.SMTPAuthenticationError as e:
            return e.smtp_code


def scram_wrong_password(source):
    """SCRAM-SHA-256 driven by hand (smtplib has no SCRAM); the proof is
    computed from the wrong password, so the server refuses it."""
    s = Scram("sha256", USER, "not the password")
    with client(source) as c:
        code, text = c.docmd("AUTH", "SCRAM-SHA-256 " + base64.b64encode(s.first()).decode())
        assert code == 334, (code, text)
        code, text = c.docmd(base64.b64encode(s.final(base64.b64decode(text))).decode())
        if code == 334:             # server-error "e=invalid-proof" (RFC 5802 7)
            assert base64.b64decode(text) == b"e=invalid-proof", text
            code, text = c.docmd("")
        return code


def cancel(source):
    with client(source) as c:
        code, _ = c.docmd("AUTH", "LOGIN")
        assert code == 334
        return c.docmd("*")[0]


def send_mail(source, login=None):
    with client(source) as c:
        if login:
            c.login(*login)
        refused = c.sendmail("sender@example.org", ["alice@test.example"],
                             b"Subject: fail2ban mix\r\n\r\nordinary mail\r\n")
        assert refused == {}


def run_mix(gp):
    """Drives the mix; returns the failures caused as [(address, mechanism)]."""
    client.port = gp.port
    wait_auth_offered(gp.port, "CRAM-MD5")
    failures = []
    sessions = 1                                 # wait_auth_offered's last one
    for mech in MECHS:
        assert auth(OK_CLIENT, mech, USER, PASSWORD) == 235
        assert auth(OK_CLIENT, mech, "alice", PASSWORD) == 235
        assert auth(WRONG_PW, mech, USER, "wrong " + mech) == 535
        assert auth(UNKNOWN, mech, "mallory@test.example", PASSWORD) == 535
        failures += [(WRONG_PW, mech), (UNKNOWN, mech)]
        sessions += 4
    assert scram_wrong_password(SCRAM_BAD) == 535
    failures.append((SCRAM_BAD, "SCRAM-SHA-256"))
    # Refused by network: the right password, and still a failure.
    with client(OUTSIDE) as c:
        assert "auth" not in c.esmtp_features
    assert auth(OUTSIDE, "PLAIN", USER, PASSWORD) == 535
    assert auth(OUTSIDE, "LOGIN", USER, PASSWORD) == 535
    failures += [(OUTSIDE, "PLAIN"), (OUTSIDE, "LOGIN")]
    assert cancel(CANCEL) == 501
    send_mail(MAIL_ONLY)
    send_mail(OK_CLIENT, login=(USER, PASSWORD))
    sessions += 7
    gp.wait_log(r"smtpd\[\d+\]: disconnect from ", count=sessions)
    gp.maildir_messages("alice", count=2)
    return failures


# ---- daemons and logs, once per module ----

def make_log(syslog_name):
    main = dict(AUTH_MAIN)
    if syslog_name:
        main["syslog_name"] = syslog_name
    gp = Instance(main=main, name="f2b")
    gp.command("user", "add", "--cram-md5", USER, input=PASSWORD + "\n")
    try:
        gp.start()
        failures = run_mix(gp)
    finally:
        gp.stop()
    problems = gp.sanitizer_problems()
    assert not problems, problems
    return gp, failures


@pytest.fixture(scope="module")
def postfix_log():
    gp, failures = make_log("postfix")
    yield gp, failures
    gp.cleanup()


@pytest.fixture(scope="module")
def gatepost_log():
    gp, failures = make_log(None)
    yield gp, failures
    gp.cleanup()


@pytest.fixture(scope="module")
def f2b_conf():
    """A copy of /etc/fail2ban with our filter and jail installed as the
    jail's comment says, pointing at a log that exists; Debian's own sshd
    jail is left out (there is no sshd log to read here)."""
    d = tempfile.mkdtemp(prefix="gatepost-f2b-")
    conf = os.path.join(d, "fail2ban")
    shutil.copytree("/etc/fail2ban", conf)
    for name in os.listdir(os.path.join(conf, "jail.d")):
        os.unlink(os.path.join(conf, "jail.d", name))
    shutil.copy(os.path.join(CONTRIB, "filter.d", "gatepost.conf"), os.path.join(conf, "filter.d"))
    shutil.copy(os.path.join(CONTRIB, "jail.d", "gatepost.conf"), os.path.join(conf, "jail.d"))
    yield conf
    shutil.rmtree(d, ignore_errors=True)


def fail2ban_regex(conf, log_path, filt):
    """-> (matches as [(ip, line)], the summary run's output)."""
    r = subprocess.run(["fail2ban-regex", "-c", conf, "-o", "<ip>|<msg>", log_path, filt],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    matches = [tuple(l.split("|", 1)) for l in r.stdout.splitlines() if l]
    summary = subprocess.run(["fail2ban-regex", "-c", conf, log_path, filt],
                             capture_output=True, text=True, timeout=60)
    assert summary.returncode == 0, summary.stdout + summary.stderr
    return matches, summary.stdout


def mech_of(line):
    return re.search(r": SASL (\S+) authentication", line).group(1)


def check_dates_read(log_path, summary):
    """Every line's syslog-style stamp was understood by the date detector."""
    with open(log_path) as f:
        lines = f.read().splitlines()
    m = re.search(r"\|  \[(\d+)\] \{\^LN-BEG\}(?:\(\?:DAY \)\?)?MON Day", summary)
    assert m, summary
    assert int(m.group(1)) == len(lines), summary
    assert re.search(r"Lines: %d lines, 0 ignored" % len(lines), summary), summary


def check_success_lines_present(gp):
    """The successful logins are in the log (so "no match" means something)."""
    log = gp.log()
    assert re.search(r"client=unknown\[%s\], sasl_method=[A-Z0-9-]+, sasl_username=%s"
                     % (re.escape(OK_CLIENT), re.escape(USER)), log), log[-3000:]
    # Postfix's line for a cancelled AUTH, which no "failed" pattern matches
    assert re.search(r"warning: unknown\[%s\]: SASL LOGIN authentication aborted$"
                     % re.escape(CANCEL), log, re.M), log[-3000:]
    assert "[%s]" % CANCEL in log


def test_maillog_file_has_syslog_timestamps(postfix_log, gatepost_log):
    for gp, name in ((postfix_log[0], "postfix"), (gatepost_log[0], "gatepost")):
        lines = gp.log_lines()
        assert lines
        for line in lines:
            assert re.match(r"^[A-Z][a-z]{2} [ 123]\d \d\d:\d\d:\d\d \S+ %s/\S+\[\d+\]: " % name,
                            line), line


def test_stock_postfix_filter_with_syslog_name_postfix(postfix_log, f2b_conf):
    gp, failures = postfix_log
    matches, summary = fail2ban_regex(f2b_conf, gp.log_path, "postfix[mode=auth]")
    check_dates_read(gp.log_path, summary)
    check_success_lines_present(gp)
    # The stock filter knows LOGIN, PLAIN, CRAM-MD5 and DIGEST-MD5, not SCRAM.
    expected = sorted(f for f in failures if not f[1].startswith("SCRAM"))
    assert sorted((ip, mech_of(line)) for ip, line in matches) == expected, matches
    for ip, line in matches:
        assert "postfix/smtpd[" in line and "[%s]" % ip in line
    ips = {ip for ip, _ in matches}
    assert OK_CLIENT not in ips and MAIL_ONLY not in ips and CANCEL not in ips


def test_stock_postfix_filter_ignores_gatepost_name(gatepost_log, f2b_conf):
    """The stock filter is tied to the postfix name: it is our filter's job
    when syslog_name stays gatepost."""
    gp, _ = gatepost_log
    matches, _ = fail2ban_regex(f2b_conf, gp.log_path, "postfix[mode=auth]")
    assert matches == []


def test_gatepost_filter_default_syslog_name(gatepost_log, f2b_conf):
    gp, failures = gatepost_log
    filt = os.path.join(f2b_conf, "filter.d", "gatepost.conf")
    matches, summary = fail2ban_regex(f2b_conf, gp.log_path, filt)
    check_dates_read(gp.log_path, summary)
    check_success_lines_present(gp)
    assert sorted((ip, mech_of(line)) for ip, line in matches) == sorted(failures), matches
    for ip, line in matches:
        assert "gatepost/smtpd[" in line and "[%s]" % ip in line
    refusals = [line for ip, line in matches if ip == OUTSIDE]
    assert len(refusals) == 2
    assert all("client network not allowed to authenticate (smtpd_sasl_auth_networks)" in l
               for l in refusals)
    ips = {ip for ip, _ in matches}
    assert OK_CLIENT not in ips and MAIL_ONLY not in ips and CANCEL not in ips
    # by name through the configuration directory, as the jail uses it
    by_name, _ = fail2ban_regex(f2b_conf, gp.log_path, "gatepost[mode=auth]")
    assert sorted(by_name) == sorted(matches)


def test_gatepost_filter_other_service_names(f2b_conf, tmp_path):
    """syslog_name per service (gatepost/submission) and multi-instance
    names (gatepost-out) are covered; the daemon name is still checked."""
    stamp = time.strftime("%b %e %H:%M:%S")
    lines = [
        "%s mx gatepost/submission/smtpd[10]: warning: unknown[192.0.2.1]: SASL LOGIN "
        "authentication failed: wrong password, sasl_username=a@b" % stamp,
        "%s mx gatepost-out/smtpd[11]: warning: h.example[192.0.2.2]: SASL PLAIN "
        "authentication failed: unknown user" % stamp,
        "%s mx gatepost/smtpd[12]: warning: h.example[2001:db8::3]:2525: SASL SCRAM-SHA-1 "
        "authentication failed: wrong password" % stamp,
        "%s mx gatepost/smtpd[13]: warning: h.example[192.0.2.4]: SASL PLAIN "
        "authentication temporarily failed: backend unavailable" % stamp,
        "%s mx otherd/smtpd[14]: warning: h.example[192.0.2.5]: SASL PLAIN "
        "authentication failed: wrong password" % stamp,
    ]
    log = tmp_path / "mail.log"
    log.write_text("\n".join(lines) + "\n")
    matches, _ = fail2ban_regex(f2b_conf, str(log), "gatepost[mode=auth]")
    assert [ip for ip, _ in matches] == ["192.0.2.1", "192.0.2.2", "2001:db8::3"]


def test_jail_loads(gatepost_log, f2b_conf):
    """`fail2ban-client --test` accepts the contrib jail with logpath set in
    a .local override, the way an administrator installs it."""
    gp, _ = gatepost_log
    with open(os.path.join(f2b_conf, "jail.d", "gatepost.local"), "w") as f:
        f.write("[gatepost-sasl]\nlogpath = %s\n" % gp.log_path)
    r = subprocess.run(["fail2ban-client", "-c", f2b_conf, "--test"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    dump = subprocess.run(["fail2ban-client", "-c", f2b_conf, "-d"],
                          capture_output=True, text=True, timeout=60)
    assert dump.returncode == 0, dump.stdout + dump.stderr
    out = dump.stdout
    assert "['add', 'gatepost-sasl', " in out
    assert "'logpath', '%s'" % gp.log_path in out or gp.log_path in out
    assert re.search(r"'gatepost-sasl', 'maxretry', 5\]", out), out
    assert re.search(r"'gatepost-sasl', 'addfailregex', .*SCRAM", out), out
    # the jail's own filter finds the same failures as the file did
    matches, _ = fail2ban_regex(f2b_conf, gp.log_path, "gatepost[mode=auth]")
    assert len(matches) == len(gatepost_log[1])
