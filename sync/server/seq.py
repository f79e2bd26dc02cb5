"""Change sequence numbers from the district's counter row, reserved inside the writing transaction.

The UPDATE holds the row lock until commit, so a transaction holding higher numbers commits after every one
holding lower numbers, and a reader that sees counter value H can trust that all rows up to H are visible.
"""
from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session


class UnknownDistrict(Exception):
    pass


def reserve(session: Session, district_id: str, n: int) -> int:
    """Reserve n numbers; return the first (the block is first .. first+n-1)."""
    row = session.execute(text("UPDATE district SET change_counter = change_counter + :n WHERE id = :d "
                               "RETURNING change_counter"), {"n": n, "d": district_id}).first()
    if row is None:
        raise UnknownDistrict(district_id)
    return row[0] - n + 1


def high_water(session: Session, district_id: str) -> int:
    """The highest number every committed change of the district is at or below."""
    row = session.execute(text("SELECT change_counter FROM district WHERE id = :d"), {"d": district_id}).first()
    return row[0] if row else 0
