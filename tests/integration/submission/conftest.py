"""One daemon per test module for the submission tests, serving:

  submission   the shipped conf/master.cf "submission" service (STARTTLS
               required, SMTP AUTH, permit_sasl_authenticated,reject)
  submissions  the shipped "submissions" service (implicit TLS)
  relay        a plain port: smtpd_relay_restrictions =
               permit_sasl_authenticated, reject_unauth_destination
  rcpt         a plain port: empty smtpd_relay_restrictions and
               smtpd_recipient_restrictions = permit_sasl_authenticated,
               reject_unauth_destination
  login        a plain port: reject_sender_login_mismatch against
               smtpd_sender_login_maps (alice owns alice@ and sales@, bob
               owns bob@ and sales@)
  header       a plain port with smtpd_sasl_authenticated_header = yes

The submission services take their -o options from conf/master.cf itself,
so the tests follow what is shipped. mynetworks holds no loopback address:
only SASL can permit relaying. Users live in the built-in user database;
the certificate is made with openssl for the module."""

import os
import re
import smtplib
import ssl
import subprocess
import time

import pytest

from lib.gatepost import ROOT, Instance
from lib.ports import free_port

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer",
                     "panic:")

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


def wait_auth_offered(port, timeout=15):
    """Workers learn the mechanism list from the auth process shortly after start."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
            c.ehlo("client.remote.example")
            if "PLAIN" in c.esmtp_features.get("auth", ""):
                return
        time.sleep(0.1)
    raise AssertionError("AUTH never offered on port %d" % port)


@pytest.fixture(scope="module")
def sub(dns):
    ports = {name: free_port() for name in
             ("submission", "submissions", "relay", "rcpt", "login", "header")}
    plain_auth = ["-o smtpd_sasl_auth_enable=yes"]
    services = {
        "submission": shipped_options("submission"),
        "submissions": shipped_options("submissions"),
        "relay": plain_auth + ["-o smtpd_relay_restrictions=permit_sasl_authenticated,"
                               "reject_unauth_destination"],
        "rcpt": plain_auth + ["-o smtpd_relay_restrictions=",
                              "-o smtpd_recipient_restrictions=permit_sasl_authenticated,"
                              "reject_unauth_destination"],
        "login": plain_auth + ["-o smtpd_sender_restrictions=reject_sender_login_mismatch"],
        "header": plain_auth + ["-o smtpd_sasl_authenticated_header=yes"],
    }
    master = []
    for name, options in services.items():
        master += service_lines(ports[name], options)
    inst = Instance(master=master, dns=dns, name="submission")
    key, crt = make_cert(inst.dir)
    owners = os.path.join(inst.dir, "sender_owners")
    with open(owners, "w") as f:
        f.write(OWNERS)
    inst.params.update({
        "mynetworks": "192.0.2.0/24",
        "smtpd_tls_cert_file": crt,
        "smtpd_tls_key_file": key,
        "smtpd_sasl_failure_delay": "0",
        "smtpd_sasl_local_domain": "",
        "smtpd_sender_login_maps": "texthash:" + owners,
        "recipient_delimiter": "+",
        "smtpd_workers": "2",
    })
    inst.write_config()
    for user, password in USERS.items():
        inst.command("user", "add", user, input=password + "\n")
    inst.start(wait_port=ports["relay"])
    d = Daemon(inst, ports)
    try:
        wait_auth_offered(ports["relay"])
        yield d
    finally:
        inst.stop()
        text = inst.stderr_text() + inst.log()
        problems = [text[text.index(m):][:2000] for m in SANITIZER_MARKERS if m in text]
        if not problems:
            inst.cleanup()
        assert not problems, "sanitizer or panic output in %s:\n%s" % (inst.dir, problems)


def tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


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
        c = smtplib.SMTP_SSL("127.0.0.1", port, timeout=30, context=tls_context(),
                             source_address=src)
    else:
        c = smtplib.SMTP("127.0.0.1", port, timeout=30, source_address=src)
    c.ehlo(helo)
    if service == "submission":
        code, _ = c.starttls(context=tls_context())
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
