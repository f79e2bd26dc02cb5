"""Admin/export fixtures: a real `learnwalk serve` per backend (SQLite file, PostgreSQL scratch database), with two
districts whose data was pushed through the real API by enrolled observer devices.

    backend_url   session, per backend: a fresh server database URL (PostgreSQL: a scratch database, dropped after)
    server_db     direct access to that database (tests/server/serverproc.py Db)
    server        the real server process on 127.0.0.1:<free port>
    world         two districts (north, south), each with users of every role, enrolled tokens, published
                  rubric versions and pushed walks (tests/admin/serverdata.py World)
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent


def _load(name: str, path: Path):
    """Import a helper module by path under a unique name (tests import it as `import lw_admin_<name>`)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


harness = _load("lw_admin_serverproc", _HERE.parent / "server" / "serverproc.py")
serverdata = _load("lw_admin_serverdata", _HERE / "serverdata.py")
readback = _load("lw_admin_readback", _HERE / "readback.py")


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend_url(request, tmp_path_factory):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('admin-server') / 'server.sqlite'}"
        return
    why = harness.pg_reachable()
    if why:
        pytest.skip(why)
    url, drop = harness.pg_scratch_db()
    yield url
    drop()


@pytest.fixture(scope="session")
def server_db(backend_url):
    db = harness.Db(backend_url)
    yield db
    db.engine.dispose()


@pytest.fixture(scope="session")
def server(backend_url, server_db):
    proc = harness.ServerProc(backend_url).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def world(server, server_db):
    return serverdata.World.build(server.url, server_db)


@pytest.fixture
def api():
    return harness.api
