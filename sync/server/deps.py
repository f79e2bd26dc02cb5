"""Request dependencies declared once: database sessions, the protocol check, and the caller.

Every authenticated route takes `CallerDep` (who is calling: device, user, role, district) and builds its
queries through `Scope(caller)` (sync.server.scope); no route filters by district or role by hand.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Iterator

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION
from sync.protocol.text import STORABLE_PATTERN, unstorable
from sync.server.db import writer
from sync.server.errors import ApiError
from sync.server.models import Device, User
from sync.server.security import digest

ROLES = ("observer", "lead", "admin")


@dataclass(frozen=True)
class Caller:
    device_id: str
    user_id: str
    role: str
    district_id: str

    def require(self, *roles: str) -> None:
        """Stop with 403 unless the caller has one of these roles."""
        if self.role not in roles:
            raise ApiError(403, f"This needs the {' or '.join(roles)} role; ask your district admin.")


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def get_settings(request: Request):
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    with Session(get_engine(request), expire_on_commit=False) as s:
        yield s


def get_write_session(request: Request) -> Iterator[Session]:
    with Session(writer(get_engine(request)), expire_on_commit=False) as s:
        yield s


def storable_params(request: Request) -> None:
    """Every route's path and query parameters are looked up or stored as text: one no database can hold (a NUL
    from %00; URL decoding turns broken UTF-8 into U+FFFD, never a surrogate) is refused with 422 naming it."""
    for where, params in (("path", request.path_params), ("query", request.query_params)):
        for name, value in params.items():
            why = unstorable(name) or (unstorable(value) if isinstance(value, str) else None)
            if why is not None:
                shown = name if unstorable(name) is None else "a parameter name"
                raise ApiError(422, f"The {where} parameter {shown} {why}.")


def _storable_strings(schema: dict) -> None:
    if schema.get("type") == "string" and "pattern" not in schema and "enum" not in schema:
        schema["pattern"] = STORABLE_PATTERN
    for alternative in schema.get("anyOf", ()):
        _storable_strings(alternative)


def state_storable_params(app) -> None:
    """/openapi.json states storable_params' rule: every text path and query parameter without a pattern of its
    own gets sync.protocol.text.STORABLE_PATTERN (no NUL, no lone surrogate)."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            for item in build().get("paths", {}).values():
                for op in item.values():
                    for param in op.get("parameters", ()):
                        _storable_strings(param.get("schema", {}))
        return app.openapi_schema

    app.openapi = openapi


def check_protocol(request: Request) -> int:
    raw = request.headers.get(PROTOCOL_HEADER)
    if raw is None or raw.strip() != str(PROTOCOL_VERSION):
        got = f"version {raw.strip()}" if raw else f"no {PROTOCOL_HEADER} header"
        newer = raw is not None and raw.strip().isdigit() and int(raw.strip()) > PROTOCOL_VERSION
        fix = ("ask your admin to update the server; the app keeps every visit until then" if newer
               else "update the app (or send the header)")
        raise ApiError(426, f"This server speaks sync protocol {PROTOCOL_VERSION} and the request sent {got}; {fix}.")
    return PROTOCOL_VERSION


def caller_from_token(session: Session, token: str | None) -> Caller:
    """Resolve a bearer token to its device and user, or stop with 401."""
    if not token:
        raise ApiError(401, "This request has no device token; enroll the device with a code from your admin.",
                       {"WWW-Authenticate": "Bearer"})
    row = session.exec(select(Device, User).join(User, User.id == Device.user_id)
                       .where(Device.token_hash == digest(token))).first()
    if row is None:
        raise ApiError(401, "This device token is not valid; enroll the device again with a new code.",
                       {"WWW-Authenticate": "Bearer"})
    device, user = row
    if device.revoked_at is not None or not user.active:
        raise ApiError(401, "This device's access was revoked; ask your admin for a new enrollment code.",
                       {"WWW-Authenticate": "Bearer"})
    return Caller(device_id=device.id, user_id=user.id, role=user.role, district_id=device.district_id)


def get_caller(request: Request, _protocol: Annotated[int, Depends(check_protocol)]) -> Caller:
    auth = request.headers.get("Authorization", "")
    token = auth[7:].strip() if auth[:7].lower() == "bearer " else None
    with Session(get_engine(request)) as s:
        return caller_from_token(s, token)


CallerDep = Annotated[Caller, Depends(get_caller)]
SessionDep = Annotated[Session, Depends(get_session)]
WriteSessionDep = Annotated[Session, Depends(get_write_session)]
ProtocolDep = Annotated[int, Depends(check_protocol)]
