"""Configuration against the real binary: a stock Postfix master.cf loads
(one info line per service gatepost does not run), invalid values stop
the start with "file:line: ...", unknown parameters are warned about, a
Postfix parameter gatepost does not implement yet is reported as such,
`gatepost -c DIR config` answers like postconf (-n, -d, NAME, -M, check),
and the seed configurations the foundation covers load and behave (seed
004's hardening values, seed 002's second listener with -o overrides;
seed 003's tarpit is in limits/)."""

import os
import re
import subprocess

import pytest

from lib.gatepost import ROOT, gatepost_binary
from lib.mail import message, send
from lib.ports import free_port
from lib.smtp_raw import RawSMTP

FIXTURES = os.path.join(ROOT, "tests", "unit", "config", "fixtures")


def line_of(path, prefix):
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if line.startswith(prefix):
                return n
    raise AssertionError("%s not in %s" % (prefix, path))


def failed_start(gp):
    with pytest.raises(RuntimeError):
        gp.start()
    assert gp.proc.wait(30) != 0
    return gp.stderr_text()


# ---- master.cf ----

def stock_master_cf(port):
    """Postfix 3.7's master.cf with the smtp inet service on our port."""
    with open(os.path.join(FIXTURES, "postfix-3.7-master.cf")) as f:
        lines = f.read().splitlines()
    out, services = [], []
    for line in lines:
        if line and not line[0].isspace() and not line.startswith("#"):
            name, kind = line.split()[:2]
            if name == "smtp" and kind == "inet":
                line = "127.0.0.1:%d" % port + line[len("smtp"):]
            else:
                services.append((name, kind))
        out.append(line)
    return out, services


def test_stock_postfix_master_cf(gatepost):
    port = free_port()
    lines, skipped = stock_master_cf(port)
    gp = gatepost(master=lines, start=False)
    gp.port = port
    gp.start()
    info = gp.log_lines(r"master\[\d+\]: .*master\.cf:\d+: service \".*\" \(.*\) is not run by "
                        r"gatepost; skipped")
    assert len(info) == len(skipped), "\n".join(info)
    for name, kind in skipped:
        assert any('service "%s" (%s ' % (name, kind) in l for l in info), name
    assert not gp.log_lines(r"(error|warning):")
    assert send(gp.port, "alice@test.example", message("stock")) == {}
    assert len(gp.maildir_messages("alice")) == 1


def test_config_check_on_stock_master_cf(gatepost):
    lines, skipped = stock_master_cf(free_port())
    gp = gatepost(master=lines, start=False)
    out = gp.command("config", "check")
    assert out.returncode == 0
    assert "error" not in out.stdout + out.stderr
    assert "warning" not in out.stdout + out.stderr


# ---- invalid values ----

def test_invalid_main_cf_value_stops_start(gatepost):
    gp = gatepost(main={"smtpd_timeout": "banana"}, start=False)
    path = os.path.join(gp.dir, "main.cf")
    n = line_of(path, "smtpd_timeout =")
    err = failed_start(gp)
    assert '%s:%d: error: bad time value for parameter smtpd_timeout: "banana"' % (path, n) in err
    check = gp.command("config", "check", check=False)
    assert check.returncode != 0
    assert "%s:%d: error:" % (path, n) in check.stdout + check.stderr


def test_invalid_master_cf_override_stops_start(gatepost):
    gp = gatepost(start=False)
    gp.master_lines = ["127.0.0.1:%d inet n - n - - smtpd" % gp.port,
                       "  -o smtpd_hard_error_limit=many"]
    gp.write_config()
    err = failed_start(gp)
    assert re.search(r"master\.cf:2: error: .*smtpd_hard_error_limit.*\"many\"", err), err


def test_invalid_master_cf_line_stops_start(gatepost):
    gp = gatepost(start=False)
    gp.master_lines = ["127.0.0.1:%d inet n - n - - smtpd" % gp.port,
                       "broken inet n -"]
    gp.write_config()
    err = failed_start(gp)
    assert re.search(r"master\.cf:2: error: ", err), err


def test_unknown_parameter_is_a_warning(gatepost):
    gp = gatepost(main={"smtpd_tiemout": "30s"})
    path = os.path.join(gp.dir, "main.cf")
    n = line_of(path, "smtpd_tiemout =")
    gp.wait_log(r"warning: %s:%d: unknown parameter smtpd_tiemout" % (re.escape(path), n))
    out = gp.command("config", "check")
    assert "%s:%d: warning: unknown parameter smtpd_tiemout" % (path, n) in out.stdout


def test_unsupported_postfix_parameter_is_reported(gatepost):
    gp = gatepost(main={"header_checks": "regexp:/etc/postfix/header_checks"})
    gp.wait_log(r"warning: .*main\.cf:\d+: header_checks: Postfix parameter not supported by "
                r"gatepost yet; ignored")


# ---- gatepost config ----

def test_config_show_non_default(gatepost):
    gp = gatepost(start=False, main={"smtpd_timeout": "45s"})
    out = gp.command("config", "-n").stdout.splitlines()
    assert out == sorted(out)
    # As postconf prints them: "name =" for an empty value.
    expected = {("%s = %s" % (k, v)).rstrip() for k, v in gp.params.items()}
    assert set(out) == expected


def test_config_show_names_and_defaults(gatepost):
    gp = gatepost(start=False, main={"smtpd_timeout": "45s"})
    out = gp.command("config", "smtpd_timeout", "myhostname", "smtpd_banner").stdout
    assert out.splitlines() == ["smtpd_timeout = 45s", "myhostname = mx.test.example",
                                "smtpd_banner = $myhostname ESMTP $mail_name"]
    out = gp.command("config", "-d", "smtpd_timeout", "smtpd_banner", "mail_name").stdout
    assert out.splitlines() == ["smtpd_timeout = 300s",
                                "smtpd_banner = $myhostname ESMTP $mail_name",
                                "mail_name = gatepost"]
    out = gp.command("config", "-x", "smtpd_banner").stdout
    assert out.splitlines() == ["smtpd_banner = mx.test.example ESMTP gatepost"]
    bad = gp.command("config", "no_such_parameter", check=False)
    assert bad.returncode != 0
    assert "no_such_parameter: unknown parameter" in bad.stderr


def test_config_show_services(gatepost):
    gp = gatepost(start=False)
    gp.master_lines = ["127.0.0.1:%d inet n - n - - smtpd" % gp.port,
                       "  -o smtpd_timeout=20s",
                       "  -o strict_rfc821_envelopes=yes",
                       "pickup unix n - y 60 1 pickup"]
    gp.write_config()
    out = gp.command("config", "-M").stdout.splitlines()
    assert out == ["127.0.0.1:%d inet n - n - - smtpd -o smtpd_timeout=20s "
                   "-o strict_rfc821_envelopes=yes" % gp.port,
                   "pickup unix n - y 60 1 pickup"]


def test_config_dir_option_everywhere(gatepost, tmp_path):
    """-c DIR is honoured whatever the working directory (and nothing is read from it)."""
    gp = gatepost(start=False, main={"smtpd_timeout": "47s"})
    (tmp_path / "main.cf").write_text("smtpd_timeout = 99s\n")
    run = lambda *a: subprocess.run([gatepost_binary(), "-c", gp.dir] + list(a), cwd=str(tmp_path),
                                    capture_output=True, text=True, timeout=60)
    assert run("config", "smtpd_timeout").stdout == "smtpd_timeout = 47s\n"
    assert run("config", "check").returncode == 0
    assert run("config", "-M").stdout.startswith("127.0.0.1:%d inet" % gp.port)
    for sub in ("config", "serve"):
        assert run(sub, "--help").returncode == 0


# ---- seed configurations ----

def test_seed_004_hardening_values(gatepost):
    gp = gatepost(main={"disable_vrfy_command": "yes",
                        "smtpd_banner": "$myhostname ESMTP $mail_name",
                        "smtpd_helo_required": "yes",
                        "mailbox_size_limit": "1024000",
                        "message_size_limit": "1024000"})
    c = RawSMTP(gp.port)
    assert c.reply() == (220, ["220 mx.test.example ESMTP gatepost"])
    assert c.cmd("VRFY alice@test.example") == (502, ["502 5.5.1 VRFY command is disabled"])
    assert c.cmd("MAIL FROM:<a@remote.example>") == (503, ["503 5.5.1 Error: send HELO/EHLO first"])
    code, lines = c.cmd("EHLO client.remote.example")
    assert "250-SIZE 1024000" in lines and "250-VRFY" not in lines
    assert c.cmd("MAIL FROM:<a@remote.example> SIZE=1024001")[0] == 552
    c.close()
    out = gp.command("config", "mailbox_size_limit", "message_size_limit").stdout
    assert out.splitlines() == ["mailbox_size_limit = 1024000", "message_size_limit = 1024000"]


SEED_002_OVERRIDES = """\
  -o smtpd_sasl_auth_enable=yes
  -o content_filter=
  -o local_recipient_maps=
  -o relay_recipient_maps=
  -o smtpd_restriction_classes=
  -o smtpd_client_restrictions=
  -o smtpd_helo_restrictions=
  -o smtpd_sender_restrictions=
  -o mynetworks=127.0.0.0/8
  -o strict_rfc821_envelopes=yes
  -o smtp_error_sleep_time=0
  -o smtp_soft_error_limit=1001
  -o smtp_hard_error_limit=1000"""


def test_seed_002_second_listener_with_overrides(gatepost):
    second = free_port()
    gp = gatepost(start=False, main={"mynetworks": "127.0.0.1/32"})
    gp.master_lines = ["127.0.0.1:%d inet n - n - - smtpd" % gp.port,
                       "127.0.0.1:%d inet n - n - - smtpd" % second] + \
        SEED_002_OVERRIDES.splitlines()
    gp.write_config()
    gp.start()
    gp.wait_listening(second)
    # The article's smtp_* typos are unknown parameters: warned about, not fatal.
    gp.wait_log(r"warning: .*master\.cf:\d+: unknown parameter smtp_error_sleep_time")

    # Main listener: main.cf's settings.
    c = RawSMTP(gp.port, source="127.0.0.11")
    c.reply()
    c.cmd("EHLO client1.test.example")
    assert c.cmd("MAIL FROM:a@remote.example")[0] == 250            # lenient envelopes
    assert c.cmd("RCPT TO:<x@elsewhere.example>")[0] == 454         # not in mynetworks
    c.close()

    # Second listener: the -o overrides.
    c = RawSMTP(second, source="127.0.0.11")
    assert c.reply()[0] == 220
    c.cmd("EHLO client1.test.example")
    assert c.cmd("MAIL FROM:a@remote.example") == (501, ["501 5.1.7 Bad sender address syntax"])
    assert c.cmd("MAIL FROM:<a@remote.example>")[0] == 250
    assert c.cmd("RCPT TO:<x@elsewhere.example>")[0] == 250         # mynetworks=127.0.0.0/8
    assert c.cmd("RCPT TO:<alice@test.example>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    assert c.cmd("Subject: via 10025\r\n\r\nfiltered\r\n.")[0] == 250
    assert len(gp.maildir_messages("alice")) == 1
    out = gp.command("config", "-M").stdout
    assert "127.0.0.1:%d inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes" % second in out
