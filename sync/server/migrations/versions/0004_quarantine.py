"""quarantine: stored rows that break today's rules moved aside, with their reason and an audit entry each

Rows stored before the rules of what a store keeps (times in the window, no NUL, notes within NOTE_MAX, cells the
device's codec reads) are moved, whole, to the quarantine table by sync.server.quarantine.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('quarantine',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('record_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('content', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('quarantined_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_quarantine_district_id', 'quarantine', ['district_id'])
    from sync.server.quarantine import quarantine_all

    quarantine_all(op.get_bind())


def downgrade() -> None:
    # the rows stay in quarantine's keeping only while it exists: a downgrade drops the table and what it holds
    op.drop_index('ix_quarantine_district_id', 'quarantine')
    op.drop_table('quarantine')
