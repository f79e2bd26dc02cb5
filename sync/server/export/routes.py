"""HTTP face of exports: authenticated, streamed downloads of the caller's view of the synced data.

GET /api/v1/export/{format}?school=&from=&to=&walk=&rubric=   format: csv | csv-wide | xlsx | jsonl
Admins export their district, leads the visits of their walks, observers their own visits (sync.server.scope).
Each export is audited when it starts; the body streams while the database is read (no temp file, no timeout).
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from sync.server.db import writer
from sync.server.deps import CallerDep
from sync.server.directory import admin as admin_service
from sync.server.errors import ApiError
from sync.server.export import FORMATS, ExportError, ExportFilters, file_name, iter_export, media_type
from sync.server.models import School
from sync.server.scope import Scope

router = APIRouter(prefix="/api/v1/export", tags=["export"])


@router.get("/{fmt}", response_class=StreamingResponse,
            responses={200: {"content": {media_type(f).split(";")[0]: {} for f in FORMATS},
                             "description": "The export file, streamed"}})
def export(fmt: str, request: Request, caller: CallerDep,
           school: Annotated[str | None, Query(description="Only this school id")] = None,
           date_from: Annotated[str | None, Query(alias="from", description="Walks on or after (YYYY-MM-DD)")] = None,
           date_to: Annotated[str | None, Query(alias="to", description="Walks on or before (YYYY-MM-DD)")] = None,
           walk: Annotated[str | None, Query(description="Only this walk id")] = None,
           rubric: Annotated[str | None, Query(description="ID or ID@VERSION")] = None) -> StreamingResponse:
    """Download the synced ratings the caller may see, by stable look-for id (docs/export-formats.md)."""
    if fmt not in FORMATS:
        raise ApiError(404, f"There is no export format '{fmt}'; use one of {', '.join(FORMATS)}.")
    try:
        filters = ExportFilters.parse(school, date_from, date_to, walk, rubric)
    except ExportError as exc:
        raise ApiError(422, str(exc)) from None
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
