"""Property fixtures: the server area's real `learnwalk serve` per backend (SQLite file, PostgreSQL scratch database),
one server process for the whole session."""
from __future__ import annotations

from tests.support.server_fixtures import db_url, server, server_db  # noqa: F401 (fixtures used here)
