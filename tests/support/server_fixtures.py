"""Server fixtures: a real `learnwalk serve` per database backend (SQLite file, PostgreSQL scratch database).

An area's conftest.py imports the fixtures it uses from here; each area then gets its own server per session.
    db_url, server_db, server   per backend: a fresh database, direct access to it, the real server process
    district, device            a district per test; device(role) -> an enrolled device in it
    world                       two districts with users of every role and pushed walks (serverdata.World)
    sync_server                 one SQLite server per test module, with .db (for the Sync and Settings screens)
"""
from __future__ import annotations

import pytest

from tests.support import serverdata
from tests.support import serverproc as harness


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


@pytest.fixture(scope="session")
def world(server, server_db):
    return serverdata.World.build(server.url, server_db)


@pytest.fixture(scope="module")
def sync_server(tmp_path_factory):
    """A real `learnwalk serve` on SQLite: .url, .db (direct setup access), .district() -> District."""
    url = f"sqlite:///{tmp_path_factory.mktemp('server') / 'server.sqlite'}"
    db = harness.Db(url)
    proc = harness.ServerProc(url).start()
    proc.db = db
    yield proc
    proc.stop()
    db.engine.dispose()
