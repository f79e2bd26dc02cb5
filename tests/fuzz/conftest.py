"""Fuzz fixtures: the real `learnwalk serve` per backend (the server area's fixtures: SQLite file, PostgreSQL scratch
database), a district with data pushed through the API (tests/support/serverdata.py), and the server's own
/openapi.json."""
from __future__ import annotations

import pytest
import schemathesis

from tests.support import serverdata
from tests.support.server_fixtures import db_url, district, server, server_db  # noqa: F401 (fixtures used here)


@pytest.fixture(scope="session")
def world(server, server_db):
    return serverdata.World.build(server.url, server_db, walks=3, visits=3)


@pytest.fixture(scope="session")
def api_schema(server, world):
    return schemathesis.openapi.from_url(server.url + "/openapi.json", timeout=30)
