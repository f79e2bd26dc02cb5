"""Exports a principal can read: the school's name, each visit's observer number and the evidence notes in the
export equal what the devices hold, after a team captured on tablets and synced through the real server.

Observer numbers are compared with the lead's tablet (the debrief's "Observer N", app.debrief.tally.observer_ids),
notes with the writing observers' tablets, school names with the schools every tablet received.
"""
from __future__ import annotations

import io

from sync.admin_client import AdminClient
from sync.server import directory
from sync.server.export.rows import LONG_COLUMNS, NOTE_COLUMNS, VISIT_COLUMNS
from tests.support import readback
from tests.support import serverproc as harness

NOTES = ["Pairs compared two methods, then agreed", 'One said "because the graph rises"',
         "=SUM(A1) written on the board", "Élèves: exit ticket collected"]


def _download(server, admin_dev, fmt: str) -> bytes:
    out = io.BytesIO()
    with AdminClient(server.url, harness.token_of(admin_dev)) as c:
        c.export(fmt, {}, out)
    return out.getvalue()


def _team_walks(server, district, device):
    """Two walks at two schools; the lead and two observers visit both, writing notes on rated look-fors (one
    look-for gets two notes), and everyone syncs; returns (lead, observers, admin)."""
    with district.db.write() as s:
        harbor = directory.create_school(s, district.id, "Harbor High, East campus").id
    lead, obs_a, obs_b, admin = device("lead"), device("observer"), device("observer"), device("admin")
    for d in (lead, obs_a, obs_b, admin):
        d.sync.sync_once()
    team = [harness.user_of(obs_a), harness.user_of(obs_b)]
    walks = [harness.new_walk(lead, school, team=team) for school in (district.school_id, harbor)]
    lead.sync.sync_once()
    k = 0
    for dev, n in ((lead, 1), (obs_a, 2), (obs_b, 2)):
        dev.sync.sync_once()
        for walk in walks:
            for vid in harness.record_visits(dev, walk.id, n):
                rated = sorted(dev.capture.ratings(vid))
                dev.capture.add_note(vid, NOTES[k % len(NOTES)], lookfor_id=rated[0])
                if k % 3 == 0:
                    dev.capture.add_note(vid, f"Second note {k}", lookfor_id=rated[0])
                dev.capture.add_note(vid, f"About look-for two, visit {k}", lookfor_id=rated[1])
                k += 1
        dev.sync.sync_once()
    lead.sync.sync_once()
    return lead, (obs_a, obs_b), admin, walks


def _device_truth(lead, writers, walks):
    """{visit_id: (school name, observer number, {lookfor_id: notes text})} as the devices hold them."""
    from app.debrief.tally import observer_ids

    names = {s.id: s.name for s in lead.capture.schools()}
    truth = {}
    for walk in walks:
        with lead.capture.engine.connect() as conn:
            numbers = {o: n for n, o in enumerate(observer_ids(conn, walk.id), start=1)}
        for v in lead.capture.visits(walk.id):
            writer = next(d for d in writers if v.id in {x.id for x in d.capture.visits(walk.id)})
            notes: dict[str, list] = {}
            for note in sorted(writer.capture.notes(v.id), key=lambda n: n.id):
                notes.setdefault(note.lookfor_id, []).append(note.text)
            truth[v.id] = (names[walk.school_id], numbers[v.observer_id],
                           {lf: "\n".join(texts) for lf, texts in notes.items()})
    return truth


def test_school_names_observer_numbers_and_notes_in_the_exports_match_the_devices(server, district, device):
    lead, observers, admin, walks = _team_walks(server, district, device)
    truth = _device_truth(lead, [lead, *observers], walks)
    assert len(truth) == 2 * (1 + 2 + 2)
    assert {n for _, n, _ in truth.values()} == {1, 2, 3}
    assert len({s for s, _, _ in truth.values()}) == 2

    rows = readback.csv_rows(_download(server, admin, "csv"))
    assert list(rows[0])[:20] == LONG_COLUMNS[:20]  # today's columns first, as before
    assert {r["visit_id"] for r in rows} == set(truth)
    for r in rows:
        school, number, notes = truth[r["visit_id"]]
        note = notes.get(r["lookfor_id"], "")
        unguarded = r["notes"][1:] if r["notes"].startswith("'=") else r["notes"]
        assert (r["school_name"], r["observer_no"], unguarded) == (school, str(number), note)
    assert sum(1 for r in rows if r["notes"]) == sum(len(n) for _, _, n in truth.values())

    sheets = readback.xlsx_sheets(_download(server, admin, "xlsx"))
    visits = [dict(zip(VISIT_COLUMNS, r)) for r in sheets["Visits"][1:]]
    assert {v["visit_id"]: (v["school_name"], v["observer_no"]) for v in visits} == {
        vid: (s, n) for vid, (s, n, _) in truth.items()}
    ratings = [dict(zip(LONG_COLUMNS, r)) for r in sheets["Ratings"][1:]]
    assert all(r["notes"] == truth[r["visit_id"]][2].get(r["lookfor_id"], "") for r in ratings)
    assert list(sheets["Notes"][0]) == NOTE_COLUMNS
    got: dict[tuple, list] = {}
    for r in (dict(zip(NOTE_COLUMNS, row)) for row in sheets["Notes"][1:]):
        assert (r["school_name"], r["observer_no"]) == truth[r["visit_id"]][:2]
        assert r["lookfor_label"]  # the look-for in words beside its id
        got.setdefault((r["visit_id"], r["lookfor_id"]), []).append(r["text"])
    assert {k: "\n".join(v) for k, v in got.items()} == {
        (vid, lf): text for vid, (_, _, notes) in truth.items() for lf, text in notes.items()}

    wide = readback.csv_rows(_download(server, admin, "csv-wide"))
    assert {r["visit_id"]: (r["school_name"], r["observer_no"]) for r in wide} == {
        vid: (s, str(n)) for vid, (s, n, _) in truth.items()}
