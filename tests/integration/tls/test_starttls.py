"""STARTTLS and implicit TLS against the real daemon with real clients
(smtplib, swaks, openssl s_client): certificates from smtpd_tls_cert_file /
smtpd_tls_key_file and from smtpd_tls_chain_files (one file, a key and its
certificate in two files, an RSA and an ECDSA pair side by side), Postfix's
"Anonymous TLS connection established" line gated by smtpd_tls_loglevel,
the Received: header with smtpd_tls_received_header and "with ESMTPS",
smtpd_tls_security_level none / may / encrypt, smtpd_tls_auth_only,
smtpd_tls_wrappermode, and the protocol settings (TLS 1.1 and older
refused by default, "!TLSv1.2", ">=TLSv1.3", the mandatory list under
encrypt).

One daemon serves the whole module, one master.cf service per setting."""

import re
import smtplib
import ssl
import subprocess

import pytest

from tlsutil import client_context, fingerprint, tls_connect, wait_delivered, wrapped

USER, PASSWORD = "carol@test.example", "tls only pw"


@pytest.fixture(scope="module")
def d(daemon_factory, certs):
    rsa, rsa2, ec = certs["rsa"], certs["rsa2"], certs["ec"]
    main = {
        "smtpd_tls_security_level": "may",
        "smtpd_tls_cert_file": rsa["crt"],
        "smtpd_tls_key_file": rsa["key"],
        "smtpd_tls_loglevel": "1",
        "smtpd_tls_received_header": "yes",
        "smtpd_workers": "1",
        "smtpd_sasl_failure_delay": "0",
    }
    services = {
        "may": {},
        "quiet": {"smtpd_tls_loglevel": "0"},
        "noheader": {"smtpd_tls_received_header": "no"},
        "chain1": {"smtpd_tls_chain_files": rsa2["pem"]},
        "chain2": {"smtpd_tls_chain_files": "%s,%s" % (ec["key"], ec["crt"])},
        "dual": {"smtpd_tls_chain_files": "%s,%s" % (rsa2["pem"], ec["pem"])},
        "none": {"smtpd_tls_security_level": "none"},
        "encrypt": {"smtpd_tls_security_level": "encrypt"},
        "authonly": {"smtpd_sasl_auth_enable": "yes", "smtpd_tls_auth_only": "yes"},
        "wrapper": {"smtpd_tls_wrappermode": "yes", "smtpd_sasl_auth_enable": "yes"},
        "no12": {"smtpd_tls_protocols": "!TLSv1.2"},
        "ge13": {"smtpd_tls_protocols": ">=TLSv1.3"},
        "mand13": {"smtpd_tls_security_level": "encrypt",
                   "smtpd_tls_mandatory_protocols": ">=TLSv1.3"},
        "mandlist": {"smtpd_tls_security_level": "encrypt", "smtpd_tls_protocols": ">=TLSv1.3"},
    }
    return daemon_factory(main, services, users=[(USER, PASSWORD)])


def starttls_session(port, ctx=None, source=None):
    c = smtplib.SMTP("127.0.0.1", port, timeout=30,
                     source_address=(source, 0) if source else None)
    c.ehlo("client.remote.example")
    code, _ = c.starttls(context=ctx or client_context())
    assert code == 220
    c.ehlo("client.remote.example")
    return c


def peer_fp(c):
    return fingerprint(c.sock.getpeercert(binary_form=True))


def send_marked(c, marker, rcpt="alice@test.example"):
    c.sendmail("sender@remote.example", [rcpt],
               ("Message-ID: <%s@remote.example>\r\nSubject: %s\r\n\r\nbody\r\n"
                % (marker, marker)).encode())


def delivered(d, marker, user="alice"):
    return wait_delivered(d, user, marker)


def headers(msg):
    return msg.split("\n\n", 1)[0]


# ---- certificates ----

def test_cert_and_key_files(d, certs):
    c = starttls_session(d.ports["may"])
    assert peer_fp(c) == certs["rsa"]["fingerprint"]
    assert c.sock.version() == "TLSv1.3"
    c.quit()


def test_chain_file_with_key_and_certificate(d, certs):
    c = starttls_session(d.ports["chain1"])
    assert peer_fp(c) == certs["rsa2"]["fingerprint"]
    c.quit()


def test_chain_files_key_and_certificate_in_two_files(d, certs):
    c = starttls_session(d.ports["chain2"])
    assert peer_fp(c) == certs["ec"]["fingerprint"]
    c.quit()


@pytest.mark.parametrize("suite,which", [("ECDHE-RSA-AES128-GCM-SHA256", "rsa2"),
                                         ("ECDHE-ECDSA-AES128-GCM-SHA256", "ec")])
def test_chain_files_rsa_and_ecdsa_side_by_side(d, certs, suite, which):
    # TLS 1.2 with one cipher suite decides which key type the server must use.
    ctx = client_context(maximum=ssl.TLSVersion.TLSv1_2)
    ctx.set_ciphers(suite)
    c = starttls_session(d.ports["dual"], ctx=ctx)
    assert c.sock.cipher()[0] == suite
    assert peer_fp(c) == certs[which]["fingerprint"]
    c.quit()


# ---- the log line ----

def test_established_line_at_loglevel_1(d):
    c = starttls_session(d.ports["may"], source="127.0.0.5")
    c.quit()
    (line,) = d.inst.wait_log(r"TLS connection established from \S+\[127\.0\.0\.5\]")
    assert re.search(r"gatepost/smtpd\[\d+\]: Anonymous TLS connection established from "
                     r"\S+\[127\.0\.0\.5\]: TLSv1\.3 with cipher TLS_AES_\d+_GCM_SHA\d+ "
                     r"\((\d+)/\1 bits\) key-exchange \S+ server-signature RSA-PSS "
                     r"\(2048 bits\) server-digest SHA256$", line), line
    d.inst.wait_log(r"disconnect from \S+\[127\.0\.0\.5\] ehlo=2 starttls=1 quit=1 commands=4")


def test_no_established_line_at_loglevel_0(d):
    c = starttls_session(d.ports["quiet"], source="127.0.0.6")
    assert c.sock.version() == "TLSv1.3"
    c.quit()
    d.inst.wait_log(r"disconnect from \S+\[127\.0\.0\.6\] ehlo=2 starttls=1 quit=1")
    assert not d.inst.log_lines(r"TLS connection established from \S+\[127\.0\.0\.6\]")


# ---- Received: ----

def test_received_header_records_protocol_and_cipher(d):
    c = starttls_session(d.ports["may"])
    cipher, version, _ = c.sock.cipher()
    send_marked(c, "rcvd-tls")
    c.quit()
    hdr = headers(delivered(d, "rcvd-tls"))
    m = re.search(r"Received: from client\.remote\.example \(\S+ \[127\.0\.0\.1\]\)\n"
                  r"\t\(using (\S+) with cipher (\S+) \((\d+)/(\d+) bits\)\n"
                  r"\t key-exchange \S+ server-signature RSA-PSS \(2048 bits\) "
                  r"server-digest SHA256\)\n"
                  r"\t\(No client certificate requested\)\n"
                  r"\tby mx\.test\.example \(gatepost\) with ESMTPS id \w+\n"
                  r"\tfor <alice@test\.example>; ", hdr)
    assert m, hdr
    assert (m.group(1), m.group(2)) == (version, cipher)
    # Folded as Postfix does, so no line comes near RFC 5322's limits.
    assert max(len(line) for line in hdr.splitlines()) < 90


def test_received_header_without_tls_details(d):
    c = starttls_session(d.ports["noheader"])
    send_marked(c, "rcvd-plain-hdr")
    c.quit()
    hdr = headers(delivered(d, "rcvd-plain-hdr"))
    assert "(using " not in hdr and "No client certificate" not in hdr, hdr
    assert re.search(r"\tby mx\.test\.example \(gatepost\) with ESMTPS id ", hdr), hdr


def test_received_header_plaintext_is_esmtp(d):
    with smtplib.SMTP("127.0.0.1", d.ports["may"], timeout=30) as c:
        c.ehlo("client.remote.example")
        send_marked(c, "rcvd-esmtp-only")
    hdr = headers(delivered(d, "rcvd-esmtp-only"))
    assert re.search(r"\tby mx\.test\.example \(gatepost\) with ESMTP id ", hdr), hdr
    assert "(using " not in hdr


# ---- security levels ----

def test_level_none_offers_and_accepts_no_starttls(d):
    c = tls_connect(d.ports["none"])
    code, lines = c.cmd("EHLO client.remote.example")
    assert code == 250 and "250-STARTTLS" not in lines and "250 STARTTLS" not in lines
    assert c.cmd("STARTTLS") == (502, ["502 5.5.1 Error: command not implemented"])
    # Still a working plaintext session.
    assert c.cmd("MAIL FROM:<a@remote.example>")[0] == 250
    c.close()


def test_level_may_offers_starttls_and_allows_plaintext(d):
    c = tls_connect(d.ports["may"])
    code, lines = c.cmd("EHLO client.remote.example")
    assert "250-STARTTLS" in lines
    assert c.cmd("MAIL FROM:<a@remote.example>")[0] == 250
    assert c.cmd("RCPT TO:<alice@test.example>")[0] == 250
    c.close()


def test_level_encrypt_requires_starttls(d):
    c = tls_connect(d.ports["encrypt"])
    code, lines = c.cmd("EHLO client.remote.example")
    assert "250-STARTTLS" in lines
    need = (530, ["530 5.7.0 Must issue a STARTTLS command first"])
    assert c.cmd("MAIL FROM:<a@remote.example>") == need
    assert c.cmd("RCPT TO:<alice@test.example>") == need
    assert c.cmd("VRFY alice") == need
    # RFC 3207 4: only NOOP, EHLO, STARTTLS and QUIT (and Postfix: HELO) before TLS.
    assert c.cmd("RSET") == need
    assert c.cmd("HELP") == need
    assert c.cmd("NOOP") == (250, ["250 2.0.0 Ok"])
    assert c.cmd("STARTTLS")[0] == 220
    c.starttls()
    assert c.cmd("EHLO client.remote.example")[0] == 250
    assert c.cmd("MAIL FROM:<a@remote.example>")[0] == 250
    assert c.cmd("RCPT TO:<alice@test.example>")[0] == 250
    assert c.cmd("RSET")[0] == 250
    assert c.cmd("QUIT")[0] == 221
    c.close()


def test_level_encrypt_with_swaks(d):
    r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(d.ports["encrypt"]),
                        "--from", "sender@remote.example", "--to", "alice@test.example",
                        "--helo", "client.remote.example", "--tls",
                        "--header", "Message-ID: <swaks-starttls@remote.example>"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"=== TLS started with cipher TLSv1\.3:TLS_AES", r.stdout), r.stdout
    assert "<~  250 2.0.0 Ok: queued as" in r.stdout, r.stdout
    assert "with ESMTPS" in delivered(d, "swaks-starttls")
    # Without --tls swaks gets the 530.
    r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(d.ports["encrypt"]),
                        "--from", "sender@remote.example", "--to", "alice@test.example"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "<** 530 5.7.0 Must issue a STARTTLS command first" in r.stdout, r.stdout


def wait_mechanisms(port, timeout=15):
    """Workers learn the mechanisms from the auth process shortly after start."""
    import time
    deadline = time.time() + timeout
    while time.time() < deadline:
        c = starttls_session(port)
        auth = c.esmtp_features.get("auth", "")
        c.quit()
        if "PLAIN" in auth:
            return
        time.sleep(0.1)
    raise AssertionError("AUTH never offered over TLS")


def test_tls_auth_only(d):
    port = d.ports["authonly"]
    wait_mechanisms(port)
    c = tls_connect(port)
    code, lines = c.cmd("EHLO client.remote.example")
    assert not any(l[4:].startswith("AUTH") for l in lines), lines
    assert c.cmd("AUTH PLAIN AGNhcm9sAHRscyBvbmx5IHB3") == (
        530, ["530 5.7.0 Must issue a STARTTLS command first"])
    c.close()
    s = starttls_session(port)
    assert "PLAIN" in s.esmtp_features.get("auth", "")
    s.login(USER, PASSWORD)
    send_marked(s, "auth-over-tls")
    s.quit()
    assert re.search(r"with ESMTPSA id", headers(delivered(d, "auth-over-tls")))


# ---- implicit TLS ----

def test_wrappermode_smtplib(d, certs):
    wait_mechanisms_wrapper(d.ports["wrapper"])
    with smtplib.SMTP_SSL("127.0.0.1", d.ports["wrapper"], timeout=30,
                          context=client_context()) as c:
        code, _ = c.ehlo("client.remote.example")
        assert code == 250
        assert "starttls" not in c.esmtp_features
        assert fingerprint(c.sock.getpeercert(binary_form=True)) == certs["rsa"]["fingerprint"]
        c.login(USER, PASSWORD)
        send_marked(c, "wrapper-smtplib")
    hdr = headers(delivered(d, "wrapper-smtplib"))
    assert re.search(r"with ESMTPSA id", hdr), hdr
    d.inst.wait_log(r"Anonymous TLS connection established from \S+\[127\.0\.0\.1\]: TLSv1\.3")


def wait_mechanisms_wrapper(port, timeout=15):
    import time
    deadline = time.time() + timeout
    while time.time() < deadline:
        with smtplib.SMTP_SSL("127.0.0.1", port, timeout=30, context=client_context()) as c:
            c.ehlo("client.remote.example")
            if "PLAIN" in c.esmtp_features.get("auth", ""):
                return
        time.sleep(0.1)
    raise AssertionError("AUTH never offered on the wrapper-mode port")


def test_wrappermode_openssl_s_client(d):
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % d.ports["wrapper"],
                        "-crlf", "-quiet", "-verify_quiet"],
                       input="EHLO client.remote.example\nQUIT\n", capture_output=True,
                       text=True, timeout=30)
    assert re.search(r"^220 mx\.test\.example ESMTP", r.stdout, re.M), r.stdout + r.stderr
    assert "250-AUTH" in r.stdout and "STARTTLS" not in r.stdout, r.stdout
    assert re.search(r"^221 2\.0\.0 Bye", r.stdout, re.M), r.stdout


def test_wrappermode_swaks(d):
    r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(d.ports["wrapper"]),
                        "--from", "sender@remote.example", "--to", "bob@test.example",
                        "--helo", "client.remote.example", "--tlsc",
                        "--auth", "PLAIN", "--auth-user", USER, "--auth-password", PASSWORD,
                        "--header", "Message-ID: <swaks-tlsc@remote.example>"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "=== TLS started with cipher TLSv1.3" in r.stdout, r.stdout
    assert "<~  235 2.7.0 Authentication successful" in r.stdout, r.stdout
    assert "with ESMTPSA" in delivered(d, "swaks-tlsc", user="bob")


def test_wrappermode_plaintext_client_gets_nothing(d):
    c = tls_connect(d.ports["wrapper"], greet=False)
    # No plaintext greeting; plaintext is a failed handshake.
    assert c.pending(wait=0.3) == b""
    c.send(b"EHLO client.remote.example\r\n")
    assert c.closed(timeout=10)
    assert b"220" not in c.buf


# ---- protocols ----

def s_client(port, *args, starttls=True):
    cmd = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-brief", "-crlf"]
    if starttls:
        cmd += ["-starttls", "smtp"]
    return subprocess.run(cmd + list(args), input="QUIT\n", capture_output=True, text=True,
                          timeout=30)


def test_default_protocols_refuse_tls_1_1_and_older(d):
    for flag in ("-tls1_1", "-tls1"):
        r = s_client(d.ports["may"], flag, "-cipher", "DEFAULT@SECLEVEL=0")
        assert r.returncode != 0, r.stdout + r.stderr
        assert "CONNECTION ESTABLISHED" not in r.stderr
    d.inst.wait_log(r"SSL_accept error from \S+\[127\.0\.0\.1\]: -1$", count=2)
    d.inst.wait_log(r"warning: TLS library problem: error:[0-9A-F]+:SSL routines::"
                    r"unsupported protocol:\S+:\d+:$", count=2)
    # The same client settings with TLS 1.2 work: it is the server that refused.
    r = s_client(d.ports["may"], "-tls1_2", "-cipher", "DEFAULT@SECLEVEL=0")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Protocol version: TLSv1.2" in r.stderr, r.stderr


@pytest.mark.parametrize("service", ["no12", "ge13", "mand13"])
def test_tls_1_3_only(d, service):
    r = s_client(d.ports[service], "-tls1_2")
    assert r.returncode != 0, r.stdout + r.stderr
    r = s_client(d.ports[service])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Protocol version: TLSv1.3" in r.stderr, r.stderr


def test_mandatory_protocols_only_when_tls_is_required(d):
    # Under encrypt the mandatory list (default >=TLSv1.2) decides, not
    # smtpd_tls_protocols: this service excludes TLS 1.2 from the latter only.
    r = s_client(d.ports["mandlist"], "-tls1_2")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Protocol version: TLSv1.2" in r.stderr
