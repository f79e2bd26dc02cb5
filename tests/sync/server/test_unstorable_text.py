"""Text no database can hold (a NUL, a lone surrogate) in any request field outside push is refused with 422
problem+json naming the field in a sentence, never a 500, and nothing is written, on SQLite and PostgreSQL:
enrollment, admin schools, users and rubrics (the file name and every text of the rubric), path and query
parameters of the admin and export routes. (A push refuses such text per record: tests/sync/server/ingest.)"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from sync.server.models import AuditLog, Device, School, User
from tests.support import serverdata

NUL, SURROGATE = "a\x00b", "a\ud800b"
_RUBRIC = (Path(__file__).parents[3] / "rubrics" / "data" / "sample-district.yaml").read_text()


@pytest.fixture
def admin(server, district):
    token = serverdata.enroll(server.url, district.code(district.user("admin")))["token"]
    with serverdata.client(server.url, token) as c:
        yield c


def _send(c, method: str, url: str, body=None):
    # json.dumps escapes a lone surrogate as \ud800, which the stdlib parser behind FastAPI reads back as one
    content = None if body is None else json.dumps(body).encode()
    return c.request(method, url, content=content, headers={"Content-Type": "application/json"} if body else {})


def _refused(answer, field: str, text: str) -> None:
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    detail = answer.json()["detail"]
    assert field in detail, detail
    # pydantic's own str check refuses a lone surrogate ("not a valid string ... unicode") before ours can
    words = ("NUL character",) if "\x00" in text else ("lone surrogate", "unicode string")
    assert any(w in detail for w in words), detail


def _written(server_db, district) -> tuple[int, ...]:
    return (len(server_db.rows(School, School.district_id == district.id)),
            len(server_db.rows(User, User.district_id == district.id)),
            len(server_db.rows(Device, Device.district_id == district.id)),
            len(server_db.rows(AuditLog, AuditLog.district_id == district.id)))


@pytest.mark.parametrize("text", [NUL, SURROGATE], ids=["NUL", "surrogate"])
@pytest.mark.parametrize("field", ["code", "device_name"])
def test_enrollment_refuses_unstorable_text(server, server_db, district, text, field):
    code = district.code(district.user("observer"))
    before = _written(server_db, district)
    body = {"code": code, "device_name": "tablet"} | {field: text if field == "device_name" else code[:4] + text}
    with serverdata.client(server.url) as c:
        _refused(_send(c, "POST", "/api/v1/enroll", body), field, text)
        assert _written(server_db, district) == before
        assert c.post("/api/v1/enroll", json={"code": code, "device_name": "tablet"}).status_code == 200


def _titled(title_escape: str) -> str:
    lines = _RUBRIC.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("title:"))
    lines[at] = f'title: "Walk {title_escape}"\n'
    return "".join(lines).replace("\nversion: 1\n", "\nversion: 90\n", 1)


_BODY_CASES = [
    ("school name", lambda t: ("POST", "/api/v1/admin/schools", {"name": t}), "name"),
    ("email", lambda t: ("POST", "/api/v1/admin/users", {"email": f"x{t}@example.org", "role": "lead"}), "email"),
    ("rubric filename", lambda t: ("POST", "/api/v1/admin/rubrics", {"filename": f"r{t}.yaml", "text": _RUBRIC}),
     "filename"),
    ("rubric title", lambda t: ("POST", "/api/v1/admin/rubrics", {
        "filename": "r.yaml", "text": _titled("\\0" if "\x00" in t else "\\ud800")}), "title"),
]
# a lone surrogate cannot reach a path or query (URL decoding gives U+FFFD for broken UTF-8): NUL only
_URL_CASES = [
    ("user path", ("PATCH", "/api/v1/admin/users/u%00", {"active": False}), "user_id"),
    ("code path", ("POST", "/api/v1/admin/users/u%00/enrollment-code", None), "user_id"),
    ("device path", ("POST", "/api/v1/admin/devices/d%00/revoke", None), "device_id"),
    ("rubric path", ("GET", "/api/v1/admin/rubrics/r%00/1", None), "rubric_id"),
    ("audit query", ("GET", "/api/v1/admin/audit?action=x%00", None), "action"),
    ("export school", ("GET", "/api/v1/export/csv?school=s%00", None), "school"),
    ("export walk", ("GET", "/api/v1/export/jsonl?walk=w%00", None), "walk"),
    ("export rubric", ("GET", "/api/v1/export/xlsx?rubric=r%00", None), "rubric"),
]
_CASES = [pytest.param(make(text), field, text, id=f"{name}-{tid}") for name, make, field in _BODY_CASES
          for text, tid in ((NUL, "NUL"), (SURROGATE, "surrogate"))] + \
         [pytest.param(call, field, NUL, id=f"{name}-NUL") for name, call, field in _URL_CASES]


@pytest.mark.parametrize("call, field, text", _CASES)
def test_admin_and_export_inputs_refuse_unstorable_text(server_db, district, admin, call, field, text):
    method, url, body = call
    before = _written(server_db, district)
    answer = _send(admin, method, url, body)
    if field == "title":  # the rubric's own refusal: file:line and the field
        assert answer.status_code == 422, answer.text
        assert "r.yaml:" in answer.json()["detail"] and "`title`" in answer.json()["detail"]
        assert ("NUL character" if "\x00" in text else "lone surrogate") in answer.json()["detail"]
    else:
        _refused(answer, field, text)
    assert _written(server_db, district) == before


def test_an_unknown_setting_whose_name_cannot_be_stored_is_refused_in_words(admin):
    answer = _send(admin, "PATCH", "/api/v1/admin/settings", {"threshold\ud800\x00": 5})
    assert answer.status_code == 400, answer.text
    assert "Unknown setting threshold\\ud800\\x00" in answer.json()["detail"]
