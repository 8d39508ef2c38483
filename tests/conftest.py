"""Shared pytest fixtures for the integration tests: a fixture DNS server
for the session and a factory for real gatepost daemons, each checked for
sanitizer reports when it stops."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib.dns_fixture import DnsServer, default_records  # noqa: E402
from lib.gatepost import Instance  # noqa: E402

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer",
                     "panic:")


@pytest.fixture(scope="session")
def dns():
    server = DnsServer(default_records()).start()
    yield server
    server.stop()


@pytest.fixture
def gatepost(dns):
    """gatepost(main={...}, master=[...]) -> a started Instance."""
    made = []

    def make(main=None, master=None, start=True, use_dns=True, **kw):
        inst = Instance(main=main, master=master, dns=dns if use_dns else None, **kw)
        made.append(inst)
        if start:
            inst.start()
        return inst

    yield make
    problems = []
    for inst in made:
        inst.stop()
        text = inst.stderr_text() + inst.log()
        for marker in SANITIZER_MARKERS:
            if marker in text:
                problems.append("%s: %s" % (inst.dir, text[text.index(marker):][:2000]))
    for inst in made:
        if not problems:
            inst.cleanup()
    assert not problems, "sanitizer or panic output:\n" + "\n".join(problems)
