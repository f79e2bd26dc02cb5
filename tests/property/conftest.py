"""Property fixtures: one real `learnwalk serve` on an SQLite file for the whole session (the server area's fixtures,
narrowed to SQLite: the stateful model runs many examples, and the backends are compared by tests/server)."""
from __future__ import annotations

import pytest

from tests.server.conftest import server, server_db  # noqa: F401 (fixtures used here)


@pytest.fixture(scope="session")
def db_url(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('server') / 'server.sqlite'}"
