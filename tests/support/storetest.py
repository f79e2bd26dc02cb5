"""Store test helpers: a small rubric with every scale feature, a service factory, and plain sqlite3 readers
that show what is really in the file, independent of the service's own reads."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from app.store.db import db_path, open_engine
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




def connect(data_dir: Path) -> sqlite3.Connection:
    con = sqlite3.connect(db_path(data_dir))
    con.row_factory = sqlite3.Row
    return con


def outbox(data_dir: Path) -> list[dict]:
    with connect(data_dir) as con:
        rows = con.execute("SELECT seq, kind, record_id, walk_id, data FROM outbox ORDER BY seq").fetchall()
    return [dict(r) | {"data": json.loads(r["data"])} for r in rows]


def count(data_dir: Path, table: str, where: str = "1") -> int:
    with connect(data_dir) as con:
        return con.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0]


def pragma(data_dir: Path, name: str) -> str:
    with connect(data_dir) as con:
        return con.execute(f"PRAGMA {name}").fetchone()[0]
