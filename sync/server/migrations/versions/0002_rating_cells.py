"""a visit's rating cells in one row (protocol v2)

Protocol v2 moves ratings with their visit: the cells of a visit are stored together in one `visit_cells` row
(layout in sync.server.ingest.cells), seen through the visit (scope, pulls, exports join it). A push then writes one
row per visit instead of one per cell. Existing ratings are copied; a visit whose cells changed after it is
renumbered to its newest cell, so a pull cursor that already passed the visit still receives those cells.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
from datetime import timezone
from itertools import groupby

from alembic import op
import orjson
import sqlalchemy as sa
import sqlmodel


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def _utc_text(v) -> str:
    # SQLite holds "2026-11-25 09:30:00.000000" (UTC), PostgreSQL an aware datetime: both become the wire form
    if isinstance(v, str):
        return f"{v[:10]}T{v[11:19]}.{(v[20:26] or '0').ljust(6, '0')}Z"
    return v.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def upgrade() -> None:
    cells = op.create_table('visit_cells',
    sa.Column('visit_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('devices', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('cells', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint('visit_id'),
    )
    bind = op.get_bind()
    # streamed (a server-side cursor on PostgreSQL): a district's ratings need not fit in memory at once
    old = bind.execute(sa.text("SELECT visit_id, lookfor_id, value, not_observed, deleted, updated_at, device_id "
                               "FROM rating ORDER BY visit_id, lookfor_id")
                       .execution_options(stream_results=True, max_row_buffer=5000))
    batch = []
    for visit_id, group in groupby(old, key=lambda r: r[0]):
        group = list(group)
        devices = sorted({r[6] for r in group})
        index = {d: i for i, d in enumerate(devices)}
        stored = [[index[r[6]], r[1], r[2], bool(r[3]), bool(r[4]), _utc_text(r[5])] for r in group]
        stored.sort(key=lambda c: c[1])  # by code point, as sync.server.ingest.cells keeps them (a collation may differ)
        batch.append({"visit_id": visit_id, "devices": orjson.dumps(devices).decode(),
                      "cells": orjson.dumps(stored).decode()})
        if len(batch) >= 1000:
            op.bulk_insert(cells, batch)
            batch = []
    if batch:
        op.bulk_insert(cells, batch)
    op.execute("UPDATE visit SET change_seq = (SELECT max(r.change_seq) FROM rating r "
               "WHERE r.visit_id = visit.id) WHERE EXISTS (SELECT 1 FROM rating r "
               "WHERE r.visit_id = visit.id AND r.change_seq > visit.change_seq)")
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rating_visit_id'))
        batch_op.drop_index('ix_rating_district_seq')
    op.drop_table('rating')


def downgrade() -> None:
    raise NotImplementedError("ratings moved into visit_cells in protocol v2; restore a backup to go back")
