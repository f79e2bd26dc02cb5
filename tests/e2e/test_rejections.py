"""A rejected entry stays on the device with its reason, is shown in the sync status, and blocks nothing."""
from __future__ import annotations

import re
from pathlib import Path

from sqlmodel import Session

from app.store.models import Outbox
from rubrics import builtin_rubric_paths
from tests.support import serverproc as harness


def _unknown_version_yaml() -> str:
    path = next(p for p in builtin_rubric_paths() if Path(p).stem == "deeper-learning")
    text = Path(path).read_text(encoding="utf-8")
    return re.sub(r"(?m)^version: \d+$", "version: 99", text, count=1)


def _walk_on_unknown_version(dev, district):
    """A walk on deeper-learning@99: a version this device holds and the district's server does not."""
    with Session(dev.engine) as s:
        dev.capture.catalog.remember(s, _unknown_version_yaml(), "test")
        s.commit()
    rubric = dev.capture.catalog.get("deeper-learning", 99)
    return dev.capture.create_walk(school_id=district.school_id, rubric_id="deeper-learning", rubric_version=99,
                                   focus=[rubric.lookfors[0].id])


def test_a_walk_on_an_unknown_rubric_version_is_rejected_kept_and_shown(server, district, device):
    dev = device("lead")
    dev.sync.sync_once()
    walk = _walk_on_unknown_version(dev, district)
    dev.capture.start_visit(walk.id, grade="2")
    good = harness.new_walk(dev, district.school_id)  # later work is not blocked by the rejection

    report = dev.sync.sync_once()

    assert (report.applied, report.rejected) == (1, 2)
    status = dev.sync.status()
    assert status.pending == 0
    reasons = {r.kind: r.reason for r in status.rejected}
    assert "deeper-learning@99 is not known to this district" in reasons["walk"]
    assert "which the server does not have" in reasons["visit"]
    assert {w.id for w in dev.capture.walks()} == {walk.id, good.id}  # nothing dropped on the device
    again = dev.sync.sync_once()  # rejected entries are not sent again
    assert (again.applied, again.rejected, len(dev.sync.status().rejected)) == (0, 0, 2)


def test_an_edit_of_someone_elses_visit_is_rejected_and_kept_with_its_reason(server, district, device):
    owner, lead = device("observer"), device("lead")
    owner.sync.sync_once()
    lead.sync.sync_once()
    walk = harness.new_walk(lead, district.school_id, team=[harness.user_of(owner)])
    lead.sync.sync_once()
    owner.sync.sync_once()
    (vid,) = harness.record_visits(owner, walk.id, 1, ratings=0)
    owner.sync.sync_once()
    lead.sync.sync_once()  # the lead now holds the observer's visit
    visit = lead.capture.visit(vid)
    with Session(harness.writer_of(lead)) as s:  # a device that edits it anyway (an old app, a bug)
        snapshot = visit.model_dump(mode="json") | {"grade": "5"}
        s.add(Outbox(kind="visit", record_id=vid, walk_id=walk.id, data=snapshot))
        s.commit()

    report = lead.sync.sync_once()

    assert report.rejected == 1
    (rejected,) = lead.sync.status().rejected
    assert (rejected.kind, rejected.record_id) == ("visit", vid)
    assert rejected.reason == f"visit {vid} belongs to another observer."
    assert rejected.at is not None


def test_rejected_entries_sent_again_after_the_cause_is_fixed_are_applied(server, server_db, district, device):
    from sync.server.directory.admin import publish_rubric
    from sync.server.deps import Caller

    dev = device("lead")
    dev.sync.sync_once()
    walk = _walk_on_unknown_version(dev, district)
    dev.sync.sync_once()
    assert len(dev.sync.status().rejected) == 1
    admin = district.user("admin")
    with server_db.write() as s:
        publish_rubric(s, Caller("test", admin, "admin", district.id), _unknown_version_yaml(), "dl99.yaml")

    assert dev.sync.retry_rejected() == 1
    report = dev.sync.sync_once()

    assert (report.applied, report.rejected) == (1, 0)
    assert dev.sync.status().rejected == [] and dev.sync.status().pending == 0
    assert [w.id for w in dev.capture.walks()] == [walk.id]
