"""Who may authenticate: smtpd_sasl_auth_networks (a plain list, a list
with a negation, a cidr: table) and smtpd_auth_restrictions set with -o
for one service only. A refused client (here from 127.0.0.9) is not
offered AUTH, and if it sends AUTH anyway it gets exactly what a wrong
password gets: the same prompts, the same 535. Nothing reaches the user
database; a warning says why, and the contrib fail2ban filter matches it."""

import base64
import os
import re
import shutil
import subprocess

import pytest

from authlib import (FAILED, USERS, Raw, ehlo_auth, smtplib_login, swaks,
                     wait_auth_offered)
from lib.gatepost import ROOT

OTHER = "127.0.0.9"         # outside mynetworks (127.0.0.0/30) and the allowed lists

REFUSING = {
    "list": {"smtpd_sasl_auth_networks": "127.0.0.1/32"},
    "negated": {"smtpd_sasl_auth_networks": "!127.0.0.9 127.0.0.0/8"},
    "cidr": {"smtpd_sasl_auth_networks": "cidr:{dir}/auth_networks.cidr"},
    "restrictions": {"smtpd_auth_restrictions": "permit_mynetworks, reject"},
}


@pytest.fixture(scope="module")
def d(daemon_factory):
    services = {"open": {}}
    services.update(REFUSING)
    users = USERS + [(["--allow", "192.0.2.0/24", "erin@test.example"], "erin pw")]
    daemon = daemon_factory({}, services, users=users,
                            files={"auth_networks.cidr": "127.0.0.1/32 OK\n127.0.0.2 OK\n"})
    wait_auth_offered(daemon.ports["open"])
    return daemon


def b64(text):
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("service", sorted(REFUSING))
def test_allowed_client_still_authenticates(d, service):
    port = d.ports[service]
    assert "PLAIN" in ehlo_auth(port)[0]
    assert smtplib_login(port, "PLAIN", "alice", "secret")[0] == 235


@pytest.mark.parametrize("service", sorted(REFUSING))
def test_refused_client_is_not_offered_auth(d, service):
    mechs, text = ehlo_auth(d.ports[service], source=OTHER)
    assert mechs == "" and "AUTH" not in text, text


def test_restrictions_apply_to_their_service_only(d):
    port = d.ports["open"]
    assert "PLAIN" in ehlo_auth(port, source=OTHER)[0]
    assert smtplib_login(port, "PLAIN", "alice", "secret", source=OTHER)[0] == 235


WHY = {
    "list": r"client network not allowed to authenticate \(smtpd_sasl_auth_networks\)",
    "negated": r"client network not allowed to authenticate \(smtpd_sasl_auth_networks\)",
    "cidr": r"client network not allowed to authenticate \(smtpd_sasl_auth_networks\)",
    "restrictions": r"client not allowed to authenticate \(smtpd_auth_restrictions: 5\d\d ",
}


@pytest.mark.parametrize("service", sorted(REFUSING))
@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_right_password_fails_like_a_wrong_one(d, service, mech):
    port = d.ports[service]
    mark = d.log_mark()
    right = smtplib_login(port, mech, "alice", "secret", source=OTHER)
    wrong = smtplib_login(port, mech, "alice", "wrong", source=OTHER)
    erin = smtplib_login(port, mech, "erin", "erin pw", source=OTHER)
    expected = (FAILED[0], FAILED[1][0][4:].encode())
    assert right == wrong == erin == expected
    lines = d.wait_log_since(mark, r"SASL %s authentication failed: " % mech)
    log = d.log_since(mark)
    failures = [l for l in log.splitlines() if "authentication failed" in l]
    assert len(failures) == 3, log
    for line in failures:
        assert re.search(r"warning: [^ ]*\[127\.0\.0\.9\]: SASL %s authentication failed: %s"
                         % (mech, WHY[service]), line), line
        # The backend was never asked: no user name, no password verdict.
        assert "sasl_username" not in line
    assert "wrong password" not in log and "may not authenticate from" not in log
    assert "sasl_method" not in log


def exchange(port, source, mech, first_answer):
    """AUTH mech; answers every 334 (until 535/235) with first_answer, then
    the password; returns the decoded challenges and the final reply."""
    c = Raw(port, source=source)
    c.ehlo()
    challenges = []
    code, lines = c.cmd("AUTH " + mech)
    answers = [first_answer, "pw"]
    while code == 334 and len(challenges) < 4:
        challenges.append(base64.b64decode(lines[0][4:]).decode())
        code, lines = c.cmd(b64(answers[min(len(challenges) - 1, 1)]))
    c.close()
    return challenges, (code, lines)


def shape(text):
    """A challenge with its random parts reduced to their kind."""
    return re.sub(r"\d+", "9", text)


@pytest.mark.parametrize("service", ["list", "restrictions"])
def test_challenges_look_the_same(d, service):
    port = d.ports[service]
    real = exchange(port, None, "LOGIN", "alice")
    decoy = exchange(port, OTHER, "LOGIN", "alice")
    assert real == decoy == (["Username:", "Password:"], FAILED)
    real = exchange(port, None, "CRAM-MD5", "alice 0123456789abcdef0123456789abcdef")
    decoy = exchange(port, OTHER, "CRAM-MD5", "alice 0123456789abcdef0123456789abcdef")
    assert real[1] == decoy[1] == FAILED
    assert len(real[0]) == len(decoy[0]) == 1
    assert re.fullmatch(r"<\d+\.\d+@[^>]+>", decoy[0][0]), decoy
    assert shape(real[0][0]) == shape(decoy[0][0])


@pytest.mark.skipif(shutil.which("fail2ban-regex") is None, reason="needs fail2ban")
def test_fail2ban_filter_matches_the_refusals(d):
    port = d.ports["negated"]
    mark = d.log_mark()
    for _ in range(3):
        smtplib_login(port, "PLAIN", "alice", "secret", source=OTHER)
    d.wait_log_since(mark, r"\[127\.0\.0\.9\]: SASL PLAIN authentication failed")
    logfile = os.path.join(d.inst.dir, "refusals.log")
    with open(logfile, "w") as f:
        f.write(d.log_since(mark))
    # The filter beside the stock common.conf it includes, as when installed.
    filters = os.path.join(d.inst.dir, "f2b", "filter.d")
    os.makedirs(filters)
    shutil.copy("/etc/fail2ban/filter.d/common.conf", filters)
    shutil.copy(os.path.join(ROOT, "contrib", "fail2ban", "filter.d", "gatepost.conf"), filters)
    r = subprocess.run(["fail2ban-regex", "-o", "<ip>", logfile,
                        os.path.join(filters, "gatepost.conf")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.split() == [OTHER] * 3, r.stdout
