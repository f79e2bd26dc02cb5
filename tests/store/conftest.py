"""Store fixtures: a real SQLite file per test, a small rubric with every scale feature, a service on it."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.store.db import open_engine
from app.store.services import CaptureService
from rubrics import Domain, Level, LookFor, Rubric, Scale

RUBRIC = Rubric(
    id="test-walk", version=1, title="Test walk",
    scales=[
        Scale(id="freq", levels=[Level(value=v, label=v) for v in ("none", "some", "most", "all")],
              not_observed=True, evident_from="most"),
        Scale(id="seen", levels=[Level(value="seen", label="Seen")], not_observed=False),
    ],
    domains=[Domain(id="eng", title="Engagement"), Domain(id="task", title="Task")],
    lookfors=[
        LookFor(id="t.talk", domain="eng", text="Students talk about the work", label="Talk", scale="freq"),
        LookFor(id="t.explain", domain="eng", text="Students explain reasoning", label="Explain", scale="freq"),
        LookFor(id="t.objective", domain="task", text="Objective posted", label="Objective", scale="seen"),
        LookFor(id="t.math", domain="task", text="Multiple strategies", label="Strategies", scale="freq",
                subjects=["Math"]),
    ],
)


def make_service(data_dir: Path) -> CaptureService:
    """A service on the store in data_dir, with the test rubric available."""
    svc = CaptureService(open_engine(data_dir))
    svc.catalog.register(RUBRIC)
    return svc


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
