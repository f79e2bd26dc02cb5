"""failed enrollment attempts counted per scope (address hash, district, unknown codes)

Enrollment is refused for a while (429) after too many failed attempts; the counts live in the database so that
every server worker counts and refuses alike. Nothing identifying is stored: an address appears only as a hash.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('enroll_attempt',
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('window_start', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('reported', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('scope'),
    )


def downgrade() -> None:
    op.drop_table('enroll_attempt')
