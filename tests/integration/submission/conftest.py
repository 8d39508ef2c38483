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
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib.gatepost import Instance  # noqa: E402
from lib.ports import free_port  # noqa: E402
from sublib import (OWNERS, USERS, Daemon, make_cert, service_lines,  # noqa: E402
                    shipped_options, wait_auth_offered)


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
        problems = inst.sanitizer_problems()
        if not problems:
            inst.cleanup()
        assert not problems, "sanitizer or panic output in %s:\n%s" % (inst.dir, problems)
