"""A rubric's look-for details (descriptors, source, short_visit, grades) travel whole: published to the real
server, registered as a built-in, and pulled by a device, which reads them back exactly."""
from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from app.store.models import RubricDoc
from rubrics import builtin_rubric_paths, builtin_rubrics, load_rubric
from tests.support import serverproc as harness

DETAILS = Path(__file__).parents[1] / "fixtures" / "rubrics" / "valid-details.yaml"


def test_published_and_built_in_details_reach_a_device_whole(server, district, device):
    admin = device("admin")
    with harness.api(server.url, harness.token_of(admin)) as c:
        r = c.post("/api/v1/admin/rubrics", json={"filename": DETAILS.name, "text": DETAILS.read_text()})
        assert r.status_code in (200, 201), r.text
    lead = device("lead")
    lead.sync.sync_once()

    pulled = lead.capture.catalog.get("fixture-details", 1)
    assert pulled is not None and pulled == load_rubric(DETAILS)
    lf = pulled.lookfor("fx.grade-level")
    assert lf.descriptor("4") == "The whole task asks what the standards ask." and lf.grades == "3-12"
    assert lf.source.url == "https://example.org/ipg" and lf.short_visit is False

    # the built-in v2 rubrics came with the pull as the server registered them: the file's text, unchanged
    with Session(lead.engine) as s:
        doc = s.get(RubricDoc, "deeper-learning@2")
    dl_file = next(p for p in builtin_rubric_paths() if p.name == "deeper-learning.yaml")
    assert doc is not None and doc.yaml_text == dl_file.read_text(encoding="utf-8")
    assert doc.content_hash == builtin_rubrics()["deeper-learning@2"].content_hash()
