"""Fixtures every test area may use. Area-specific fixtures live in tests/<area>/conftest.py, shared
harnesses and fixtures in tests/support/ (imported plainly: `from tests.support import serverproc`)."""
from __future__ import annotations

import socket

import pytest


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
