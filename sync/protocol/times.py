"""Times on the wire and in the stores: parsing a device's time, aware UTC, the canonical cell text, display forms.

Every time that crosses the network is ISO 8601 text. Both databases hold aware UTC (a naive time is read as
UTC: SQLite hands times back without a zone). A rating cell's time is kept as one canonical text,
2026-11-25T09:30:00.000000Z, so it is stored, pulled and exported as is; device clocks are only data.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

# a UTC time as text: what a device sends and a store may keep as is (sync.server.bulk writes it unparsed)
UTC_TEXT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|\+00:00)")
CANONICAL = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"  # the one text form of a stored cell time
_CANONICAL_TEXT = re.compile(CANONICAL)
_CANONICAL_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
EXAMPLE = "2026-11-25T09:30:00Z"


class BadTime(ValueError):
    """A value that is not a time this protocol accepts; the message names the field and says why."""


def parse(text: str, field: str = "time") -> datetime:
    """An ISO 8601 text as a datetime (as written: naive stays naive). BadTime if it is not one."""
    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise BadTime(f"{field} '{str(text)[:40]}' is not an ISO date-time") from None


def aware(t: datetime) -> datetime:
    """t as aware UTC: a naive time is UTC already (as SQLite gives it back)."""
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)


def as_utc(value: Any, field: str) -> datetime | None:
    """A time from a device or a store (ISO text or datetime) as aware UTC; None stays None. BadTime otherwise."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse(value, field)
    if not isinstance(value, datetime):
        raise BadTime(f"{field} must be an ISO date-time")
    return aware(value)


def utc_time(value: Any, field: str) -> datetime | str | None:
    """A time already in UTC text (UTC_TEXT) stays text (the bulk writer stores it as is); others are parsed."""
    if isinstance(value, str) and UTC_TEXT.fullmatch(value):
        as_utc(value, field)  # a real instant (no 30 February), or the database could not read it back
        return value
    return as_utc(value, field)


def is_canonical(text: Any) -> bool:
    """Whether text is a cell time in its canonical form and a real instant."""
    if type(text) is not str or not _CANONICAL_TEXT.fullmatch(text):
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def canonical(value: str | datetime) -> str:
    """A checked time (UTC_TEXT, or a datetime) as 2026-11-25T09:30:00.000000Z, the one text form cells are stored
    in: SQLAlchemy reads it back as the same instant, and pulls and exports print it as is."""
    if type(value) is str and len(value) == 27 and value[-1] == "Z":
        return value
    return as_utc(value, "updated_at").strftime(_CANONICAL_FORMAT)


def iso_seconds(value: datetime | str | None) -> str:
    """A stored UTC time as 2026-09-30T14:05:09Z (seconds), as exports print it. Text as stored: a rating cell's
    time on both databases ("2026-09-30T14:05:09.000000Z") and other times on SQLite ("2026-09-30 14:05:09.000000",
    read untyped to save parsing); a datetime for other times on PostgreSQL. None is empty."""
    if value is None:
        return ""
    if type(value) is str:
        return value[:10] + "T" + value[11:19] + "Z"
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def sqlite_text(v: datetime | str | None) -> str | None:
    """The text form SQLAlchemy's SQLite DateTime reads back (naive UTC, "2026-11-25 09:30:00.000000"); a str here
    is UTC text already checked (UTC_TEXT: "...T...Z" or "...+00:00")."""
    if v is None:
        return None
    if isinstance(v, str):
        return v[:10] + " " + (v[11:-1] if v[-1] == "Z" else v[11:-6])
    if v.tzinfo is not None:
        v = v.astimezone(timezone.utc).replace(tzinfo=None)
    return v.isoformat(" ", "microseconds")


def local_display(t: datetime) -> str:
    """A stored time in the device's local zone for people: 25 Nov 2026 10:30."""
    return aware(t).astimezone().strftime("%d %b %Y %H:%M")
