"""checklist not seen: visits recorded when a blank checklist cell meant "Not seen" get that answer as a value

A checklist (a scale authored with one level, "Seen") now has the derived level "Not seen" (value 'not_seen') and
a blank cell means "not rated". Every visit with an answered cell gets 'not_seen' for each checklist look-for shown
for its subject and grade that has no answer (sync.server.legacy_checklists; the device store's migration 0004
applies the same rule on each tablet).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from sync.server.legacy_checklists import migrate_checklists

    migrate_checklists(op.get_bind())


def downgrade() -> None:
    # the cells written are answers ('not_seen'); an older server would refuse them as off the scale, so a
    # downgrade would need them turned back into blanks - not done: restore the backup taken before upgrading
    pass
