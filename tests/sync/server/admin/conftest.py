"""Admin/export fixtures: a real `learnwalk serve` per backend (SQLite file, PostgreSQL scratch database), with two
districts whose data was pushed through the real API by enrolled observer devices.

    db_url, server_db, server   the server area's fixtures (tests/support/server_fixtures.py): per backend, a fresh
                  database (PostgreSQL: a scratch database, dropped after), direct access to it, and the real
                  server process on 127.0.0.1:<free port>
    world         two districts (north, south), each with users of every role, enrolled tokens, published
                  rubric versions and pushed walks (tests/support/serverdata.py World)
"""
from __future__ import annotations

from tests.support.server_fixtures import db_url, server, server_db, world  # noqa: F401 (fixtures used here)
