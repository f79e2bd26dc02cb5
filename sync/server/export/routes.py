"""HTTP face of exports: authenticated, streamed downloads of the caller's view of the synced data.

GET /api/v1/export/{format}?school=&from=&to=&walk=&rubric=   format: csv | csv-wide | xlsx | jsonl
Admins export their district, leads the visits of their walks, observers their own visits (sync.server.scope).
Each export is audited when it starts; the body streams while the database is read (no temp file, no timeout).
"""
from __future__ import annotations

from typing import Annotated

import re

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from sync.server.db import writer
from sync.server.deps import CallerDep
from sync.server.directory import admin as admin_service
from sync.protocol.text import SPACES
from sync.server.errors import DATE_RANGE, ApiError
from sync.server.export import FORMATS, ExportError, ExportFilters, file_name, iter_export, media_type
from sync.server.models import School
from sync.server.scope import Scope

router = APIRouter(prefix="/api/v1/export", tags=["export"])

# the forms the filters take, stated in the schema and checked here (the dates strictly: YYYY-MM-DD)
DATE = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_DATE = re.compile(DATE)
RUBRIC = f"^[^@\\u0000]*(@([0-9]{{1,9}})?[{SPACES}]*)?$"  # ID, or ID@ and a version of up to 9 digits
_DATE_PARAM = {"format": "date", "pattern": DATE}


@router.get("/{fmt}", response_class=StreamingResponse,
            responses={200: {"content": {media_type(f).split(";")[0]: {} for f in FORMATS},
                             "description": "The export file, streamed"}})
def export(fmt: Annotated[str, Path(json_schema_extra={"enum": list(FORMATS)})], request: Request, caller: CallerDep,
           school: Annotated[str | None, Query(description="Only this school id")] = None,
           date_from: Annotated[str | None, Query(alias="from", description="Walks on or after (YYYY-MM-DD)",
                                                  json_schema_extra=_DATE_PARAM)] = None,
           date_to: Annotated[str | None, Query(alias="to", description="Walks on or before (YYYY-MM-DD)",
                                                json_schema_extra=_DATE_PARAM)] = None,
           walk: Annotated[str | None, Query(description="Only this walk id")] = None,
           rubric: Annotated[str | None, Query(description="ID or ID@VERSION", json_schema_extra={"pattern": RUBRIC})]
           = None) -> StreamingResponse:
    """Download the synced ratings the caller may see, by stable look-for id (docs/export-formats.md). A `from`
    after `to` is answered 422 of type urn:learnwalk:problem:date-range (the schema cannot compare two fields)."""
    if fmt not in FORMATS:
        raise ApiError(404, f"There is no export format '{fmt}'; use one of {', '.join(FORMATS)}.")
    for name, value in (("from", date_from), ("to", date_to)):
        if value is not None and not _DATE.match(value):
            raise ApiError(422, f"The '{name}' date '{value}' is not a date; write it as YYYY-MM-DD, e.g. 2026-09-30.")
    try:
        filters = ExportFilters.parse(school, date_from, date_to, walk, rubric)
    except ExportError as exc:
        raise ApiError(422, str(exc), type=DATE_RANGE if "date range is empty" in str(exc) else "about:blank") from None
    engine = request.app.state.engine
    with Session(writer(engine)) as s:
        admin_service.audit_export(s, caller, "ratings", fmt, filters.as_dict())
        s.commit()
        school = Scope(caller).get(s, School, filters.school_id) if filters.school_id else None
        name = file_name(fmt, filters, school.name if school else None)
    headers = {"Content-Disposition": f'attachment; filename="{name}"',
               "Cache-Control": "no-store"}
    return StreamingResponse(iter_export(engine, fmt, Scope(caller), filters), media_type=media_type(fmt),
                             headers=headers)
