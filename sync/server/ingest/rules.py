"""Push rules, in memory: shape checks, ownership, the rule book's checks, duplicate detection.

The push handler (sync.server.ingest.push) loads the affected rows once, runs every walk, visit and note through
`Rules.apply` and checks every visit's cells with `Rules.cell_rules` against that in-memory state, then writes the
final states in bulk. What a record may hold is the rule book's (sync.protocol.rules, which the device's capture
service runs too); ownership, districts and what the server holds are decided here. A rule that refuses a record
raises Refused with the reason the device shows to its user.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from sync.errors import LearnwalkError
from sync.protocol import RECORD_SHAPES, times
from sync.protocol.cells import op_seqs
from sync.protocol.rules import (NOTE_MAX, RubricRules, RuleBroken, Triple, check_cycle, check_note_text,
                                 check_storable, check_time, check_visit, check_walk, rubric_rules)
from sync.server.deps import Caller
from sync.server.rubrics.registry import KnownRubrics

# the columns each kind's snapshot carries (the shared shape), in table order
SHAPE_FIELDS = {kind: tuple(model.model_fields) for kind, model in RECORD_SHAPES.items()}


class Refused(LearnwalkError):
    """The entry is rejected; the message is the reason shown on the device."""


_UTC_TEXT = times.UTC_TEXT
_TIME_FIELDS = ("updated_at", "started_at", "ended_at")


def utc_time(value: Any, field: str) -> datetime | str | None:
    """A time a device sent, inside the window a store accepts (sync.protocol.times.accepted_utc: UTC text stays
    text); a bad time is Refused with its reason."""
    try:
        return times.accepted_utc(value, field)
    except times.BadTime as why:
        raise Refused(str(why)) from None


def as_utc(value: Any, field: str) -> datetime | None:
    """sync.protocol.times.as_utc; a bad time is Refused with its reason."""
    try:
        return times.as_utc(value, field)
    except times.BadTime as why:
        raise Refused(str(why)) from None


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "record"
    return f"{where}: {err.get('msg', 'invalid')}"


def _generic(kind: str, data: dict) -> dict:
    """The record read with its shape: text a database can hold, times inside the window a store accepts.
    RuleBroken or Refused with the reason otherwise."""
    check_storable(kind, data, SHAPE_FIELDS[kind])  # before the shape: its reason would show the NUL
    try:
        rec = RECORD_SHAPES[kind].model_validate(data)
    except ValidationError as exc:
        raise Refused(f"the {kind} is not well formed ({_first_error(exc)})") from None
    row = rec.model_dump()
    for key in _TIME_FIELDS:
        if key in row:
            row[key] = check_time(row[key], key, data.get(key))
    for key in ("walk_date", "start_date"):
        if isinstance(row.get(key), date):
            check_time(row[key], key)
    return row


_VISIT_TEXT = (("id", 36), ("walk_id", 36), ("observer_id", 64), ("note", NOTE_MAX))
_VISIT_OPTIONAL = (("grade", 4), ("subject", 40), ("class_type", 40), ("calibration_code", 40))


def _visit_fields(data: dict) -> dict:
    # a push carries a visit per classroom: checked by hand, several times cheaper than model validation;
    # anything unusual goes to the model, which names the exact problem
    try:
        row = {f: data[f] for f in SHAPE_FIELDS["visit"]}
    except KeyError:
        return _generic("visit", data)
    # text within its limit and without a NUL (no database holds one)
    ok = all(type(row[f]) is str and len(row[f]) <= n and "\x00" not in row[f] for f, n in _VISIT_TEXT)
    ok = ok and all(row[f] is None or (type(row[f]) is str and len(row[f]) <= n and "\x00" not in row[f])
                    for f, n in _VISIT_OPTIONAL)
    ok = ok and type(row["visit_no"]) is int and type(row["deleted"]) is bool
    ok = ok and (row["student_count"] is None or type(row["student_count"]) is int)
    if not ok:
        return _generic("visit", data)
    for f in ("started_at", "updated_at", "ended_at"):
        if row[f] is None and f != "ended_at":
            return _generic("visit", data)
        row[f] = utc_time(row[f], f)
    return row


def normalize(kind: str, data: dict) -> dict:
    return _visit_fields(data) if kind == "visit" else _generic(kind, data)


_TEXT_FIELDS = {"text", "note", "calibration_code"}  # free text: the log names the field, never its words


def _plain(v):
    return v.isoformat() if hasattr(v, "isoformat") else v


def _differs(x, y, f: str) -> bool:
    if f in _TIME_FIELDS and x is not None and y is not None:
        return as_utc(x, f) != as_utc(y, f)
    return x != y


def same(a: dict, b: dict, kind: str) -> bool:
    """Identical content (times compared as instants, whatever their text form)."""
    for f in SHAPE_FIELDS[kind]:
        x, y = a.get(f), b.get(f)
        if f in _TIME_FIELDS:
            x, y = as_utc(x, f), as_utc(y, f)
        if x != y:
            return False
    return True


class CellRules:
    """The rule book's checks for one visit's cells in this push. The push carries each visit once, in its latest
    state, with the op_seq of its latest change: a cell after that change was set while the visit had this
    subject; a cell before it may have been set under another subject, which the device allows (a subject
    change keeps the ratings made before it), so it is checked as in a visit of any subject."""

    __slots__ = ("rubric", "subject", "changed_at")

    def __init__(self, rubric: RubricRules, subject: str | None, changed_at: int):
        self.rubric, self.subject, self.changed_at = rubric, subject, changed_at

    def problem(self, op_seq: int, lookfor_id, value, not_observed: bool, deleted: bool) -> str | None:
        """The reason this cell is refused, or None."""
        broken = self.rubric.cell_problem(lookfor_id, value, not_observed, deleted,
                                          self.subject if op_seq > self.changed_at else None)
        return None if broken is None else str(broken)

    def triples_of(self, cells: list) -> frozenset[Triple] | None:
        """The accepted (look-for, value, not_observed) of every live cell among `cells` (wire cells, op_seq
        first), for the set check of many cells at once; None if they fall on both sides of the visit's change
        (then they are checked one by one)."""
        after = self.rubric.triples(self.subject)
        before = self.rubric.triples(None)
        if after is before:
            return after
        ops = op_seqs(cells)
        if min(ops) > self.changed_at:
            return after
        if max(ops) < self.changed_at:
            return before
        return None


def _team(walk: dict) -> list[str]:
    return [u for u in walk.get("team") or [] if isinstance(u, str) and u]


class Rules:
    """Applies entries to the in-memory state of one push; `state[kind][id]` is the row or None (absent)."""

    def __init__(self, caller: Caller, rubrics: KnownRubrics, schools: set[str], state: dict[str, dict]):
        self.caller, self.rubrics, self.schools, self.state = caller, rubrics, schools, state
        self._compiled: dict[tuple[str, int], RubricRules] = {}
        self._changed_at: dict[str, int] = {}  # visit id -> op_seq of its snapshot taken in this push
        self._visits_ok: dict[str, tuple[dict, dict]] = {}  # visit id -> (its row, its walk) once checked
        self._by_kind = {"cycle": self._cycle, "walk": self._walk, "visit": self._visit, "note": self._note}
        self._stored: dict[tuple[str, str], dict | None] = {}  # (kind, id) -> the row stored before this push

    def apply(self, kind: str, data: dict, op_seq: int = 0) -> tuple[str, dict | None]:
        """Return ("applied", new row) or ("duplicate", None); raise Refused to reject. op_seq: the record's
        latest change (a visit's is needed to check its cells' subject)."""
        try:
            row = normalize(kind, data)
        except RuleBroken as broken:
            raise Refused(str(broken)) from None
        record_id = row["id"]
        current = self.state[kind].get(record_id)
        if current is not None and current["district_id"] != self.caller.district_id:
            raise Refused(f"{kind} {record_id} cannot be changed from this district")
        if kind == "cycle" and current is not None and row["migrated"] is True:
            # a copy a device's migration made of an old label the server holds already (whoever sends it): the
            # server's version stands
            return "duplicate", None
        try:
            self._by_kind[kind](row, current)
        except RuleBroken as broken:
            raise Refused(str(broken)) from None
        if kind == "visit":
            self._changed_at[record_id] = op_seq
        if current is not None and same(row, current, kind):
            return "duplicate", None
        self._stored.setdefault((kind, record_id), current)  # the first state seen is the stored one
        row["district_id"] = self.caller.district_id
        self.state[kind][record_id] = row
        return "applied", row

    def edits(self) -> list[tuple[str, str, str, dict, dict]]:
        """(kind, id, "edited"|"deleted"|"restored", before, after) of each stored visit or note this push
        changes, for the audit log: the fields that changed with their old and new values, free text only by
        its field's name (a note's words stay out of the log); ratings are logged by the push (Push._audit)."""
        out = []
        for (kind, record_id), before in self._stored.items():
            after = self.state[kind].get(record_id)
            if kind not in ("visit", "note") or before is None or after is None or same(after, before, kind):
                continue
            changed = sorted(f for f in SHAPE_FIELDS[kind]
                             if f not in ("updated_at", "deleted") and _differs(before.get(f), after.get(f), f))
            what = ("deleted" if after.get("deleted") and not before.get("deleted") else
                    "restored" if before.get("deleted") and not after.get("deleted") else "edited")
            if what == "edited" and not changed:
                continue  # only its time moved
            shown = [f for f in changed if f not in _TEXT_FIELDS]
            out.append((kind, record_id, what, {f: _plain(before.get(f)) for f in shown},
                        {f: _plain(after.get(f)) for f in shown} | {"fields": changed}))
        return out

    # ---- per kind: complete `row` with server-owned fields, or refuse --------------------------------

    def _cycle(self, row: dict, current: dict | None) -> None:
        """Leads and admins create and change cycles; observers read them. A cycle migrated from an old label
        (no targets: it says only what the walks' labels said) may be sent by anyone of the district."""
        role = self.caller.role
        as_label = current is None and row["migrated"] and all(
            isinstance(p, dict) and p.get("target") is None for p in row["priorities"] or [])
        if role not in ("lead", "admin") and not as_label:
            raise Refused(f"cycle {row['id']} can be created or changed only by a lead or an admin; observers "
                          "pick a cycle for their walks")
        row["created_by"] = current["created_by"] if current is not None else self.caller.user_id
        if current is not None and (row["rubric_id"], row["rubric_version"], row["school_id"]) != (
                current["rubric_id"], current["rubric_version"], current["school_id"]):
            raise Refused(f"the rubric and school of cycle {row['id']} cannot change; start a new cycle instead")
        self._rubric_and_school(row)
        check_cycle(self.rubric_rules(row), name=row["name"], priorities=row["priorities"])

    def _rubric_and_school(self, row: dict) -> None:
        """A walk's or a cycle's rubric is published to the district and its school is one of the district's."""
        known_range = 1 <= row["rubric_version"] <= 2**31 - 1  # beyond it the database cannot even be asked
        if (self.rubrics.get(row["rubric_id"], row["rubric_version"]) if known_range else None) is None:
            raise Refused(f"rubric {row['rubric_id']}@{row['rubric_version']} is not known to this district; "
                          "ask an admin to publish it, then sync again")
        if row["school_id"] not in self.schools:
            raise Refused(f"school {row['school_id']} is not a school of this district; "
                          "pick a school received from the server")

    def _walk_cycle(self, row: dict) -> None:
        """A walk names a cycle of its school and rubric. A cycle the server does not hold yet is accepted (it may
        arrive in a later push; until then the walk is read by its label)."""
        cycle = self.state.get("cycle", {}).get(row["cycle_id"]) if row.get("cycle_id") else None
        if cycle is None or cycle["district_id"] != self.caller.district_id:
            return
        if cycle["school_id"] != row["school_id"]:
            raise RuleBroken("cycle_school", cycle=cycle["name"])
        if cycle["rubric_id"] != row["rubric_id"]:
            raise RuleBroken("cycle_rubric", cycle=cycle["name"], rubric=cycle["rubric_id"])

    def _walk(self, row: dict, current: dict | None) -> None:
        self._walk_cycle(row)
        me = self.caller.user_id
        if current is None:
            row["created_by"] = me
        else:
            row["created_by"] = current["created_by"]
            if me != current["created_by"] and me not in (current["team"] or []) and self.caller.role != "admin":
                raise Refused(f"walk {row['id']} was created by someone else; only its creator, its team "
                              "or an admin can change it")
            if _team(row) != _team(current) and not self._grants_membership(current):
                raise Refused(f"the team of walk {row['id']} can be changed only by its creator, a lead on its "
                              "team or an admin; ask one of them to change it")
            if (row["rubric_id"], row["rubric_version"]) != (current["rubric_id"], current["rubric_version"]):
                raise Refused(f"the rubric of walk {row['id']} cannot change; start a new walk instead")
        self._rubric_and_school(row)
        check_walk(self.rubric_rules(row), phase=row["phase"], focus=row["focus"], cycle_label=row["cycle_label"])
        if not isinstance(row["walk_date"], date):
            raise Refused("walk_date must be a date")

    def _visit(self, row: dict, current: dict | None) -> None:
        me = self.caller.user_id
        if current is not None:
            if current["observer_id"] != me:
                raise Refused(f"visit {row['id']} belongs to another observer")
            if row["walk_id"] != current["walk_id"]:
                raise Refused(f"visit {row['id']} cannot move to another walk")
        row["observer_id"] = me
        walk = self._walk_of(row["walk_id"], f"visit {row['id']}")
        if current is None and not self.may_write(walk):
            raise Refused(f"visit {row['id']} is in walk {row['walk_id']}, whose team does not include you; ask "
                          "the walk's creator, a lead on its team or an admin to add you to it, then sync again")
        check_visit(visit_no=row["visit_no"], grade=row["grade"], subject=row["subject"],
                    class_type=row["class_type"], student_count=row["student_count"],
                    calibration_code=row["calibration_code"], note=row["note"])

    def may_write(self, walk: dict) -> bool:
        """Membership is explicit (docs/sync-protocol.md): a new visit goes only into a walk the caller created,
        is on the team of, or, as an admin, oversees. Writing a visit never makes anyone a member."""
        me = self.caller.user_id
        return self.caller.role == "admin" or me == walk["created_by"] or me in _team(walk)

    def _grants_membership(self, walk: dict) -> bool:
        """Who may change a walk's team (its members): its creator, a lead on its team, an admin."""
        me, role = self.caller.user_id, self.caller.role
        return role == "admin" or me == walk["created_by"] or (role == "lead" and me in _team(walk))

    def _walk_of(self, walk_id: str, what: str) -> dict:
        walk = self.state["walk"].get(walk_id)
        if walk is None or walk["district_id"] != self.caller.district_id:
            raise Refused(f"{what} names walk {walk_id}, which the server does not have; sync the walk first")
        return walk

    def _visit_part(self, row: dict, kind: str) -> dict:
        vid = row["visit_id"]
        visit, walk = self.visit_of(vid, f"{kind} {row['id']}")
        row["walk_id"], row["owner_id"] = visit["walk_id"], visit["observer_id"]
        return walk

    def visit_of(self, vid: str, what: str) -> tuple[dict, dict]:
        """The visit (as of this push) and its walk, if the caller may add to it; else Refused."""
        visit = self.state["visit"].get(vid)
        seen = self._visits_ok.get(vid)
        if seen is not None and seen[0] is visit:
            return seen
        if visit is None or visit["district_id"] != self.caller.district_id:
            raise Refused(f"{what} names visit {vid}, which the server does not have")
        if visit["observer_id"] != self.caller.user_id:
            raise Refused(f"visit {vid} belongs to another observer")
        walk = self._walk_of(visit["walk_id"], what)
        # valid while this row is the visit's state: a later version of the visit may not change its walk,
        # observer or district, and a walk, once there, stays in its district
        self._visits_ok[vid] = (visit, walk)
        return visit, walk

    def cell_rules(self, vid: str) -> CellRules:
        """The checks of a visit's cells (the visit already passed visit_of)."""
        visit, walk = self.visit_of(vid, "a rating")
        return CellRules(self.rubric_rules(walk), visit["subject"], self._changed_at.get(vid, 0))

    def rubric_rules(self, walk: dict) -> RubricRules:
        """The rule book's rules of the walk's rubric version (known: the walk passed _walk)."""
        key = (walk["rubric_id"], walk["rubric_version"])
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = rubric_rules(self.rubrics.get(*key))
        return compiled

    def _note(self, row: dict, current: dict | None) -> None:
        walk = self._visit_part(row, "note")
        check_note_text(row["text"], row["deleted"])
        if row["lookfor_id"] is not None:
            self.rubric_rules(walk).check_lookfor(row["lookfor_id"])
