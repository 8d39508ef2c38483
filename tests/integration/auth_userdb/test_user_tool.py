"""`gatepost user`: the user database managed from the command line, and
the migration of a real Cyrus sasldb2 made by Debian's saslpasswd2.

Each test gets its own configuration directory whose main.cf points
sasl_user_database into it; passwords are fed on standard input (not a
terminal), as scripts do. `gatepost user test` checks a password the way
the auth process does (same credential store)."""

import os
import shutil
import stat
import subprocess
import tempfile

import pytest

from lib.gatepost import gatepost_binary


class Tool:
    def __init__(self, main_extra=""):
        self.dir = tempfile.mkdtemp(prefix="gatepost-userdb-")
        self.db = os.path.join(self.dir, "data", "users.lmdb")
        with open(os.path.join(self.dir, "main.cf"), "w") as f:
            f.write("sasl_user_database = %s\n%s" % (self.db, main_extra))

    def run(self, *args, stdin=""):
        return subprocess.run([gatepost_binary(), "-c", self.dir, "user"] + list(args),
                              input=stdin, capture_output=True, text=True, timeout=60)

    def ok(self, *args, stdin=""):
        r = self.run(*args, stdin=stdin)
        assert r.returncode == 0, r.stdout + r.stderr
        return r.stdout

    def check(self, user, password, *extra):
        return self.run("test", *extra, user, stdin=password + "\n")


@pytest.fixture
def tool():
    t = Tool()
    yield t
    shutil.rmtree(t.dir, ignore_errors=True)


def test_add_list_show_and_login(tool):
    out = tool.ok("add", "-u", "example.org", "alice", stdin="correct horse\n")
    assert "added alice@example.org (PLAIN LOGIN SCRAM-SHA-1 SCRAM-SHA-256)" in out
    tool.ok("add", "--cram-md5", "bob@example.org", stdin="battery staple\n")
    assert tool.ok("list").splitlines() == [
        "alice@example.org: userPassword (PLAIN LOGIN SCRAM-SHA-1 SCRAM-SHA-256)",
        "bob@example.org: userPassword (PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256)",
    ]
    show = tool.ok("show", "-u", "example.org", "alice")
    assert "status:            enabled" in show
    assert "password hash:     yescrypt" in show
    assert "allowed networks:  anywhere" in show
    assert "correct horse" not in show
    assert tool.check("alice@example.org", "correct horse").returncode == 0
    r = tool.check("alice@example.org", "correct horsE")
    assert r.returncode == 1 and "wrong password" in r.stdout
    r = tool.check("carol@example.org", "x")
    assert r.returncode == 1 and "unknown user" in r.stdout


def test_database_is_private_and_holds_no_plain_password(tool):
    tool.ok("add", "alice@example.org", stdin="a very particular password\n")
    for path in (tool.db, tool.db + "-lock"):
        st = os.stat(path)
        assert stat.S_IMODE(st.st_mode) == 0o600
        assert st.st_uid == os.geteuid()
    with open(tool.db, "rb") as f:
        assert b"a very particular password" not in f.read()
    os.chmod(tool.db, 0o644)
    r = tool.run("list")
    assert r.returncode == 1 and "mode 0644" in r.stderr
    os.chmod(tool.db, 0o600)


def test_passwd_delete_and_errors(tool):
    tool.ok("add", "alice@example.org", stdin="one\n")
    r = tool.run("add", "alice@example.org", stdin="two\n")
    assert r.returncode == 1 and "already exists" in r.stderr
    tool.ok("passwd", "alice@example.org", stdin="two\n")
    assert tool.check("alice@example.org", "two").returncode == 0
    assert tool.check("alice@example.org", "one").returncode == 1
    r = tool.run("passwd", "nobody@example.org", stdin="x\n")
    assert r.returncode == 1 and "no such user" in r.stderr
    r = tool.run("add", "empty@example.org", stdin="\n")
    assert r.returncode == 1 and "empty password" in r.stderr
    r = tool.run("add", "-u", "example.org", "x@example.org", stdin="x\n")
    assert r.returncode == 1 and "not both" in r.stderr
    r = tool.run("add", "bad\tname", stdin="x\n")
    assert r.returncode == 1
    tool.ok("delete", "alice@example.org")
    r = tool.run("delete", "alice@example.org")
    assert r.returncode == 1 and "no such user" in r.stderr
    assert tool.ok("list") == ""
    r = tool.run("frobnicate")
    assert r.returncode == 2 and "unknown command" in r.stderr
    r = tool.run("add")
    assert r.returncode == 2


def test_help_on_each_subcommand(tool):
    for sub in ("add", "passwd", "delete", "list", "show", "set", "import-sasldb", "test"):
        r = tool.run(sub, "--help")
        assert r.returncode == 0 and "usage:" in r.stdout, sub


def test_allowed_networks_and_disable(tool):
    tool.ok("add", "--allow", "!192.0.2.9, 192.0.2.0/24", "erin@example.org", stdin="pw\n")
    assert "allow=!192.0.2.9, 192.0.2.0/24" in tool.ok("list")
    assert tool.check("erin@example.org", "pw", "--from", "192.0.2.1").returncode == 0
    r = tool.check("erin@example.org", "pw", "--from", "192.0.2.9")
    assert r.returncode == 1 and "not allowed" in r.stdout
    assert tool.check("erin@example.org", "pw", "--from", "203.0.113.1").returncode == 1
    r = tool.run("set", "erin@example.org", "--allow", "300.1.1.1/8")
    assert r.returncode == 1 and "300.1.1.1/8" in r.stderr
    tool.ok("set", "erin@example.org", "--allow", "")
    assert tool.check("erin@example.org", "pw", "--from", "203.0.113.1").returncode == 0
    tool.ok("set", "erin@example.org", "--disable")
    assert "disabled" in tool.ok("list")
    r = tool.check("erin@example.org", "pw")
    assert r.returncode == 1 and "not allowed" in r.stdout
    tool.ok("set", "erin@example.org", "--enable")
    assert tool.check("erin@example.org", "pw").returncode == 0
    r = tool.run("set", "erin@example.org")
    assert r.returncode == 1 and "nothing to set" in r.stderr


def test_cram_md5_needs_the_password(tool):
    tool.ok("add", "alice@example.org", stdin="pw\n")
    r = tool.run("set", "alice@example.org", "--cram-md5", "on", stdin="wrong\n")
    assert r.returncode == 1 and "wrong password" in r.stderr
    assert "CRAM-MD5" not in tool.ok("list")
    tool.ok("set", "alice@example.org", "--cram-md5", "on", stdin="pw\n")
    assert "CRAM-MD5" in tool.ok("list")
    tool.ok("set", "alice@example.org", "--cram-md5", "off")
    assert "CRAM-MD5" not in tool.ok("list")


def test_local_domain_realm():
    t = Tool("smtpd_sasl_local_domain = example.org\n")
    try:
        out = t.ok("add", "frank", stdin="pw\n")
        assert "looks up \"frank@example.org\"" in out
        t.ok("add", "-u", "Example.Org", "alice", stdin="pw\n")
        assert "alice@example.org: " in t.ok("list")
        # As the server would: "alice" gets smtpd_sasl_local_domain.
        assert t.check("alice", "pw").returncode == 0
        assert t.check("alice@example.org", "pw").returncode == 0
        assert t.check("frank", "pw").returncode == 1
        assert t.check("frank", "pw", "-u", "other.example").returncode == 1
    finally:
        shutil.rmtree(t.dir, ignore_errors=True)


def have(*tools):
    return all(shutil.which(x) for x in tools)


@pytest.mark.skipif(not have("saslpasswd2", "db_dump"), reason="needs sasl2-bin and db-util")
def test_import_real_sasldb(tool):
    sasldb = os.path.join(tool.dir, "sasldb2")
    entries = [("alice", "example.org", "secret pw"), ("bob", "Other.Test", "b\\ck~ \u00e9"),
               ("carol", "example.org", "x")]
    for user, realm, pw in entries:
        subprocess.run(["saslpasswd2", "-f", sasldb, "-p", "-c", "-u", realm, user],
                       input=pw + "\n", text=True, check=True, timeout=30)
    out = tool.ok("import-sasldb", "-f", sasldb)
    assert "imported 3 users from %s (3 new, 0 updated)" % sasldb in out
    assert tool.ok("list").splitlines() == [
        "alice@example.org: userPassword (PLAIN LOGIN SCRAM-SHA-1 SCRAM-SHA-256)",
        "bob@other.test: userPassword (PLAIN LOGIN SCRAM-SHA-1 SCRAM-SHA-256)",
        "carol@example.org: userPassword (PLAIN LOGIN SCRAM-SHA-1 SCRAM-SHA-256)",
    ]
    for user, realm, pw in entries:
        assert tool.check("%s@%s" % (user, realm), pw).returncode == 0, user
    assert tool.check("alice@example.org", "secret").returncode == 1
    with open(tool.db, "rb") as f:
        data = f.read()
    assert b"secret pw" not in data
    # Again, now enabling CRAM-MD5: the users are updated, not duplicated.
    out = tool.ok("import-sasldb", "-f", sasldb, "--cram-md5")
    assert "(0 new, 3 updated)" in out
    assert tool.ok("list").count("CRAM-MD5") == 3


def test_import_errors(tool):
    r = tool.run("import-sasldb", "-f", os.path.join(tool.dir, "missing"))
    assert r.returncode == 1 and "No such file" in r.stderr
    junk = os.path.join(tool.dir, "junk")
    with open(junk, "w") as f:
        f.write("not a database\n")
    r = tool.run("import-sasldb", "-f", junk)
    assert r.returncode == 1
