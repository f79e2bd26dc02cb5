"""Admin/export fixtures: a real `learnwalk serve` per backend (SQLite file, PostgreSQL scratch database), with two
districts whose data was pushed through the real API by enrolled observer devices.

    db_url, server_db, server   the server area's fixtures (tests/server/conftest.py): per backend, a fresh
                  database (PostgreSQL: a scratch database, dropped after), direct access to it, and the real
                  server process on 127.0.0.1:<free port>
    world         two districts (north, south), each with users of every role, enrolled tokens, published
                  rubric versions and pushed walks (tests/admin/serverdata.py World)
"""
from __future__ import annotations

import pytest

from tests.admin import serverdata
from tests.server.conftest import db_url, server, server_db  # noqa: F401 (fixtures used here)

@pytest.fixture(scope="session")
def world(server, server_db):
    return serverdata.World.build(server.url, server_db)
