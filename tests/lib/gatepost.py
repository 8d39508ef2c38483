"""Starting and driving a real gatepost daemon for integration tests.

An Instance owns a directory (mode 0755, so the unprivileged mail owner
can reach it when the tests run as root) holding main.cf, master.cf, the
queue, the mailboxes and the log. The daemon runs in the foreground with
`gatepost -c DIR serve`, listens on 127.0.0.1 at a free port, logs to
DIR/maillog, and resolves names through the fixture DNS server."""

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from .ports import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def gatepost_binary():
    path = os.environ.get("GATEPOST_BIN", os.path.join(ROOT, "build", "gatepost"))
    if not os.path.exists(path):
        raise RuntimeError("gatepost binary not found at %s (set GATEPOST_BIN)" % path)
    return path


def mail_owner_ids():
    """The identity mailboxes are written as: the mail owner when root."""
    if os.geteuid() == 0:
        pw = pwd.getpwnam("gatepost")
        return pw.pw_uid, pw.pw_gid
    return os.getuid(), os.getgid()


# Output that means a daemon misbehaved, whatever the test saw.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer",
                     "panic:")


def smtpd_service(port, options):
    """A master.cf smtpd service on 127.0.0.1:port with an -o line for each
    of options ({name: value}); values with spaces are put in { }."""
    line = "127.0.0.1:%d inet n - n - - smtpd" % port
    for k, v in options.items():
        line += ("\n  -o { %s = %s }" if " " in v else "\n  -o %s=%s") % (k, v)
    return line


def sanitizer_problems(text):
    """The sanitizer or panic reports in text, each cut to 2000 characters."""
    return [text[text.index(m):][:2000] for m in SANITIZER_MARKERS if m in text]


class Instance:
    def __init__(self, main=None, master=None, dns=None, name="gp", extra_services=None):
        base = os.environ.get("GATEPOST_TEST_TMP", "/tmp")
        self.dir = tempfile.mkdtemp(prefix="gatepost-%s-" % name, dir=base)
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.log_path = os.path.join(self.dir, "maillog")
        self.mail_dir = os.path.join(self.dir, "mail")
        os.makedirs(self.mail_dir)
        uid, gid = mail_owner_ids()
        os.chown(self.mail_dir, uid, gid)
        self.uid, self.gid = uid, gid
        self.proc = None
        params = {
            "myhostname": "mx.test.example",
            "mydomain": "test.example",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mydestination": "",
            "mynetworks": "127.0.0.0/30",
            "queue_directory": os.path.join(self.dir, "queue"),
            "data_directory": os.path.join(self.dir, "data"),
            "maillog_file": self.log_path,
            "virtual_mailbox_domains": "test.example",
            "virtual_mailbox_base": self.mail_dir,
            "virtual_mailbox_maps": "inline:{ alice@test.example=alice/, bob@test.example=bob/ }",
            "virtual_uid_maps": "static:%d" % uid,
            "virtual_gid_maps": "static:%d" % gid,
            "virtual_minimum_uid": "1",
            "smtpd_workers": "2",
            "smtpd_error_sleep_time": "0",
        }
        if dns is not None:
            params["dns_servers"] = dns.address
        else:
            params["smtpd_peername_lookup"] = "no"
        params.update(main or {})
        self.params = params
        self.master_lines = master or ["127.0.0.1:%d inet n - n - - smtpd" % self.port]
        self.write_config()

    def write_config(self):
        with open(os.path.join(self.dir, "main.cf"), "w") as f:
            for k, v in self.params.items():
                f.write("%s = %s\n" % (k, v))
        with open(os.path.join(self.dir, "master.cf"), "w") as f:
            f.write("\n".join(self.master_lines) + "\n")

    # -- process control --

    def command(self, *args, check=True, input=None):
        return subprocess.run([gatepost_binary(), "-c", self.dir] + list(args),
                              capture_output=True, text=True, check=check, input=input,
                              timeout=60)

    def start(self, wait_port=None):
        self.stderr = open(os.path.join(self.dir, "stderr"), "ab")
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0")
        self.proc = subprocess.Popen([gatepost_binary(), "-c", self.dir, "serve"],
                                     stdin=subprocess.DEVNULL, stdout=self.stderr,
                                     stderr=self.stderr, env=env)
        self.wait_listening(wait_port or self.port)
        return self

    def wait_listening(self, port, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("gatepost exited with %s:\n%s" % (self.proc.returncode, self.stderr_text()))
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                    s.recv(512)
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("gatepost did not listen on %d:\n%s" % (port, self.stderr_text()))

    def stop(self, timeout=60):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
        if self.proc:
            self.stderr.close()
        return self.proc.returncode if self.proc else None

    def kill9(self):
        """Kills the whole process group of the daemon, as a crash would."""
        if self.proc and self.proc.poll() is None:
            pids = [self.proc.pid] + self.child_pids()
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.wait(10)
            deadline = time.time() + 10
            while time.time() < deadline and any(_alive(p) for p in pids):
                time.sleep(0.05)

    def child_pids(self):
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- observations --

    def stderr_text(self):
        try:
            with open(os.path.join(self.dir, "stderr"), errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def sanitizer_problems(self):
        """Sanitizer or panic reports in the daemon's stderr and log."""
        return sanitizer_problems(self.stderr_text() + self.log())

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_lines(self, pattern=None):
        lines = self.log().splitlines()
        if pattern:
            rx = re.compile(pattern)
            lines = [l for l in lines if rx.search(l)]
        return lines

    def wait_log(self, pattern, count=1, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = self.log_lines(pattern)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError("log never showed %d x %r; log tail:\n%s" %
                             (count, pattern, "\n".join(self.log_lines()[-30:])))

    def maildir_messages(self, user, timeout=20, count=1):
        """Waits for `count` messages in user's Maildir new/ and returns their texts."""
        new = os.path.join(self.mail_dir, user, "new")
        deadline = time.time() + timeout
        while time.time() < deadline:
            names = sorted(os.listdir(new)) if os.path.isdir(new) else []
            if len(names) >= count:
                out = []
                for n in names:
                    with open(os.path.join(new, n), "rb") as f:
                        out.append(f.read())
                return out
            time.sleep(0.05)
        raise AssertionError("expected %d messages in %s; log tail:\n%s" %
                             (count, new, "\n".join(self.log_lines()[-30:])))

    def maildir_count(self, user):
        total = 0
        for sub in ("new", "cur"):
            d = os.path.join(self.mail_dir, user, sub)
            if os.path.isdir(d):
                total += len(os.listdir(d))
        return total


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
