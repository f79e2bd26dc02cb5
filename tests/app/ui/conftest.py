"""View-model fixtures: a real device store, and (for the admin and sync view-models) the real server."""
from __future__ import annotations

import pytest

from app.device import Device
from app.store.services import CaptureService
from tests.support.server_fixtures import db_url, server, server_db, sync_server, world  # noqa: F401


@pytest.fixture
def device(tmp_path) -> Device:
    """The device core (app.device.Device) on a fresh SQLite file under tmp_path/"device"."""
    with Device.open(tmp_path / "device") as dev:
        yield dev


@pytest.fixture
def service(device) -> CaptureService:
    """Its CaptureService."""
    return device.capture


@pytest.fixture
def walk_id(service) -> str:
    """A deeper-learning@1 walk at "Lincoln Elementary" with focus dl.interactive, dl.affirming."""
    school = service.add_school("Lincoln Elementary")
    return service.create_walk(school_id=school.id, rubric_id="deeper-learning", rubric_version=1,
                               focus=["dl.interactive", "dl.affirming"]).id
