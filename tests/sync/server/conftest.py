"""Server fixtures: a real `learnwalk serve` per backend, a district per test, enrolled devices
(tests/support/server_fixtures.py)."""
from __future__ import annotations

from tests.support.server_fixtures import db_url, device, district, server, server_db  # noqa: F401
