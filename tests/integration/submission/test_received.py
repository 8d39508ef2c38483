"""What an authenticated message carries: the Received: header says "with
ESMTPSA" over TLS and "with ESMTPA" without (RFC 3848), names the login
("(Authenticated sender: bob)") only with smtpd_sasl_authenticated_header
= yes, and the session logs Postfix's "ID: client=name[addr],
sasl_method=M, sasl_username=U" line. The messages go to alice's Maildir;
bob logs in, so his name in a header can only come from the login."""

import os
import re
import uuid

import pytest

from sublib import connect, queue_id, send_data
from lib.mail import header_values, maildir_files, wait_for

CLIENT = r"localhost\.test\.example\[127\.0\.0\.1\]"


def deliver(d, service, user=None, mech="PLAIN", sender="bob@test.example"):
    """Sends a marked message to alice@test.example; returns (queue id, delivered bytes)."""
    m = uuid.uuid4().hex[:12]
    c = connect(d, service, user=user, mech=mech)
    try:
        assert c.mail(sender)[0] == 250
        assert c.rcpt("alice@test.example")[0] == 250
        code, text = send_data(c, ("Message-ID: <%s@remote.example>\r\nSubject: %s\r\n\r\nhi\r\n"
                                   % (m, m)).encode())
        assert code == 250, text
    finally:
        c.quit()
    root = os.path.join(d.mail_dir, "alice")

    def find():
        return [v for v in maildir_files(root).values() if m.encode() in v]
    found = wait_for(find, what="delivery of %s" % m)
    assert len(found) == 1
    return queue_id(text), found[0]


def received(data):
    values = header_values(data, "Received")
    assert values, data[:500]
    return values[0]


def test_starttls_and_auth_say_esmtpsa_without_naming_the_login(sub):
    qid, data = deliver(sub, "submission", user="bob")
    rcv = received(data)
    assert re.search(r"\bby mx\.test\.example \(gatepost\) with ESMTPSA id %s\b" % qid, rcv), rcv
    assert "Authenticated sender" not in rcv
    assert "bob" not in rcv, rcv
    assert "bob" not in "\n".join(header_values(data, "Received")), data
    sub.wait_log(r" gatepost/submission/smtpd\[\d+\]: %s: client=%s, sasl_method=PLAIN, "
                 r"sasl_username=bob$" % (qid, CLIENT))


def test_implicit_tls_says_esmtpsa(sub):
    qid, data = deliver(sub, "submissions", user="bob", mech="LOGIN")
    assert re.search(r" with ESMTPSA id %s\b" % qid, received(data))
    sub.wait_log(r" gatepost/submissions/smtpd\[\d+\]: %s: client=%s, sasl_method=LOGIN, "
                 r"sasl_username=bob$" % (qid, CLIENT))


def test_plain_auth_says_esmtpa(sub):
    qid, data = deliver(sub, "relay", user="bob", mech="LOGIN")
    rcv = received(data)
    assert re.search(r" with ESMTPA id %s\b" % qid, rcv), rcv
    assert "bob" not in rcv


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_authenticated_header_names_the_login(sub, mech):
    qid, data = deliver(sub, "header", user="bob", mech=mech)
    rcv = received(data)
    # Postfix's layout: the comment comes before "by".
    assert re.search(r"^from client\.remote\.example \(localhost\.test\.example \[127\.0\.0\.1\]\) "
                     r"\(Authenticated sender: bob\) by mx\.test\.example \(gatepost\) "
                     r"with ESMTPA id %s for <alice@test\.example>; " % qid, rcv), rcv
    line = sub.wait_log(r"%s: client=" % qid)[0]
    assert line.endswith("%s: client=localhost.test.example[127.0.0.1], sasl_method=%s, "
                         "sasl_username=bob" % (qid, mech)), line


def test_no_login_no_a_and_no_sasl_fields(sub):
    qid, data = deliver(sub, "header", sender="someone@remote.example")
    rcv = received(data)
    assert re.search(r" with ESMTP id %s\b" % qid, rcv), rcv
    assert "Authenticated sender" not in rcv
    line = sub.wait_log(r"%s: client=" % qid)[0]
    assert line.endswith("%s: client=localhost.test.example[127.0.0.1]" % qid), line
