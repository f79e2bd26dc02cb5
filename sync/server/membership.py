"""Who a walk's members are: its creator and the user ids in its team (docs/decisions.md, "Walk membership").
`walk_member` is the server's index of them (a lead sees the visits of the walks they are a member of); a visit
never makes its observer one. `rebuild_all` brings the index of every walk to that rule, once, for rows written
before it (migration 0006: an older server made anyone with a visit in a walk a member)."""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.engine import Connection

from sync.server.models import AuditLog

ACTION, ACTOR = "walk.team", "server"
REASON = ("a walk's members are its creator and its team; a visit no longer makes its observer one "
          "(migration 0006)")


def members(created_by: str, team, users: set[str]) -> set[str]:
    """The members a walk grants: its creator and each user id on its team that is a user of the walk's district
    (users). A guest's name or a role name ("Principal") on a team is kept on the walk as written, and grants
    nothing."""
    return {created_by} | {u for u in team or [] if isinstance(u, str) and u in users}


def team_ids(team) -> set[str]:
    """The entries of a team that could be user ids (text of an id's length), to look up among the users."""
    return {u for u in team or [] if isinstance(u, str) and 0 < len(u) <= 64}


def rebuild_all(c: Connection, district_id: str | None = None) -> int:
    """walk_member made exactly the members of each walk (of every district, or of one), rows of walks that are gone
    removed; a lead who becomes a member gets the walk's visits and notes renumbered so their next pull brings them;
    one audit entry per walk whose members changed (before and after, as a team change). Returns how many walks
    changed."""
    only = "" if district_id is None else " WHERE district_id = :d"
    users: dict[str, set[str]] = {}
    for uid, district in c.execute(text("SELECT id, district_id FROM app_user")):
        users.setdefault(district, set()).add(uid)
    walks = {}
    for wid, district, created_by, team in c.execute(
            text(f"SELECT id, district_id, created_by, team FROM walk{only}"), {"d": district_id}):
        team = json.loads(team) if isinstance(team, str) else team
        walks[wid] = (district, members(created_by, team, users.get(district, set())))
    have: dict[str, set[str]] = {}
    for wid, uid in c.execute(text("SELECT walk_id, user_id FROM walk_member")):
        if district_id is None or wid in walks:
            have.setdefault(wid, set()).add(uid)
    leads = {uid for (uid,) in c.execute(text("SELECT id FROM app_user WHERE role = 'lead'"))}
    for wid in set(have) - set(walks):  # the walk itself is gone (quarantined): nothing to be a member of
        c.execute(text("DELETE FROM walk_member WHERE walk_id = :w"), {"w": wid})
    changed = 0
    for wid, (district, wanted) in sorted(walks.items()):
        before = have.get(wid, set())
        if before == wanted:
            continue
        for uid in sorted(before - wanted):
            c.execute(text("DELETE FROM walk_member WHERE walk_id = :w AND user_id = :u"), {"w": wid, "u": uid})
        added = sorted(wanted - before)
        for uid in added:
            c.execute(text("INSERT INTO walk_member (walk_id, user_id) VALUES (:w, :u)"), {"w": wid, "u": uid})
        if leads.intersection(added):
            _renumber(c, district, wid)
        changed += 1
        c.execute(AuditLog.__table__.insert(), {"district_id": district, "actor": ACTOR, "action": ACTION,
                                                "kind": "walk", "record_id": wid[:80],
                                                "before": {"members": sorted(before)},
                                                "after": {"members": sorted(wanted), "reason": REASON},
                                                "at": datetime.now().astimezone()})
    return changed


def _renumber(c: Connection, district_id: str, walk_id: str) -> None:
    """As a push does when a lead joins a walk: the walk's visits and notes get a new number from the district's
    counter, above every cursor handed out."""
    n = c.execute(text("UPDATE district SET change_counter = change_counter + 1 WHERE id = :d "
                       "RETURNING change_counter"), {"d": district_id}).scalar()
    if n is None:
        return
    for table in ("visit", "evidence_note"):
        c.execute(text(f"UPDATE {table} SET change_seq = :n WHERE walk_id = :w AND district_id = :d "
                       "AND change_seq < :n"), {"n": n, "w": walk_id, "d": district_id})
