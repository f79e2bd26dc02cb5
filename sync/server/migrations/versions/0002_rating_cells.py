"""ratings stored as cells keyed by (visit, look-for)

Protocol v2 moves ratings with their visit: a rating row keeps only its cell (visit_id, lookfor_id, value...),
the device that wrote it and its change_seq; its scope comes from the visit. The table is clustered by its
key (WITHOUT ROWID on SQLite), so a push writes one b-tree entry per cell instead of four. Existing ratings
are copied; a visit whose cells changed after it is renumbered to its newest cell, so a pull cursor that
already passed the visit still receives those cells with it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rating_cells',
    sa.Column('visit_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('lookfor_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('not_observed', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('change_seq', sa.Integer(), nullable=False),
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.PrimaryKeyConstraint('visit_id', 'lookfor_id'),
    sqlite_with_rowid=False,
    )
    op.execute("INSERT INTO rating_cells (visit_id, lookfor_id, value, not_observed, updated_at, deleted, "
               "change_seq, device_id) SELECT visit_id, lookfor_id, value, not_observed, updated_at, deleted, "
               "change_seq, device_id FROM rating")
    op.execute("UPDATE visit SET change_seq = (SELECT max(r.change_seq) FROM rating_cells r "
               "WHERE r.visit_id = visit.id) WHERE EXISTS (SELECT 1 FROM rating_cells r "
               "WHERE r.visit_id = visit.id AND r.change_seq > visit.change_seq)")
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rating_visit_id'))
        batch_op.drop_index('ix_rating_district_seq')
    op.drop_table('rating')
    op.rename_table('rating_cells', 'rating')
    if op.get_bind().dialect.name == "postgresql":  # the key's name follows the table on SQLite only
        op.execute("ALTER TABLE rating RENAME CONSTRAINT rating_cells_pkey TO rating_pkey")


def downgrade() -> None:
    raise NotImplementedError("ratings moved to cells in protocol v2; restore a backup to go back")
