"""A device store as the app wrote it before cycles were records (schema v1): walks with free-text cycle labels,
some still waiting in the outbox, written with plain sqlite3 through the shipped 0001 migration only."""
from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import date, datetime, timezone
from pathlib import Path

from app.store.db import db_path, open_engine

SHIPPED = Path(__file__).resolve().parents[2] / "app" / "store" / "migrations"
AT = datetime(2026, 10, 1, 9, 30, tzinfo=timezone.utc)


def v1_store(data_dir: Path, tmp_path: Path, school_id: str, walks: list[dict], queued: bool = True) -> None:
    """A store at schema v1 holding `school_id` and these walks ({id, label, phase, walk_date, focus}); each walk
    has an outbox entry as a v1 app queued it (no cycle_id in its snapshot) when `queued`."""
    only_v1 = tmp_path / "v1-migrations"
    only_v1.mkdir(exist_ok=True)
    shutil.copy(SHIPPED / "0001_initial.sql", only_v1)
    open_engine(data_dir, migrations_dir=only_v1).dispose()
    con = sqlite3.connect(db_path(data_dir))
    with con:
        con.execute("INSERT INTO school (id, name, district_id) VALUES (?, 'Lincoln Elementary', '')", (school_id,))
        for w in walks:
            row = {"id": w["id"], "school_id": school_id, "walk_date": w["walk_date"].isoformat(),
                   "rubric_id": "deeper-learning", "rubric_version": 1, "focus": w["focus"], "team": [],
                   "cycle_label": w["label"], "phase": w["phase"], "created_by": "local",
                   "updated_at": AT.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "deleted": False}
            con.execute("INSERT INTO walk (id, school_id, walk_date, rubric_id, rubric_version, focus, team, "
                        "cycle_label, phase, created_by, updated_at, deleted) VALUES (?, ?, ?, ?, ?, ?, '[]', ?, ?, "
                        "'local', '2026-10-01 09:30:00.000000', 0)",
                        (w["id"], school_id, row["walk_date"], "deeper-learning", 1, json.dumps(w["focus"]),
                         w["label"], w["phase"]))
            if queued:
                con.execute("INSERT INTO outbox (kind, record_id, walk_id, data, created_at) VALUES "
                            "('walk', ?, ?, ?, '2026-10-01 09:30:00.000000')", (w["id"], w["id"], json.dumps(row)))
    con.close()


def legacy_walks(day0: date = date(2026, 9, 7)) -> list[dict]:
    """Three walks of one cycle typed two ways ("Fall 2026", " fall  2026"), one of another cycle, one unlabelled."""
    return [
        {"id": "w-base", "label": "Fall 2026", "phase": "baseline", "walk_date": day0,
         "focus": ["dl.interactive", "dl.what-and-why"]},
        {"id": "w-six", "label": " fall  2026", "phase": "six-week", "walk_date": date(2026, 10, 19),
         "focus": ["dl.interactive"]},
        {"id": "w-end", "label": "Fall 2026", "phase": "end-of-cycle", "walk_date": date(2026, 11, 23),
         "focus": ["dl.interactive", "dl.what-and-why"]},
        {"id": "w-spring", "label": "Spring 2027", "phase": "baseline", "walk_date": date(2027, 1, 11),
         "focus": ["dl.engaged"]},
        {"id": "w-none", "label": "", "phase": "other", "walk_date": date(2026, 9, 20), "focus": ["dl.engaged"]},
    ]
