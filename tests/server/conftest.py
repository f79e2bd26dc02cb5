"""Server fixtures: a real `learnwalk serve` per database backend (SQLite file, PostgreSQL scratch database)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

if "lw_serverproc" not in sys.modules:  # one harness module shared by tests/server and tests/sync
    _spec = importlib.util.spec_from_file_location("lw_serverproc", Path(__file__).with_name("serverproc.py"))
    sys.modules["lw_serverproc"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["lw_serverproc"])
harness = sys.modules["lw_serverproc"]


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path_factory):
    """A fresh server database URL for this test session, per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('server') / 'server.sqlite'}"
        return
    why = harness.pg_reachable()
    if why:
        pytest.skip(why)
    url, drop = harness.pg_scratch_db()
    yield url
    drop()


@pytest.fixture(scope="session")
def server_db(db_url):
    db = harness.Db(db_url)
    yield db
    db.engine.dispose()


@pytest.fixture(scope="session")
def server(db_url, server_db):
    proc = harness.ServerProc(db_url).start()
    yield proc
    proc.stop()


@pytest.fixture
def district(server_db):
    return server_db.district()


@pytest.fixture
def device(tmp_path, server, district):
    """device(role) -> an enrolled device of a new user with that role in this test's district."""
    made = []

    def make(role: str = "observer", district_=None):
        d = district_ or district
        user = d.user(role)
        dev = harness.new_device(tmp_path / f"dev{len(made)}", server.url, d.code(user))
        made.append(dev)
        return dev
    yield make
    for dev in made:
        dev.engine.dispose()
