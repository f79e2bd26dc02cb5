"""HTTP face of administration (admin role only): rubrics, schools, users, enrollment codes, devices, settings, audit.

Routes parse and present; the rules live in sync.server.directory.admin. Every change is audited there, in the
same transaction as the change. Rubric problems come back as problem+json with `problems`, one
`file:line: what; how to fix` sentence each (the same as `learnwalk rubric validate`), and nothing is published.
"""
from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any, Iterator, Literal

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

import re

from rubrics import RubricInvalid
from sync.protocol.text import SPACES, STORABLE_CHAR, StoredText
from sync.server.db import writer
from sync.server.deps import CallerDep, SessionDep, WriteSessionDep
from sync.server.directory import admin as svc
from sync.server.directory.people import EMAIL_PATTERN
from sync.server.errors import RUBRIC_CONTENT, ApiError, printable, problem

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


def _admin(caller) -> None:
    caller.require("admin")


def _run(fn, *args):
    try:
        return fn(*args)
    except svc.AdminError as exc:
        raise ApiError(exc.status, str(exc)) from None


# a rubric file's name ends in .yaml, .yml or .csv, in any case (the same pattern in the schema and here)
RUBRIC_FILENAME = f"^{STORABLE_CHAR}*\\.([yY][aA]?[mM][lL]|[cC][sS][vV])$"
_RUBRIC_FILENAME = re.compile(RUBRIC_FILENAME)
# text that is not only spaces once trimmed (the server trims names)
NOT_BLANK = f"^{STORABLE_CHAR}*[^\\u0000{SPACES}]{STORABLE_CHAR}*$"


class RubricUpload(BaseModel):
    filename: StoredText = Field(min_length=1, max_length=200, description="Ends in .yaml, .yml or .csv",
                                 json_schema_extra={"pattern": RUBRIC_FILENAME})
    text: str = Field(max_length=2_000_000, description="The file's text (UTF-8); its content is checked by the "
                                                        "rubric format (docs/rubric-format.md), which this schema "
                                                        "does not state: see the 422 of type " + RUBRIC_CONTENT)


class NewSchool(BaseModel):
    name: StoredText = Field(min_length=1, max_length=200, json_schema_extra={"pattern": NOT_BLANK})


class NewUser(BaseModel):
    email: StoredText = Field(min_length=3, max_length=254, json_schema_extra={"pattern": EMAIL_PATTERN},
                              description="name@domain.tld (trimmed and stored in lower case)")
    role: Literal["observer", "lead", "admin"]


class UserChange(BaseModel):
    role: Literal["observer", "lead", "admin"] | None = None
    active: bool | None = None


class SettingsChange(BaseModel):
    """A settings change as the admin API documents it; the body is checked strictly by svc.check_settings (no
    coercion: pydantic's lax mode would read true as 1)."""
    model_config = ConfigDict(extra="forbid", strict=True)
    small_cell_threshold: int | None = Field(None, ge=svc.THRESHOLD_MIN, le=svc.THRESHOLD_MAX,
                                             description="Tallies of fewer classrooms are not shown")
    record_class_type: bool | None = None
    allow_identifying_fields: bool | None = None


@router.get("/rubrics")
def list_rubrics(caller: CallerDep, s: SessionDep) -> list[dict]:
    """Every published rubric version of the district (old versions stay readable)."""
    _admin(caller)
    return svc.list_rubrics(s, caller)


@router.get("/rubrics/{rubric_id}/{version}")
def rubric_text(rubric_id: str, version: Annotated[int, Path(ge=1, le=2**31 - 1)], caller: CallerDep,
                s: SessionDep) -> dict:
    _admin(caller)
    return {"rubric_id": rubric_id, "version": version, "yaml": _run(svc.rubric_text, s, caller, rubric_id, version)}


@router.post("/rubrics", status_code=201)
def publish_rubric(body: RubricUpload, caller: CallerDep, s: WriteSessionDep):
    """Validate an uploaded YAML or CSV rubric and publish it as a new version; devices get it on their next pull.
    A file whose content breaks the rubric format (which this schema does not state) is answered 422 of type
    urn:learnwalk:problem:rubric-content, with `problems` (file:line: what; how to fix); nothing is published."""
    _admin(caller)
    if not _RUBRIC_FILENAME.match(body.filename):
        raise ApiError(422, f"{body.filename} is not a rubric file; upload a .yaml, .yml or .csv file.")
    try:
        row = svc.publish_rubric(s, caller, body.text, body.filename)
    except RubricInvalid as exc:
        problems = [printable(str(p)) for p in exc.problems]
        detail = (f"The rubric was not published: {len(problems)} problem{'s' if len(problems) != 1 else ''} "
                  f"to fix. {problems[0]}")
        return problem(422, detail, type=RUBRIC_CONTENT, problems=problems)
    s.commit()
    return {"rubric_id": row.rubric_id, "version": row.version, "content_hash": row.content_hash}


@router.get("/schools")
def list_schools(caller: CallerDep, s: SessionDep) -> list[dict]:
    _admin(caller)
    return svc.list_schools(s, caller)


@router.post("/schools", status_code=201)
def create_school(body: NewSchool, caller: CallerDep, s: WriteSessionDep) -> dict:
    _admin(caller)
    school = _run(svc.create_school, s, caller, body.name)
    s.commit()
    return {"id": school.id, "name": school.name}


@router.get("/users")
def list_users(caller: CallerDep, s: SessionDep) -> list[dict]:
    _admin(caller)
    return svc.list_users(s, caller)


@router.post("/users", status_code=201)
def create_user(body: NewUser, caller: CallerDep, s: WriteSessionDep) -> dict:
    _admin(caller)
    user = _run(svc.create_user, s, caller, body.email, body.role)
    s.commit()
    return {"id": user.id, "email": user.email, "role": user.role, "active": user.active}


@router.patch("/users/{user_id}")
def update_user(user_id: str, body: UserChange, caller: CallerDep, s: WriteSessionDep) -> dict:
    """Change a user's role, or deactivate them (their devices stop syncing at once)."""
    _admin(caller)
    user = _run(svc.update_user, s, caller, user_id, body.role, body.active)
    s.commit()
    return {"id": user.id, "email": user.email, "role": user.role, "active": user.active}


@router.post("/users/{user_id}/enrollment-code", status_code=201)
def enrollment_code(user_id: str, caller: CallerDep, s: WriteSessionDep, request: Request) -> dict:
    """A one-time code for enrolling a device for this user (shown once; only its hash is kept)."""
    _admin(caller)
    ttl = request.app.state.settings.code_ttl_hours
    code = _run(svc.issue_code, s, caller, user_id, ttl)
    s.commit()
    return {"code": code, "expires_in_hours": ttl}


@router.get("/devices")
def list_devices(caller: CallerDep, s: SessionDep) -> list[dict]:
    """Enrolled devices with their last sync time and whether they are revoked."""
    _admin(caller)
    return svc.list_devices(s, caller)


@router.post("/devices/{device_id}/revoke")
def revoke_device(device_id: str, caller: CallerDep, s: WriteSessionDep) -> dict:
    """Stop a device's token at once (its unsynced data stays on the device)."""
    _admin(caller)
    device = _run(svc.revoke_device, s, caller, device_id)
    s.commit()
    return {"id": device.id, "revoked_at": svc.plain(device.revoked_at)}


@router.get("/settings")
def get_settings(caller: CallerDep, s: SessionDep) -> dict:
    _admin(caller)
    return svc.get_settings(s, caller)


@router.patch("/settings", openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
    "schema": SettingsChange.model_json_schema()}}}})
def update_settings(body: Annotated[Any, Body()], caller: CallerDep, s: WriteSessionDep) -> dict:
    """Small-cell threshold, whether class type is recorded, whether identifying fields are allowed."""
    _admin(caller)
    result = _run(svc.update_settings, s, caller, body)
    s.commit()
    return result


@router.get("/audit")
def audit_log(caller: CallerDep, s: SessionDep,
              limit: Annotated[int, Query(ge=1, le=1000)] = 200,
              before_id: Annotated[int | None, Query(ge=1, le=2**31 - 1,
                                                     description="Page on: the smallest id already shown")] = None,
              action: Annotated[str | None, Query(description="Action prefix, e.g. rubric. or export")] = None
              ) -> list[dict]:
    """The audit log, newest first: who (a user id), when, what, before and after."""
    _admin(caller)
    return svc.audit_entries(s, caller, limit, before_id, action)


@router.get("/quarantine")
def quarantine(caller: CallerDep, s: SessionDep, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict]:
    """Stored rows that broke the rules of what a store keeps, set aside with their original content (as JSON text)
    and the reason; each has an audit entry of action "quarantine"."""
    _admin(caller)
    return svc.quarantined(s, caller, limit)


def _audit_stream(engine, caller, fmt: str) -> Iterator[bytes]:
    with Session(engine) as s:
        rows = s.exec(svc.audit_query(caller).execution_options(yield_per=1000))
        if fmt == "csv":
            buf = io.StringIO()
            out = csv.writer(buf)
            out.writerow(svc.AUDIT_COLUMNS)
            for r in rows:
                row = svc.audit_row(r)
                row["before"], row["after"] = (json.dumps(row[k], sort_keys=True) if row[k] is not None else ""
                                               for k in ("before", "after"))
                out.writerow([row[c] for c in svc.AUDIT_COLUMNS])
                if buf.tell() > 65536:
                    yield buf.getvalue().encode()
                    buf.seek(0)
                    buf.truncate()
            yield buf.getvalue().encode()
        else:
            for r in rows:
                yield (json.dumps(svc.audit_row(r), ensure_ascii=False) + "\n").encode()


@router.get("/audit/export", response_class=StreamingResponse)
def export_audit(caller: CallerDep, request: Request,
                 fmt: Annotated[Literal["csv", "jsonl"], Query(alias="format")] = "csv") -> StreamingResponse:
    """The whole audit log of the district, oldest first, streamed (this export is itself audited)."""
    _admin(caller)
    engine = request.app.state.engine
    with Session(writer(engine)) as s:
        svc.audit_export(s, caller, "audit", fmt, {})
        s.commit()
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson; charset=utf-8"
    return StreamingResponse(_audit_stream(engine, caller, fmt), media_type=media,
                             headers={"Content-Disposition": f'attachment; filename="learnwalk-audit.{fmt}"'})
