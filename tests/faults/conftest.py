"""Fault fixtures: the server area's real `learnwalk serve` (SQLite and PostgreSQL), and a fault-injecting proxy in
front of it (tests/support/proxy.py) that devices enroll through, so all their sync traffic crosses it.

    proxy           a FaultProxy to this session's server; plan faults with proxy.plan(kind, path, arg)
    device          device(role) -> an enrolled device talking to the server directly (the server area's fixture)
    proxied_device  proxied_device(role) -> an enrolled device (tests/support/serverproc.py Device) whose server
                    address is the proxy
"""
from __future__ import annotations

import pytest

from tests.support.proxy import FaultProxy
from tests.support.server_fixtures import db_url, device, district, server, server_db  # noqa: F401 (fixtures used here)

from tests.support import serverproc as harness


@pytest.fixture
def proxy(server):
    p = FaultProxy(server.port)
    yield p
    p.close()


@pytest.fixture
def proxied_device(tmp_path, proxy, district):
    made = []

    def make(role: str = "observer"):
        dev = harness.new_device(tmp_path / f"proxied{len(made)}", proxy.url, district.code(district.user(role)))
        made.append(dev)
        return dev
    yield make
    for dev in made:
        dev.engine.dispose()
