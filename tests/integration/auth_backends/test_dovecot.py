"""smtpd_sasl_type = dovecot against a real Dovecot: the auth process of a
real `gatepost serve` relays every mechanism to Dovecot's auth server,
passes the client's address (so allow_nets works and Dovecot logs the real
client), passes TLS state ("secured"), is not held up by Dovecot's failure
delay, and survives Dovecot restarts. Driven through the auth process's
socket exactly as an SMTP worker drives it."""

import time

from authd_proto import MECH_DICTIONARY, MECH_PLAINTEXT, SUCCESS
from lib.ports import free_port
from sasl_clients import Scram, cram_md5_response, plain


def service(gp, port=None):
    return "127.0.0.1:%d" % (port or gp.port)


DOVECOT_MAIN = {"smtpd_sasl_auth_enable": "yes", "smtpd_sasl_type": "dovecot",
                "smtpd_sasl_path": "private/auth"}


def start_pair(gatepost, dovecot_factory, authd, **dovecot_kw):
    gp = gatepost(main=DOVECOT_MAIN)
    dv = dovecot_factory(gp.params["queue_directory"] + "/private/auth", **dovecot_kw).start()
    c = authd(gp)
    c.wait_mechs(service(gp))
    return gp, dv, c


def test_relative_path_mechanisms_arrive_when_dovecot_does(gatepost, dovecot_factory, authd):
    gp = gatepost(main=DOVECOT_MAIN)
    c = authd(gp)
    # Dovecot is not running yet: nothing to offer.
    assert c.wait_mechs(service(gp), want_available=False) is None
    r, _ = c.exchange(service(gp), "PLAIN", [], initial=plain("alice", "secret"))
    assert r.kind == "failure" and r.temporary
    dovecot_factory(gp.params["queue_directory"] + "/private/auth").start()
    mechs = c.wait_mechs(service(gp))
    assert set(mechs) == {"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"}
    assert mechs["PLAIN"] & MECH_PLAINTEXT
    assert mechs["CRAM-MD5"] & MECH_DICTIONARY
    gp.wait_log(r"gatepost/auth\[\d+\]: dovecot auth server .*private/auth: connected")


def test_every_mechanism(gatepost, dovecot_factory, authd):
    gp, dv, c = start_pair(gatepost, dovecot_factory, authd)
    svc = service(gp)
    r, ch = c.exchange(svc, "PLAIN", [], initial=plain("alice", "secret"))
    assert (r.kind, r.user, ch) == ("success", "alice", [])
    r, ch = c.exchange(svc, "PLAIN", [plain("alice", "secret")])
    assert (r.kind, ch) == ("success", [b""])
    r, ch = c.exchange(svc, "LOGIN", [b"alice", b"secret"])
    assert r.kind == "success" and r.user == "alice"
    assert ch == [b"Username:", b"Password:"]
    r, ch = c.exchange(svc, "CRAM-MD5", [cram_md5_response("alice", "secret")])
    assert r.kind == "success", r
    assert ch[0].startswith(b"<") and ch[0].endswith(b">")
    for mech, h in (("SCRAM-SHA-1", "sha1"), ("SCRAM-SHA-256", "sha256")):
        s = Scram(h, "alice", "secret")
        r, ch = c.exchange(svc, mech, [s.final, s.check], initial=s.first())
        assert r.kind == "success", (mech, r)
        assert len(ch) == 2         # server-first, then the server's signature
    # a {SHA256-CRYPT} entry
    r, _ = c.exchange(svc, "PLAIN", [], initial=plain("carol", "carolpass"))
    assert r.kind == "success" and r.user == "carol"


def test_failure_carries_client_address_to_dovecot(gatepost, dovecot_factory, authd):
    gp, dv, c = start_pair(gatepost, dovecot_factory, authd)
    r, _ = c.exchange(service(gp), "PLAIN", [], initial=plain("alice", "wrong"),
                      client_addr="192.0.2.77", client_port=51234)
    assert r.kind == "failure" and not r.temporary
    assert r.reason == "authentication failure"
    deadline = time.time() + 10
    while time.time() < deadline and "192.0.2.77" not in dv.log():
        time.sleep(0.05)
    assert "passwd-file(alice,192.0.2.77" in dv.log()
    assert "Password mismatch" in dv.log()


def test_allow_nets_sees_the_smtp_client(gatepost, dovecot_factory, authd):
    gp, dv, c = start_pair(gatepost, dovecot_factory, authd)
    r, _ = c.exchange(service(gp), "PLAIN", [], initial=plain("bob", "bobpass"),
                      client_addr="192.0.2.10")
    assert r.kind == "failure" and not r.temporary
    assert "allow_nets check failed" in dv.log()
    r, _ = c.exchange(service(gp), "PLAIN", [], initial=plain("bob", "bobpass"),
                      client_addr="10.1.2.3")
    assert r.kind == "success" and r.user == "bob"


def test_seed_000_override_allow_nets(gatepost, dovecot_factory, authd):
    """The setup of seed 000: the passdb's override_fields limit everybody
    to the campus networks, which only works if Dovecot sees the SMTP client."""
    gp, dv, c = start_pair(gatepost, dovecot_factory, authd,
                           allow_nets="127.0.0.0/8,::1/128,fe80::/64,10.20.0.0/16")
    for addr, ok in (("10.20.3.4", True), ("127.0.0.1", True), ("::1", True),
                     ("192.0.2.10", False), ("2001:db8::5", False), ("10.21.0.1", False)):
        r, _ = c.exchange(service(gp), "LOGIN", [b"alice", b"secret"], client_addr=addr)
        assert (r.kind == "success") == ok, (addr, r)
        if not ok:
            assert not r.temporary and r.reason == "authentication failure"


def test_secured_flag_reaches_dovecot(gatepost, dovecot_factory, authd):
    """dave is only in the passdb file Dovecot picks for secured requests."""
    gp, dv, c = start_pair(gatepost, dovecot_factory, authd)
    r, _ = c.exchange(service(gp), "PLAIN", [], initial=plain("dave", "davepw"),
                      client_addr="192.0.2.10", secured=False)
    assert r.kind == "failure"
    r, _ = c.exchange(service(gp), "PLAIN", [], initial=plain("dave", "davepw"),
                      client_addr="192.0.2.10", secured=True, cipher="TLS_AES_256_GCM_SHA384")
    assert r.kind == "success" and r.user == "dave"


def test_failure_delay_does_not_hold_up_others(gatepost, dovecot_factory, authd):
    gp, dv, c = start_pair(gatepost, dovecot_factory, authd)
    t0 = time.time()
    # Another client: Dovecot's auth penalty rightly slows the failing address itself.
    bad = c.start(service(gp), "PLAIN", initial=plain("alice", "wrong"), client_addr="192.0.2.11")
    good = c.start(service(gp), "PLAIN", initial=plain("alice", "secret"))
    r = c.wait_reply(good)
    t_good = time.time() - t0
    assert r.type == SUCCESS
    r = c.wait_reply(bad)
    t_bad = time.time() - t0
    assert r.kind == "failure"
    # Dovecot's auth_failure_delay is 2 s (it waits between half and all of it)
    assert t_good < 0.9 <= t_bad


def test_dovecot_restart(gatepost, dovecot_factory, authd):
    gp, dv, c = start_pair(gatepost, dovecot_factory, authd)
    svc = service(gp)
    rid = c.start(svc, "LOGIN")
    assert c.wait_reply(rid).kind == "challenge"
    dv.stop()
    r = c.wait_reply(rid)               # in flight when Dovecot went away
    assert r.kind == "failure" and r.temporary
    r, _ = c.exchange(svc, "PLAIN", [], initial=plain("alice", "secret"))
    assert r.kind == "failure" and r.temporary
    gp.wait_log(r"warning: dovecot auth server .*\(will retry\)")
    dv.start()
    deadline = time.time() + 20
    while True:
        r, _ = c.exchange(svc, "PLAIN", [], initial=plain("alice", "secret"))
        if r.kind == "success" or time.time() > deadline:
            break
        time.sleep(0.2)
    assert r.kind == "success", r


def test_per_service_backends_and_inet(gatepost, dovecot_factory, authd):
    """-o overrides choose the backend per master.cf service; Dovecot over TCP."""
    p_smtp, p_dove, p_own, inet = free_port(), free_port(), free_port(), free_port()
    master = [
        "127.0.0.1:%d inet n - n - - smtpd" % p_smtp,
        "127.0.0.1:%d inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes "
        "-o smtpd_sasl_type=dovecot -o smtpd_sasl_path=inet:127.0.0.1:%d" % (p_dove, inet),
        "127.0.0.1:%d inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes "
        "-o smtpd_sasl_type=gatepost" % p_own,
    ]
    gp = gatepost(master=master, start=False)
    gp.port = p_smtp
    gp.start()
    dovecot_factory(gp.dir + "/dovecot-auth", inet_port=inet).start()
    c = authd(gp)
    assert "SCRAM-SHA-256" in c.wait_mechs(service(gp, p_dove))
    own = c.wait_mechs(service(gp, p_own))
    assert set(own) == {"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"}
    assert c.mechs[service(gp, p_smtp)] is None         # AUTH is off there
    r, _ = c.exchange(service(gp, p_smtp), "PLAIN", [], initial=plain("alice", "secret"))
    assert r.kind == "failure" and "not enabled" in r.reason
    r, _ = c.exchange(service(gp, p_dove), "PLAIN", [], initial=plain("alice", "secret"))
    assert r.kind == "success"
    # this instance's own user database has no alice
    r, _ = c.exchange(service(gp, p_own), "PLAIN", [], initial=plain("alice", "secret"))
    assert r.kind == "failure" and not r.temporary
