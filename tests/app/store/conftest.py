"""Store fixtures: a real SQLite file per test, a small rubric with every scale feature, a service on it."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.storetest import make_service


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "device"


@pytest.fixture
def svc(data_dir):
    service = make_service(data_dir)
    yield service
    service.engine.dispose()


@pytest.fixture
def school(svc):
    return svc.add_school("Lincoln Elementary", school_id="s-lincoln")


@pytest.fixture
def walk(svc, school):
    return svc.create_walk(school_id=school.id, rubric_id="test-walk", rubric_version=1,
                           focus=["t.talk", "t.explain"], phase="baseline")


@pytest.fixture
def visit(svc, walk):
    return svc.start_visit(walk.id, grade="4", subject="Math")
