"""Edits and deletes of synced visits, ratings and notes by their own device are in the audit log (who, what,
when; old and new value for a rating), which admins read and export; a note's words never are."""
from __future__ import annotations

from sync.protocol import rating_id
from sync.server.models import AuditLog
from tests.support import serverproc as harness


def _entries(server_db, district_id, *actions):
    return sorted(server_db.rows(AuditLog, AuditLog.district_id == district_id, AuditLog.action.in_(actions)),
                  key=lambda e: e.id)


def test_own_edits_of_synced_records_are_audited_and_admins_read_and_export_them(server, server_db, district,
                                                                                   device):
    obs, admin = device("observer"), device("admin")
    obs.sync.sync_once()
    walk = harness.new_walk(obs, district.school_id)
    (vid,) = harness.record_visits(obs, walk.id, 1)
    note = obs.capture.set_note(vid, None, "Students compared two strategies")
    rubric = obs.capture.catalog.get(*harness.RUBRIC)
    lf = rubric.lookfors[0]
    first, second = rubric.scale_of(lf.id).values()[:2]
    obs.capture.rate(vid, lf.id, first)
    obs.sync.sync_once()
    assert _entries(server_db, district.id, "rating.edited", "visit.edited", "note.edited") == []  # first sync

    obs.capture.rate(vid, lf.id, second)
    obs.capture.update_visit(vid, grade="5")
    obs.capture.set_note(vid, None, "Students compared three strategies")
    obs.sync.sync_once()
    obs.capture.delete_visit(vid)
    obs.sync.sync_once()

    device_id = obs.sync.store.meta("device_id")["device_id"]
    [rating] = _entries(server_db, district.id, "rating.edited")
    assert (rating.actor, rating.record_id) == (device_id, rating_id(vid, lf.id))
    assert rating.before["value"] == first and rating.after["value"] == second and rating.at is not None
    [visit] = _entries(server_db, district.id, "visit.edited")
    assert visit.record_id == vid and visit.before == {"grade": "3"} and visit.after["grade"] == "5"
    [edited_note] = _entries(server_db, district.id, "note.edited")
    assert edited_note.record_id == note.id and edited_note.after == {"fields": ["text"]}
    assert "strategies" not in repr(edited_note.before) + repr(edited_note.after)
    [deleted] = _entries(server_db, district.id, "visit.deleted")
    assert deleted.record_id == vid

    with harness.api(server.url, harness.token_of(admin)) as api:
        listed = api.get("/api/v1/admin/audit", params={"action": "rating."}).json()
        assert [e["record_id"] for e in listed] == [rating_id(vid, lf.id)]
        exported = api.get("/api/v1/admin/audit/export", params={"format": "csv"}).text
    assert "rating.edited" in exported and "visit.deleted" in exported and "strategies" not in exported
