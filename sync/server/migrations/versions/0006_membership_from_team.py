"""membership from team: walk_member rows that visits made (before explicit membership) removed

A walk's members are its creator and its team (sync.server.membership); an older server also made anyone who wrote
a visit into a walk a member, which let a lead see a walk's visits by writing into it. Each walk's walk_member rows
are made exactly its members, with an audit entry per walk that changed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from sync.server.membership import rebuild_all

    rebuild_all(op.get_bind())


def downgrade() -> None:
    # the removed rows granted what the rule no longer grants: nothing is put back
    pass
