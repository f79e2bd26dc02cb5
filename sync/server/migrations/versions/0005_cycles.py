"""cycles: a school's cycle and its priorities as a synced record; walks name their cycle; old labels migrated

Every walk with a free-text cycle label gets the cycle of (its school, its label) (sync.server.legacy_cycles).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cycle',
    sa.Column('district_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('change_seq', sa.Integer(), nullable=False),
    sa.Column('server_updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('school_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('rubric_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('rubric_version', sa.Integer(), nullable=False),
    sa.Column('priorities', sa.JSON(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('migrated', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.create_index('ix_cycle_district_seq', ['district_id', 'change_seq'], unique=False)
        batch_op.create_index(batch_op.f('ix_cycle_school_id'), ['school_id'], unique=False)
    with op.batch_alter_table('walk', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cycle_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True))
    from sync.server.legacy_cycles import migrate_labels

    migrate_labels(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table('walk', schema=None) as batch_op:
        batch_op.drop_column('cycle_id')
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cycle_school_id'))
        batch_op.drop_index('ix_cycle_district_seq')
    op.drop_table('cycle')
