"""Limits on failed enrollments: counts per scope and window in the database, a refusal while a scope is over its
limit, and one audit entry per burst.

Scopes: the client's address (as a hash: nothing identifying is stored), the district of a known but unusable code
(used, expired, inactive user), and codes that no district knows (guessing from many addresses at once). The counts
are rows, updated in the enrolling transaction, so every server worker counts and refuses alike.
"""
from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from sync.errors import LearnwalkError
from sync.protocol import utcnow
from sync.server.directory import audit
from sync.server.models import District, EnrollAttempt

UNKNOWN = "unknown"  # the scope of codes no district knows
ACTOR = "server"  # the audit actor of a burst: the server itself noticed it


class EnrollLimited(LearnwalkError):
    """Too many failed enrollments in a scope; retry_after says in how many seconds the window ends."""

    def __init__(self, retry_after: int):
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(f"Too many enrollment attempts with wrong codes; wait {minutes} minute"
                         f"{'s' if minutes != 1 else ''} and try again with the code your admin gave you.")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limits:
    window_seconds: int
    per_address: int
    per_district: int
    unknown: int

    @classmethod
    def of(cls, settings) -> "Limits":
        return cls(settings.enroll_window_seconds, settings.enroll_failures_per_address,
                   settings.enroll_failures_per_district, settings.enroll_failures_unknown)


def network(address: str) -> str:
    """The address cut to its network (/24, /64 for IPv6): what an admin may see of who was guessing."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    return str(ipaddress.ip_network(f"{ip}/{24 if ip.version == 4 else 64}", strict=False))


def address_scope(address: str) -> str:
    return "addr:" + hashlib.sha256(address.encode()).hexdigest()[:40]


def district_scope(district_id: str | None) -> str:
    return f"district:{district_id}" if district_id else UNKNOWN


def _limit(scope: str, limits: Limits) -> int:
    if scope.startswith("addr:"):
        return limits.per_address
    return limits.unknown if scope == UNKNOWN else limits.per_district


def check(s: Session, scopes: list[str], limits: Limits, now: datetime | None = None) -> None:
    """Raise EnrollLimited while any of the scopes is over its limit in its current window."""
    now = now or utcnow()
    start = now - timedelta(seconds=limits.window_seconds)
    rows = s.execute(select(EnrollAttempt.scope, EnrollAttempt.window_start, EnrollAttempt.failures)
                     .where(EnrollAttempt.scope.in_(scopes), EnrollAttempt.window_start > start)).all()
    waits = [(w + timedelta(seconds=limits.window_seconds) - now).total_seconds()
             for scope, w, failures in rows if failures >= _limit(scope, limits)]
    if waits:
        raise EnrollLimited(max(1, math.ceil(max(waits))))


def _bump(s: Session, scope: str, now: datetime, start: datetime) -> None:
    t = EnrollAttempt.__table__
    expired = t.c.window_start <= bindparam("start", start, type_=t.c.window_start.type)
    fresh = bindparam("now", now, type_=t.c.window_start.type)
    done = s.execute(update(t).where(t.c.scope == scope).values(
        failures=case((expired, 1), else_=t.c.failures + 1),
        reported=case((expired, False), else_=t.c.reported),
        window_start=case((expired, fresh), else_=t.c.window_start))).rowcount
    if done == 0:
        try:
            with s.begin_nested():  # another worker may insert the same scope first: then count into its row
                s.execute(t.insert().values(scope=scope, window_start=now, failures=1, reported=False))
        except IntegrityError:
            _bump(s, scope, now, start)


def fail(s: Session, scopes: list[str], limits: Limits, net: str) -> None:
    """Count one failed enrollment in each scope; a scope that reaches its limit is audited once per window."""
    now = utcnow()
    start = now - timedelta(seconds=limits.window_seconds)
    for scope in scopes:
        _bump(s, scope, now, start)
        limit = _limit(scope, limits)
        first = s.execute(update(EnrollAttempt).where(EnrollAttempt.scope == scope, EnrollAttempt.reported.is_(False),
                                                      EnrollAttempt.failures >= limit)
                          .values(reported=True)).rowcount
        if first:
            _report(s, scope, limit, limits.window_seconds, net)


def _report(s: Session, scope: str, limit: int, window: int, net: str) -> None:
    after = {"failures": limit, "window_seconds": window}
    if scope.startswith("district:"):
        districts, kind, record_id = [scope.removeprefix("district:")], "district", scope.removeprefix("district:")
    else:
        # guessing from an address or with unknown codes concerns every district this server holds
        districts = list(s.execute(select(District.id)).scalars())
        kind, record_id = ("address", net) if scope.startswith("addr:") else ("unknown code", "")
        if kind == "address":
            after["network"] = net
    for district_id in districts:
        audit.record(s, district_id, ACTOR, "enrollment.limited", kind, record_id, after=after)
