"""smtpd_sasl_type = cyrus with a Postfix-style smtpd.conf and a real
saslauthd (Debian's sasl2-bin, -a shadow with a throw-away account):
PLAIN and LOGIN are verified by saslauthd, mech_list is honoured minus
what saslauthd cannot do, the realm follows smtpd_sasl_local_domain,
saslauthd going away is a temporary failure, and an auxprop/sasldb
configuration is refused with a pointer to `gatepost user import-sasldb`."""

import os
import shutil
import tempfile

import pytest

from sasl_clients import plain


def service(gp):
    return "127.0.0.1:%d" % gp.port


@pytest.fixture
def confdir():
    d = tempfile.mkdtemp(prefix="gatepost-sasl-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def write_conf(directory, text, app="smtpd"):
    path = os.path.join(directory, app + ".conf")
    with open(path, "w") as f:
        f.write(text)
    return path


def cyrus_main(confdir, **extra):
    main = {"smtpd_sasl_auth_enable": "yes", "smtpd_sasl_type": "cyrus",
            "cyrus_sasl_config_path": confdir}
    main.update(extra)
    return main


def test_plain_and_login_through_saslauthd(gatepost, saslauthd, authd, confdir):
    write_conf(confdir, "# Postfix-style smtpd.conf\n"
                        "pwcheck_method: saslauthd\n"
                        "saslauthd_path: %s\n"
                        "mech_list: PLAIN LOGIN CRAM-MD5 DIGEST-MD5\n" % saslauthd.mux)
    gp = gatepost(main=cyrus_main(confdir))
    c = authd(gp)
    assert set(c.wait_mechs(service(gp))) == {"PLAIN", "LOGIN"}
    gp.wait_log(r"warning: .*smtpd\.conf: mech_list: CRAM-MD5 cannot work with pwcheck_method "
                r"saslauthd")
    user, pw = saslauthd.user, saslauthd.password
    r, _ = c.exchange(service(gp), "PLAIN", [], initial=plain(user, pw))
    assert (r.kind, r.user) == ("success", user)
    r, ch = c.exchange(service(gp), "LOGIN", [user.encode(), pw.encode()])
    assert (r.kind, r.user) == ("success", user)
    assert ch == [b"Username:", b"Password:"]
    r, _ = c.exchange(service(gp), "PLAIN", [], initial=plain(user, "wrong"))
    assert r.kind == "failure" and not r.temporary
    r, _ = c.exchange(service(gp), "CRAM-MD5", [])     # dropped from mech_list
    assert r.kind == "failure" and not r.temporary
    assert "[user=%s] [service=smtp]" % user in saslauthd.log()
    # saslauthd goes away: a temporary failure, never "wrong password"
    saslauthd.stop()
    r, _ = c.exchange(service(gp), "PLAIN", [], initial=plain(user, pw))
    assert r.kind == "failure" and r.temporary
    gp.wait_log(r"warning: saslauthd .*mux: cannot connect")


def test_realm_from_local_domain(gatepost, saslauthd, authd, confdir):
    write_conf(confdir, "pwcheck_method: saslauthd\nsaslauthd_path: %s\n" % saslauthd.mux)
    gp = gatepost(main=cyrus_main(confdir, smtpd_sasl_local_domain="example.org"))
    c = authd(gp)
    assert set(c.wait_mechs(service(gp))) == {"PLAIN", "LOGIN"}    # no mech_list: both
    r, _ = c.exchange(service(gp), "PLAIN", [], initial=plain(saslauthd.user, saslauthd.password))
    assert (r.kind, r.user) == ("success", saslauthd.user + "@example.org")
    assert "[user=%s] [service=smtp] [realm=example.org]" % saslauthd.user in saslauthd.log()


def test_search_path_and_application_name(gatepost, saslauthd, authd, confdir):
    second = os.path.join(confdir, "second")
    os.mkdir(second)
    write_conf(second, "pwcheck_method: saslauthd\nsaslauthd_path: %s\nmech_list: login\n"
               % saslauthd.mux, app="gp-submission")
    gp = gatepost(main=cyrus_main(confdir + "/none:" + second, smtpd_sasl_path="gp-submission"))
    c = authd(gp)
    assert set(c.wait_mechs(service(gp))) == {"LOGIN"}


def test_auxprop_sasldb_is_refused_with_a_pointer(gatepost, authd, confdir):
    write_conf(confdir, "pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\n")
    gp = gatepost(main=cyrus_main(confdir))
    lines = gp.wait_log(r"error: .*smtpd\.conf: pwcheck_method: auxprop, auxprop_plugin: sasldb: "
                        r"gatepost does not read Cyrus sasldb2")
    assert 'gatepost user import-sasldb' in lines[0]
    assert "smtpd_sasl_type = gatepost" in lines[0]
    c = authd(gp)
    assert c.wait_mechs(service(gp), want_available=False) is None
    r, _ = c.exchange(service(gp), "PLAIN", [], initial=plain("alice", "secret"))
    assert r.kind == "failure" and r.temporary


def test_missing_smtpd_conf(gatepost, authd, confdir):
    gp = gatepost(main=cyrus_main(confdir, smtpd_sasl_path="nosuchapp"))
    gp.wait_log(r"error: .*smtpd_sasl_type = cyrus: no nosuchapp\.conf in ")
    c = authd(gp)
    assert c.wait_mechs(service(gp), want_available=False) is None
