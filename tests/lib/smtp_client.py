"""Client-side helpers shared by the AUTH and TLS tests."""

import smtplib
import ssl
import time


def client_context(minimum=None, maximum=None):
    """A TLS client context that accepts the tests' self-signed certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if minimum:
        ctx.minimum_version = minimum
    if maximum:
        ctx.maximum_version = maximum
    return ctx


def ehlo_auth_keyword(port, helo="client.example"):
    """The AUTH keyword's mechanisms after a plain EHLO ('' if not offered)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
        c.ehlo(helo)
        return c.esmtp_features.get("auth", "")


def wait_auth_offered(port, mechanism="PLAIN", timeout=15, auth_keyword=ehlo_auth_keyword):
    """Waits until port offers mechanism: SMTP workers learn the mechanism
    list from the auth process shortly after start. auth_keyword(port)
    gives the AUTH keyword's value."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if mechanism in auth_keyword(port).split():
            return
        time.sleep(0.1)
    raise AssertionError("AUTH %s never offered on port %d" % (mechanism, port))
