"""View-model fixtures: a real device store, and (for the admin and sync view-models) the real server."""
from __future__ import annotations

import pytest

from app.store.db import open_engine
from app.store.services import CaptureService
from tests.support.server_fixtures import db_url, server, server_db, sync_server, world  # noqa: F401


@pytest.fixture
def service(tmp_path) -> CaptureService:
    """CaptureService on a fresh SQLite file under tmp_path/"device"."""
    svc = CaptureService(open_engine(tmp_path / "device"))
    yield svc
    svc.engine.dispose()


@pytest.fixture
def walk_id(service) -> str:
    """A deeper-learning@1 walk at "Lincoln Elementary" with focus dl.interactive, dl.affirming."""
    school = service.add_school("Lincoln Elementary")
    return service.create_walk(school_id=school.id, rubric_id="deeper-learning", rubric_version=1,
                               focus=["dl.interactive", "dl.affirming"]).id
