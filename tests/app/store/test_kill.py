"""SIGKILL mid-tapping: every rating the service returned is on disk, and no action is half-written."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session

from app.store.models import Rating
from tests.support.storetest import connect, make_service, outbox

ROOT = Path(__file__).parents[3]  # the child imports tests.support from the checkout

# Taps in a loop through the service; after each call returns, prints what it returned and flushes.
# Each tap is a new cell (a new visit every few look-fors), so every printed line names one exact cell.
CHILD = r"""
import sys
from tests.support.storetest import RUBRIC, make_service
svc = make_service(sys.argv[1])
walk_id = sys.argv[2]
lookfors = [lf.id for lf in RUBRIC.lookfors if lf.scale == "freq" and not lf.subjects]
values = ["none", "some", "most", "all"]
i = 0
while True:
    visit = svc.start_visit(walk_id, grade="3", subject="ELA")
    for lf in lookfors:
        cell = svc.tap(visit.id, lf, values[i % 4])
        print(cell.visit_id, cell.lookfor_id, cell.value, i, flush=True)
        i += 1
"""


def _run_and_kill(data_dir: Path, walk_id: str, after_lines: int) -> list[tuple[str, str, str]]:
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(data_dir), walk_id],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT)
    lines = []
    try:
        while len(lines) < after_lines:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            lines.append(line)
        os.kill(proc.pid, signal.SIGKILL)
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    lines += rest.splitlines(keepends=True)
    complete = [ln.split() for ln in lines if ln.endswith("\n")]  # a line cut by the kill was not confirmed
    return [(v, lf, val) for v, lf, val, _ in complete]


def test_every_printed_rating_survives_sigkill_and_the_outbox_matches(data_dir):
    svc = make_service(data_dir)
    school = svc.add_school("Oak Grove K-8")
    walk = svc.create_walk(school_id=school.id, rubric_id="test-walk", rubric_version=1, focus=["t.talk"])
    svc.engine.dispose()

    printed = []
    # a few kills at different points, each run continuing the same file
    for kills, after in enumerate((25, 140, 61, 333), start=1):
        printed += _run_and_kill(data_dir, walk.id, after)

        svc = make_service(data_dir)  # re-open, as the app does after a crash
        with Session(svc.engine) as s:
            for visit_id, lookfor_id, value in printed:
                row = s.get(Rating, (visit_id, lookfor_id))
                assert row is not None and row.value == value and not row.deleted, (visit_id, lookfor_id)
        svc.engine.dispose()

        entries = outbox(data_dir)
        with connect(data_dir) as con:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            ratings = {r["id"]: dict(r) for r in con.execute("SELECT * FROM rating")}
            visits = {r["id"] for r in con.execute("SELECT id FROM visit")}
        # no half-written action: every row has its outbox entry and every entry its row, one to one
        rating_entries = [e for e in entries if e["kind"] == "rating"]
        assert sorted(e["record_id"] for e in rating_entries) == sorted(ratings)
        assert {e["record_id"] for e in entries if e["kind"] == "visit"} == visits
        for e in rating_entries:
            assert e["data"]["value"] == ratings[e["record_id"]]["value"]
        # at most the one tap in flight at each kill committed without being printed
        assert len(printed) <= len(ratings) <= len(printed) + kills
        assert [e["seq"] for e in entries] == sorted({e["seq"] for e in entries})
