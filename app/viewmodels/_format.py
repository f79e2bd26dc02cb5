"""Small display helpers shared by the view-models: dates, durations and plural words."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sync.protocol.times import aware


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def day(d: date) -> str:
    return d.strftime("%a %d %b %Y").replace(" 0", " ")


def elapsed_seconds(start: datetime, end: datetime | None = None, now: datetime | None = None) -> int:
    # stored times may come back naive from SQLite; they are always UTC
    stop = end or now or datetime.now(timezone.utc)
    return max(0, int((aware(stop) - aware(start)).total_seconds()))


def clock(seconds: int) -> str:
    m, s = divmod(max(0, seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"
