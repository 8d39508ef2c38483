"""Privilege separation in the real daemon started as root: the supervisor
stays root (it binds ports and starts children), every SMTP worker - the
processes that talk to the network - runs as the mail owner with no way
back (real, effective, saved and file-system IDs all the owner's, no other
group, no capabilities, no_new_privs), even after handling a session."""

import os
import pwd

import pytest

from lib.mail import message, send


def status(pid):
    fields = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.split()
    return fields


@pytest.mark.skipif(os.geteuid() != 0, reason="privilege separation needs a root start")
def test_workers_run_as_mail_owner_supervisor_as_root(gatepost):
    gp = gatepost(main={"smtpd_workers": "3"})
    assert send(gp.port, "alice@test.example", message("privsep")) == {}
    gp.maildir_messages("alice")
    owner = pwd.getpwnam("gatepost")

    master = status(gp.proc.pid)
    assert master["Uid"][0] == "0" and master["Uid"][1] == "0"

    workers = []
    for pid in gp.child_pids():
        st = status(pid)
        if st["Uid"][1] != "0":
            workers.append(st)
    assert len(workers) == 3, "expected 3 unprivileged SMTP workers"
    for st in workers:
        assert st["Uid"] == [str(owner.pw_uid)] * 4, st["Uid"]
        assert st["Gid"] == [str(owner.pw_gid)] * 4, st["Gid"]
        # No supplementary group beyond the owner's own (as Postfix sets it).
        assert st.get("Groups", []) in ([], [str(owner.pw_gid)]), st.get("Groups")
        assert st["NoNewPrivs"] == ["1"]
        assert st["CapEff"] == ["0000000000000000"]


def test_queue_is_private_to_the_mail_owner(gatepost):
    gp = gatepost()
    uid, gid = gp.uid, gp.gid
    queue = gp.params["queue_directory"]
    for sub in ("tmp", "incoming", "active", "deferred", "corrupt"):
        st = os.stat(os.path.join(queue, sub))
        assert (st.st_uid, st.st_gid) == (uid, gid), sub
        assert st.st_mode & 0o077 == 0, sub
