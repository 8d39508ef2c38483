"""Shared pytest fixtures for the integration tests: a fixture DNS server
for the session and a factory for real gatepost daemons, each checked for
sanitizer reports when it stops."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib.dns_fixture import DnsServer, default_records  # noqa: E402
from lib.gatepost import Instance  # noqa: E402


@pytest.fixture(scope="session")
def dns():
    server = DnsServer(default_records()).start()
    yield server
    server.stop()


def instance_factory(dns):
    """Yields make(main={...}, master=[...], start=True, use_dns=True) ->
    an Instance; at the end stops them all and fails on sanitizer output."""
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
        problems += ["%s: %s" % (inst.dir, p) for p in inst.sanitizer_problems()]
    for inst in made:
        if not problems:
            inst.cleanup()
    assert not problems, "sanitizer or panic output:\n" + "\n".join(problems)


@pytest.fixture
def gatepost(dns):
    """gatepost(main={...}, master=[...]) -> a started Instance."""
    yield from instance_factory(dns)


@pytest.fixture(scope="module")
def module_gatepost():
    """The same, shared by a module's tests, without the fixture DNS
    (clients are "unknown")."""
    yield from instance_factory(None)
