"""Times on the wire and in the stores: parsing a device's time, aware UTC, the canonical cell text, display forms.

Every time that crosses the network is ISO 8601 text. Both databases hold aware UTC (a naive time is read as
UTC: SQLite hands times back without a zone). A rating cell's time is kept as one canonical text,
2026-11-25T09:30:00.000000Z, so it is stored, pulled and exported as is; device clocks are only data.

What a store accepts lies in one window (EARLIEST to a day past now; a walk's date up to a year ahead): earlier or
later, the device's clock was wrong, and a time past the databases' range (year 1 with a zone...) could not be
stored or read back by every device. The device's capture service and the server's push both check it here.
"""
from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta, timezone
from typing import Any

# a UTC time as text: what a device sends and a store may keep as is (sync.server.bulk writes it unparsed)
UTC_TEXT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|\+00:00)")
CANONICAL = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"  # the one text form of a stored cell time
_CANONICAL_TEXT = re.compile(CANONICAL)
_CANONICAL_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
EXAMPLE = "2026-11-25T09:30:00Z"

EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)  # the first time a store accepts; before it a clock was wrong
AHEAD = timedelta(days=1)  # how far past the server's now a device's clock may run (time zones, a fast clock)
DATE_AHEAD = timedelta(days=366)  # a walk can be planned up to a year ahead
EARLIEST_TEXT = "2000-01-01T00:00:00.000000Z"  # EARLIEST in the canonical cell text
_EARLIEST_TEXT = EARLIEST_TEXT[:19]
_FIX = "set the device's date and time, then edit it again"


class BadTime(ValueError):
    """A value that is not a time this protocol accepts; the message names the field and says why."""


def parse(text: str, field: str = "time") -> datetime:
    """An ISO 8601 text as a datetime (as written: naive stays naive). BadTime if it is not one."""
    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise BadTime(f"{field} '{str(text)[:40]}' is not an ISO date-time") from None


def aware(t: datetime) -> datetime:
    """t as aware UTC: a naive time is UTC already (as SQLite gives it back). OverflowError if UTC is out of
    datetime's range (0001-01-01T00:00:00+01:00)."""
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)


def as_utc(value: Any, field: str, sent: str | None = None) -> datetime | None:
    """A time from a device or a store (ISO text or datetime) as aware UTC; None stays None. BadTime otherwise
    (sent: the text the datetime was read from, for the message)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse(value, field)
    if not isinstance(value, datetime):
        raise BadTime(f"{field} must be an ISO date-time")
    try:
        return aware(value)
    except OverflowError:  # year 1 or 9999 with a zone: no such UTC time
        raise _outside(field, sent or value.isoformat(), early=value.year < 2000) from None


# ---- the window a store accepts --------------------------------------------------------------------

def latest() -> datetime:
    """The last time a store accepts now: a day past the clock here."""
    return datetime.now(timezone.utc) + AHEAD


_LATEST = (0, "")  # (the second it was made in, latest_text then)


def latest_text() -> str:
    """latest() in the canonical cell text, to bound canonical texts by their text (one form: the same order as
    their instants). Made once a second: the cell checks ask for it once per cell."""
    global _LATEST
    second = int(time.time())
    made, text = _LATEST
    if made != second:
        text = (datetime.fromtimestamp(second, timezone.utc) + AHEAD).strftime(_CANONICAL_FORMAT)
        _LATEST = (second, text)
    return text


def _outside(field: str, shown: str, early: bool) -> BadTime:
    when = "is before 2000-01-01" if early else "is more than a day ahead of the server's clock"
    return BadTime(f"{field} {shown[:40]} {when}, so the device's clock was wrong; {_FIX}")


def in_window(t: datetime, field: str, shown: str | None = None) -> datetime:
    """t (aware) if a store accepts it (EARLIEST to latest()); BadTime saying what to fix otherwise (shown: the
    time as the device sent it)."""
    if t < EARLIEST or t > latest():
        raise _outside(field, shown or t.isoformat(), early=t < EARLIEST)
    return t


def accepted(value: Any, field: str, sent: str | None = None) -> datetime | None:
    """as_utc, and inside the window a store accepts (None stays None). BadTime otherwise (sent: the text a
    datetime was read from, for the message)."""
    sent = value if isinstance(value, str) else sent
    t = as_utc(value, field, sent)
    return None if t is None else in_window(t, field, sent)


def accepted_utc(value: Any, field: str, sent: str | None = None) -> datetime | str | None:
    """utc_time, and inside the window a store accepts: UTC text is bounded by its text (the same order as the
    instants: one form, 2026-11-25T09:30:00...), without parsing it twice. BadTime otherwise."""
    if isinstance(value, str) and UTC_TEXT.fullmatch(value):
        as_utc(value, field)  # a real instant
        if not _EARLIEST_TEXT <= value[:19] <= latest_text()[:19]:
            raise _outside(field, value, early=value[:19] < _EARLIEST_TEXT)
        return value
    return accepted(value, field, sent)


def accepted_date(value: date, field: str = "walk_date") -> date:
    """A walk's date if a store accepts it: from 2000-01-01 to a year ahead. BadTime otherwise."""
    if not EARLIEST.date() <= value <= (latest() + DATE_AHEAD - AHEAD).date():
        early = value < EARLIEST.date()
        when = "is before 2000-01-01" if early else "is more than a year ahead"
        raise BadTime(f"{field} {value.isoformat()} {when}; pick the walk's real date")
    return value


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
