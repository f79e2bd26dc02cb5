"""One word, one number: `learnwalk tally --json` on a device equals the XLSX Tallies sheet for the same walk.

The data takes the production path: enrolled devices record visits through the capture service and sync them to
the real server process; the tally is the CLI over a device's data folder; the sheet is the XLSX downloaded from
the server. Both count by sync.protocol.tally, so calibration partners and subject- and grade-limited look-fors
agree.
"""
from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import readback, serverdata
from tests.support import serverproc as harness

LEARNWALK = str(Path(sys.executable).with_name("learnwalk"))
NUMBERS = ("visits", "rated", "not_observed", "evident", "counts", "of", "interval")
ANY_GRADE = object()  # Team.visit: a grade drawn at random
GRADED_RUBRIC = ("dl-graded", 1)  # published by the test: deeper-learning plus a look-for for grades 3-12


def device_tally(data_dir: Path, walk_id: str) -> dict:
    run = subprocess.run([LEARNWALK, "tally", "--json", "--walk", walk_id, "--data-dir", str(data_dir)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def device_numbers(tally: dict) -> dict[str, dict]:
    """Per look-for id the tally JSON's numbers (None where a cell is suppressed)."""
    return {lf["id"]: {k: lf[k] for k in NUMBERS} for lf in tally["lookfors"]}


def tallies_sheet(url: str, token: str) -> list[dict]:
    with serverdata.client(url, token) as c:
        r = c.get("/api/v1/export/xlsx")
    assert r.status_code == 200, r.text
    rows = readback.xlsx_sheets(r.content)["Tallies"]
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def sheet_numbers(sheet: list[dict], walk_id: str, threshold: int = 1) -> dict[str, dict]:
    """Per look-for id the sheet's numbers for one walk, as the device would show them: a cell of 1 to
    threshold-1 visits suppressed (the debrief's small-cell rule; the export has none)."""
    out = {}
    for row in sheet:
        if row["walk_id"] != walk_id:
            continue
        counts = {v: int(n) for v, n in (part.split("=") for part in row["counts"].split("; ") if part)}
        numbers = {"visits": row["visits"], "rated": row["rated"], "not_observed": row["not_observed"],
                   "evident": row["evident"], "counts": counts, "of": row["of"],
                   # a row ending in blank cells is read back shorter: .get
                   "interval": None if row.get("interval_low") in (None, "") else [row["interval_low"],
                                                                                   row["interval_high"]]}
        if 0 < row["visits"] < threshold:
            numbers = dict.fromkeys(NUMBERS)
        out[row["lookfor_id"]] = numbers
    return out


# ---- a walk with calibration pairs and subject-limited look-fors --------------------------------------------

class Team:
    """A lead and two observers on enrolled devices, and what they recorded (to check the data has every case)."""

    def __init__(self, tmp_path: Path, server, district):
        self.server, self.district = server, district
        self.devices = {name: harness.new_device(tmp_path / name, server.url, district.code(district.user(role)))
                        for name, role in (("lead", "lead"), ("obs-a", "observer"), ("obs-b", "observer"))}
        admin = serverdata.enroll(server.url, district.code(district.user("admin")))
        self.admin_token = admin["token"]
        self.visits: list[dict] = []  # observer, subject (as counted), code, live, visit id
        self.rng = random.Random(11)

    def user(self, name: str) -> str:
        return harness.user_of(self.devices[name])

    def sync(self, *names: str) -> None:
        for name in names:
            self.devices[name].sync.sync_once()

    def visit(self, name: str, walk_id: str, subject: str | None, code: str | None = None, rate: bool = True,
              finish: bool = True, grade=ANY_GRADE, rubric_key=harness.RUBRIC):
        """A visit rating every look-for that applies to its subject and grade (the ones capture shows): a value,
        'not observed' or blank; finished unless finish=False (left open)."""
        capture = self.devices[name].capture
        rubric = capture.catalog.get(*rubric_key)
        grade = self.rng.choice(["K", "4", "7", "10", None]) if grade is ANY_GRADE else grade
        v = capture.start_visit(walk_id, grade=grade, subject=subject)
        for lf in rubric.lookfors if rate else ():
            if not lf.applies_to(subject, grade):
                continue
            scale, roll = rubric.scale(lf.scale), self.rng.random()
            if roll < 0.15 and scale.not_observed:
                capture.mark_not_observed(v.id, lf.id)
            elif roll < 0.25:
                continue  # left blank: not rated, on every scale
            else:
                capture.rate(v.id, lf.id, self.rng.choice(scale.values()))
        if code:
            capture.update_visit(v.id, calibration_code=code)
        if finish:
            capture.finish_visit(v.id)
        marked = any(r.value or r.not_observed for r in capture.ratings(v.id).values())
        self.visits.append({"observer": self.user(name), "subject": subject, "grade": grade, "code": code,
                            "live": True, "id": v.id, "finished": finish, "marked": marked})
        return v


@pytest.fixture
def team(tmp_path, server, server_db):
    t = Team(tmp_path, server, server_db.district())  # a fresh district: no other test's walks
    yield t
    for dev in t.devices.values():
        dev.engine.dispose()


def record_walk(team: Team) -> str:
    """Lead and observers on one walk: two calibration pairs and a three-observer code, visits of every subject
    and none, a rating left outside its look-for's base by a later subject change, a cleared cell, a deleted
    visit and a visit without ratings."""
    with serverdata.client(team.server.url, team.admin_token) as c:  # every number shown: parity, not privacy
        assert c.patch("/api/v1/admin/settings", json={"small_cell_threshold": 1}).status_code == 200
    team.sync("lead", "obs-a", "obs-b")
    walk = harness.new_walk(team.devices["lead"], team.district.school_id,
                            team=[team.user("obs-a"), team.user("obs-b")])
    team.sync("lead", "obs-a", "obs-b")
    V = team.visit
    V("lead", walk.id, "Math", code="P1")
    V("obs-a", walk.id, "Math", code="P1")  # the same classroom as the lead's visit: counted once
    V("obs-a", walk.id, "ELA", code="P2")
    V("obs-b", walk.id, "ELA", code="P2")
    for name in ("lead", "obs-a", "obs-b"):
        V(name, walk.id, "Science", code="P3")
    for name, subject in (("lead", "ELA"), ("lead", None), ("lead", "Math"), ("obs-a", "Social Studies"),
                          ("obs-a", None), ("obs-b", "Math"), ("obs-b", "Other"), ("lead", "Science")):
        V(name, walk.id, subject)
    V("lead", walk.id, "Math", rate=False)  # finished without a rating: not counted
    V("obs-a", walk.id, "ELA", finish=False)  # still open (the app was closed mid-visit): not counted
    V("lead", walk.id, "Science", code="P4", finish=False)  # an open first observer leaves the partner counted
    V("obs-b", walk.id, "Science", code="P4")
    b = team.devices["obs-b"].capture
    moved = V("obs-b", walk.id, "Math")
    b.update_visit(moved.id, subject="ELA")  # its math-problem rating stays stored, outside that look-for's base
    team.visits[-1]["subject"] = "ELA"
    a = team.devices["obs-a"].capture
    cleared = V("obs-a", walk.id, "ELA")
    a.clear_rating(cleared.id, "dl.grade-level-task")
    gone = V("obs-b", walk.id, "Math", code="P1")
    b.delete_visit(gone.id)
    team.visits[-1]["live"] = False
    team.sync("obs-a", "obs-b", "lead", "lead")
    return walk.id


def counted(visits: list[dict]) -> list[dict]:
    """The rule in test form: live finished visits with a mark, a shared code counted for the observer id that
    sorts first among those."""
    live = [v for v in visits if v["live"] and v["finished"] and v["marked"]]
    first = {}
    for v in live:
        if v["code"]:
            first[v["code"]] = min(first.get(v["code"], v["observer"]), v["observer"])
    return [v for v in live if not v["code"] or v["observer"] == first[v["code"]]]


def test_the_leads_device_tally_equals_the_xlsx_tallies_sheet_for_the_walk(team):
    walk_id = record_walk(team)
    tally = device_tally(team.devices["lead"].path, walk_id)
    sheet = sheet_numbers(tallies_sheet(team.server.url, team.admin_token), walk_id)
    assert tally["threshold"] == 1 and not tally["suppressed"]
    assert device_numbers(tally) == sheet

    # the walk holds what the parity is about: partners left out, subject-limited bases smaller
    expected = counted(team.visits)
    assert len(expected) == tally["visits"] == sheet["dl.grade-level-task"]["visits"]
    assert len(expected) < sum(v["live"] for v in team.visits)
    assert tally["not_counted"] == {"in_progress": 2, "finished_empty": 1}
    assert sheet["dl.math-problem"]["visits"] == sum(v["subject"] in ("Math", None) for v in expected)
    assert sheet["dl.ela-text"]["visits"] == sum(v["subject"] in ("ELA", None) for v in expected)
    assert all(n["rated"] + n["not_observed"] <= n["visits"] for n in sheet.values())


def test_each_observers_device_tally_equals_their_own_xlsx_export(team):
    """An observer's device holds only their own visits and the export shows them only theirs: a calibration
    partner they cannot see leaves their visit counted on both (one of the pairs always has such a partner)."""
    walk_id = record_walk(team)
    for name in ("obs-a", "obs-b"):
        dev = team.devices[name]
        tally = device_tally(dev.path, walk_id)
        sheet = sheet_numbers(tallies_sheet(team.server.url, harness.token_of(dev)), walk_id)
        assert device_numbers(tally) == sheet
        own = [v for v in team.visits if v["observer"] == team.user(name)]
        assert tally["visits"] == len(counted(own))


def graded_rubric_yaml() -> str:
    """The built-in deeper-learning rubric as another rubric with one more look-for, for grades 3-12 only."""
    import yaml

    from rubrics import builtin_rubrics

    d = dict(builtin_rubrics())["deeper-learning@1"].model_dump(exclude_none=True, mode="json")
    d.update(id=GRADED_RUBRIC[0], version=GRADED_RUBRIC[1], title="Deeper learning with an upper-grades look-for")
    d["lookfors"].append({**d["lookfors"][0], "id": "dl.upper-grades", "label": "Upper grades", "grades": "3-12"})
    return yaml.safe_dump(d, sort_keys=False)


def record_graded_walk(team: Team) -> str:
    """A walk on a rubric with a 3-12 look-for besides subject-limited and unlimited ones: visits of K-2, of
    3-12 and with no grade, a rating left outside the 3-12 look-for's base by a later grade change, and a
    calibration pair."""
    with serverdata.client(team.server.url, team.admin_token) as c:
        assert c.patch("/api/v1/admin/settings", json={"small_cell_threshold": 1}).status_code == 200
        r = c.post("/api/v1/admin/rubrics", json={"filename": "dl-graded.yaml", "text": graded_rubric_yaml()})
        assert r.status_code == 201, r.text
    team.sync("lead", "obs-a", "obs-b")
    lead = team.devices["lead"]
    rubric = lead.capture.catalog.get(*GRADED_RUBRIC)
    walk = lead.capture.create_walk(school_id=team.district.school_id, rubric_id=GRADED_RUBRIC[0],
                                    rubric_version=GRADED_RUBRIC[1], focus=[lf.id for lf in rubric.lookfors[:2]],
                                    team=[team.user("obs-a"), team.user("obs-b")])
    team.sync("lead", "obs-a", "obs-b")

    def V(name, subject, grade, **kw):
        return team.visit(name, walk.id, subject, grade=grade, rubric_key=GRADED_RUBRIC, **kw)

    for name, subject, grade in (("lead", "Math", "K"), ("lead", "ELA", "1"), ("obs-a", "Math", "2"),
                                 ("obs-a", "ELA", "K"), ("obs-b", "Math", "4"), ("obs-b", "ELA", "10"),
                                 ("lead", None, None), ("obs-a", "Science", None), ("obs-b", "Math", "7")):
        V(name, subject, grade)
    V("lead", "ELA", "5", code="G1")
    V("obs-b", "ELA", "5", code="G1")  # the same classroom: counted once
    moved = V("obs-b", "Math", "4")
    team.devices["obs-b"].capture.update_visit(moved.id, grade="1")  # its ratings stay stored, outside the base
    team.visits[-1]["grade"] = "1"
    team.sync("obs-a", "obs-b", "lead", "lead")
    return walk.id


def test_a_grade_limited_lookfors_device_tally_equals_the_xlsx_tallies_sheet(team):
    walk_id = record_graded_walk(team)
    tally = device_tally(team.devices["lead"].path, walk_id)
    sheet = sheet_numbers(tallies_sheet(team.server.url, team.admin_token), walk_id)
    assert device_numbers(tally) == sheet

    # the walk holds what the parity is about: the 3-12 look-for's base leaves out the K-2 visits only
    expected = counted(team.visits)
    assert len(expected) == tally["visits"] == sheet["dl.grade-level-task"]["visits"]
    upper = [v for v in expected if v["grade"] not in ("PK", "K", "1", "2")]  # 3-12, or no grade recorded
    assert 0 < sheet["dl.upper-grades"]["visits"] == len(upper) < len(expected)
    assert sheet["dl.math-problem"]["visits"] == sum(v["subject"] in ("Math", None) for v in expected)
    assert all(n["rated"] + n["not_observed"] <= n["visits"] for n in sheet.values())


# ---- the demo district ----------------------------------------------------------------------------------------

@pytest.fixture
def demo(tmp_path):
    """The demo district built the way `learnwalk demo` builds it on its first run (app.demo.build_directory, then
    app.demo.record_walks against a running server), with that server still up for the export."""
    from app import demo as demo_app

    root = tmp_path / "demo"
    root.mkdir()
    db_url = f"sqlite:///{root / 'server.sqlite'}"
    facts = demo_app.build_directory(db_url)
    server = harness.ServerProc(db_url).start()
    try:
        demo_app.record_walks(root, server.url, facts)
        yield root, server
    finally:
        server.stop()


def test_the_demo_debrief_tally_equals_the_xlsx_tallies_sheet_for_every_walk(demo):
    root, server = demo
    lead_dir = root / "devices" / "lead"
    admin, lead = harness.new_device(root / "devices" / "admin"), harness.new_device(lead_dir)
    try:
        sheet = tallies_sheet(server.url, harness.token_of(admin))  # the demo's enrolled admin tablet's token
        walks = [w.id for w in lead.capture.walks()]
    finally:
        admin.engine.dispose()
        lead.engine.dispose()
    assert len(walks) == 3 and {r["walk_id"] for r in sheet} == set(walks)
    subject_limited = 0
    for walk_id in walks:
        tally = device_tally(lead_dir, walk_id)
        assert not tally["suppressed"]
        assert device_numbers(tally) == sheet_numbers(sheet, walk_id, tally["threshold"])
        numbers = sheet_numbers(sheet, walk_id)
        subject_limited += numbers["dl.math-problem"]["visits"] < numbers["dl.grade-level-task"]["visits"]
    assert subject_limited == len(walks)  # every walk has visits a subject-limited look-for does not apply to
