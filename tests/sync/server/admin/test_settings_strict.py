"""A district's settings are typed strictly over HTTP: a boolean where the privacy threshold is meant (or a number
where a switch is meant) is refused with 422 and a sentence, the threshold stays within 1 to 50, and nothing of a
refused change is written or audited, on SQLite and PostgreSQL. A whole number written 5.0 is 5."""
from __future__ import annotations

import pytest

from tests.support import serverdata


@pytest.fixture
def admin(world):
    with serverdata.client(world.url, world.north.members["admin"].token) as c:
        yield c


def _audited(admin) -> int:
    return len(admin.get("/api/v1/admin/audit", params={"action": "settings."}).json())


@pytest.mark.parametrize("change, status, words", [
    ({"small_cell_threshold": True}, 422,
     "Setting small_cell_threshold must be a whole number from 1 to 50 (classrooms), not true; send it as a JSON "
     "number."),
    ({"small_cell_threshold": False}, 422, "small_cell_threshold must be a whole number from 1 to 50"),
    ({"small_cell_threshold": 5.5}, 422, "small_cell_threshold must be a whole number from 1 to 50 (classrooms), "
                                         "not 5.5"),
    ({"small_cell_threshold": "5"}, 422, 'not "5"; send it as a JSON number'),
    ({"record_class_type": 1}, 422, "Setting record_class_type must be true or false, not 1; send it as a JSON "
                                    "boolean."),
    ({"allow_identifying_fields": "true"}, 422, "allow_identifying_fields must be true or false"),
    ({"small_cell_threshold": 0}, 400, "between 1 and 50"),
    ({"small_cell_threshold": 51}, 400, "between 1 and 50"),
    ({"small_cell_threshold": 2**63}, 400, "between 1 and 50"),
    ({"threshold": 5}, 400, "Unknown setting threshold; the settings are small_cell_threshold"),
    ({"threshold": None}, 400, "Unknown setting threshold; the settings are small_cell_threshold"),
    ([5], 422, "must be a JSON object"),
], ids=["true", "false", "fraction", "text", "number for a switch", "text for a switch", "0", "51", "2^63", "unknown",
        "unknown with a null", "not an object"])
def test_a_setting_of_the_wrong_type_or_out_of_range_is_refused_and_nothing_changes(world, admin, change, status,
                                                                                     words):
    before, audited = admin.get("/api/v1/admin/settings").json(), _audited(admin)
    answer = admin.patch("/api/v1/admin/settings", json=change)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert words in answer.json()["detail"]
    assert admin.get("/api/v1/admin/settings").json() == before
    assert _audited(admin) == audited


def test_the_strict_settings_still_take_numbers_and_booleans_and_null_is_not_given(world, admin):
    before = admin.get("/api/v1/admin/settings").json()
    new = 7 if before["small_cell_threshold"] != 7 else 6
    ok = admin.patch("/api/v1/admin/settings", json={"small_cell_threshold": new, "record_class_type": None,
                                                     "allow_identifying_fields": before["allow_identifying_fields"]})
    assert ok.status_code == 200, ok.text
    assert ok.json() == before | {"small_cell_threshold": new}
    # JSON has one kind of number: 6.0 is the whole number 6 (as the schema's "integer" says)
    whole = admin.patch("/api/v1/admin/settings", json={"small_cell_threshold": float(new - 1)})
    assert whole.status_code == 200 and whole.json()["small_cell_threshold"] == new - 1, whole.text
    assert type(whole.json()["small_cell_threshold"]) is int
    assert admin.patch("/api/v1/admin/settings", json={"small_cell_threshold": before["small_cell_threshold"]}
                       ).status_code == 200


def test_the_schema_describes_the_settings_strictly(world, admin):
    spec = admin.get("/openapi.json").json()
    body = spec["paths"]["/api/v1/admin/settings"]["patch"]["requestBody"]["content"]["application/json"]["schema"]
    threshold = body["properties"]["small_cell_threshold"]["anyOf"][0]
    assert (threshold["type"], threshold["minimum"], threshold["maximum"]) == ("integer", 1, 50)
    assert body["additionalProperties"] is False
