"""Sync fixtures: the server area's (tests/support/server_fixtures.py) real `learnwalk serve` per backend (SQLite file,
PostgreSQL scratch database), its database, a district per test, and enrolled devices: device(role)."""
from __future__ import annotations

from tests.support.server_fixtures import db_url, device, district, server, server_db  # noqa: F401 (fixtures used here)
