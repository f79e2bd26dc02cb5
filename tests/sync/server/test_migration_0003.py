"""Revision 0003 on a database at 0002 (with its data): adds the enroll_attempt table the limits count in, leaves the
rest as it was, and goes back to 0002 by dropping just that table."""
from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text

from sync.server.db import alembic_config
from tests.support import serverproc as harness


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    yield from harness.empty_engine(request.param, tmp_path)


def _tables(engine) -> set[str]:
    with engine.connect() as c:
        return set(inspect(c).get_table_names())


def test_0003_adds_the_attempt_counts_and_keeps_what_0002_held(engine):
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0002")
    with engine.begin() as c:
        c.execute(text("INSERT INTO district (id, name, change_counter, created_at) "
                       "VALUES ('d1', 'North', 0, '2026-12-01 08:00:00')"))
    before = _tables(engine)
    assert "enroll_attempt" not in before

    command.upgrade(cfg, "0003")
    assert _tables(engine) == before | {"enroll_attempt"}
    with engine.begin() as c:
        c.execute(text("INSERT INTO enroll_attempt (scope, window_start, failures, reported) "
                       "VALUES ('unknown', '2026-12-02 07:00:00', 3, false)"))
        assert c.execute(text("SELECT failures FROM enroll_attempt")).scalar() == 3
        assert c.execute(text("SELECT name FROM district")).scalar() == "North"

    command.downgrade(cfg, "0002")
    assert _tables(engine) == before
