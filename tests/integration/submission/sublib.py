"""Helpers shared by the submission tests: the shipped service options,
a test certificate, users, and a small SMTP client."""

import os
import re
import smtplib
import subprocess

from lib.gatepost import ROOT
from lib.smtp_client import client_context, wait_auth_offered  # noqa: F401 (conftest uses it)


USERS = {"alice": "alice pw 1", "bob": "bob pw 2"}

OWNERS = """\
alice@test.example   alice
sales@test.example   alice, bob
bob@test.example     bob
"""


def shipped_options(service):
    """The -o lines of a service in the shipped conf/master.cf, verbatim."""
    with open(os.path.join(ROOT, "conf", "master.cf")) as f:
        lines = f.read().splitlines()
    out, inside = [], False
    for line in lines:
        if line.startswith("#") or not line.strip():
            continue
        if not line[0].isspace():
            inside = line.split()[0] == service
            continue
        if inside:
            out.append(line.strip())
    assert out, "service %s not found in conf/master.cf" % service
    assert all(o.startswith("-o ") for o in out), out
    return out


def make_cert(directory):
    key = os.path.join(directory, "test.key")
    crt = os.path.join(directory, "test.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "3", "-subj", "/CN=mx.test.example"],
                   check=True, capture_output=True, timeout=60)
    return key, crt


class Daemon:
    """The started instance and the port of each service."""

    def __init__(self, inst, ports):
        self.inst = inst
        self.ports = ports

    def __getattr__(self, name):
        return getattr(self.inst, name)


def service_lines(port, options):
    return ["127.0.0.1:%d inet n - n - - smtpd" % port] + ["  " + o for o in options]


def queue_id(reply_text):
    """The queue id of a "250 2.0.0 Ok: queued as ID" reply."""
    m = re.search(r"queued as ([0-9A-Za-z]+)", reply_text)
    assert m, reply_text
    return m.group(1)


def connect(d, service, user=None, mech="PLAIN", helo="client.remote.example", source=None):
    """An ESMTP session on a service: TLS as the service wants it (STARTTLS
    on "submission", implicit on "submissions", none elsewhere), then AUTH
    with mech when user is given. The caller closes it."""
    port = d.ports[service]
    src = (source, 0) if source else None
    if service == "submissions":
        c = smtplib.SMTP_SSL("127.0.0.1", port, timeout=30, context=client_context(),
                             source_address=src)
    else:
        c = smtplib.SMTP("127.0.0.1", port, timeout=30, source_address=src)
    c.ehlo(helo)
    if service == "submission":
        code, _ = c.starttls(context=client_context())
        assert code == 220
        c.ehlo(helo)
    if user is not None:
        c.user, c.password = user, USERS[user]
        method = getattr(c, "auth_" + mech.lower())
        code, text = c.auth(mech, method)
        assert code == 235, (code, text)
    return c


def send_data(c, body):
    """DATA with body; returns (code, text) of the final reply."""
    code, text = c.data(body)
    return code, text.decode()
