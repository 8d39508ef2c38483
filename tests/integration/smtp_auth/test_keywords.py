"""What EHLO says about AUTH and what AUTH then does: the exceptions
networks (keyword hidden, AUTH still works, as in Postfix), the discard
maps naming "auth" (hidden and refused), the security options before and
after TLS, broken_sasl_auth_clients and smtpd_tls_auth_only."""

import base64

import pytest

from authlib import Raw, ehlo_auth, smtplib_login, wait_auth_offered

OTHER = "127.0.0.9"
PLAIN_OK = "AUTH PLAIN " + base64.b64encode(b"\0alice\0secret").decode()


@pytest.fixture(scope="module")
def d(daemon_factory):
    daemon = daemon_factory({}, {
        "plain": {},
        "exceptions": {"smtpd_sasl_exceptions_networks": "127.0.0.1/32"},
        "discard": {"smtpd_discard_ehlo_keyword_address_maps": "cidr:{dir}/discard.cidr"},
        "noplaintext": {"smtpd_sasl_security_options": "noanonymous, noplaintext",
                        "smtpd_sasl_tls_security_options": "noanonymous"},
        "broken": {"broken_sasl_auth_clients": "yes"},
        "tlsonly": {"smtpd_tls_auth_only": "yes"},
    }, files={"discard.cidr": "127.0.0.9/32 silent-discard, auth\n"})
    wait_auth_offered(daemon.ports["plain"])
    return daemon


def keywords(port, source=None, tls=False):
    c = Raw(port, source=source)
    c.ehlo()
    if tls:
        c.starttls()
    words = c.ehlo()
    return c, words


def auth_words(words):
    return [w for w in words if w.upper().startswith("AUTH")]


def test_all_mechanisms_offered_by_default(d):
    c, words = keywords(d.ports["plain"])
    assert auth_words(words) == ["AUTH SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 PLAIN LOGIN"]


def test_exceptions_networks_hide_the_keyword_only(d):
    port = d.ports["exceptions"]
    c, words = keywords(port)
    assert auth_words(words) == [] and "PIPELINING" in words
    assert c.cmd(PLAIN_OK) == (235, ["235 2.7.0 Authentication successful"])
    # Clients outside the list see it.
    c, words = keywords(port, source=OTHER)
    assert len(auth_words(words)) == 1
    assert c.cmd(PLAIN_OK)[0] == 235


def test_discard_maps_hide_and_refuse(d):
    port = d.ports["discard"]
    c, words = keywords(port, source=OTHER)
    assert auth_words(words) == [] and "PIPELINING" in words
    assert c.cmd(PLAIN_OK) == (503, ["503 5.5.1 Error: authentication not enabled"])
    assert c.cmd("AUTH LOGIN") == (503, ["503 5.5.1 Error: authentication not enabled"])
    c, words = keywords(port)
    assert len(auth_words(words)) == 1
    assert c.cmd(PLAIN_OK)[0] == 235


def test_noplaintext_before_tls_and_tls_options_after(d):
    port = d.ports["noplaintext"]
    c, words = keywords(port)
    assert auth_words(words) == ["AUTH SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5"]
    assert c.cmd(PLAIN_OK) == (504, ["504 5.5.4 Unrecognized authentication type"])
    assert c.cmd("AUTH LOGIN") == (504, ["504 5.5.4 Unrecognized authentication type"])
    # smtpd_sasl_tls_security_options governs once TLS is on.
    c, words = keywords(port, tls=True)
    assert auth_words(words) == ["AUTH SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 PLAIN LOGIN"]
    assert c.cmd(PLAIN_OK)[0] == 235
    assert smtplib_login(port, "CRAM-MD5", "alice", "secret")[0] == 235


def test_broken_sasl_auth_clients_adds_the_old_line(d):
    c, words = keywords(d.ports["broken"])
    assert auth_words(words) == ["AUTH SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 PLAIN LOGIN",
                                 "AUTH=SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 PLAIN LOGIN"]
    assert c.cmd(PLAIN_OK)[0] == 235
    c, words = keywords(d.ports["plain"])
    assert not any(w.startswith("AUTH=") for w in words)


def test_tls_auth_only(d):
    port = d.ports["tlsonly"]
    c, words = keywords(port)
    assert auth_words(words) == [] and "STARTTLS" in words
    assert c.cmd(PLAIN_OK) == (530, ["530 5.7.0 Must issue a STARTTLS command first"])
    c, words = keywords(port, tls=True)
    assert len(auth_words(words)) == 1
    assert c.cmd(PLAIN_OK)[0] == 235
    assert smtplib_login(port, "LOGIN", "alice", "secret", starttls=True)[0] == 235
