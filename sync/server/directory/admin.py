"""Administration of a district: publish rubrics, people, devices, settings, and the audit log of every change.

Plain functions over a write Session and the acting Caller, shared by the admin routes and the CLI. Each one
validates first and raises AdminError (a sentence saying what to fix) or RubricInvalid before writing anything,
then writes its change and the audit entry in the caller's transaction. Pulled records (rubric versions, schools,
settings) get a change_seq from the district counter so devices receive them on their next pull.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from rubrics import Rubric, RubricInvalid, RubricProblem, csv_to_yaml, parse_rubric
from sync.errors import LearnwalkError
from sync.server import directory, seq
from sync.server.deps import ROLES, Caller
from sync.server.directory.audit import record
from sync.server.models import AuditLog, Device, DistrictSettings, Quarantine, RubricVersion, School, User
from sync.server.scope import Scope

# a district's settings and their types, strictly (true is not 1): a boolean where the privacy threshold is meant
# would set it to 1
SETTINGS_FIELDS = {"small_cell_threshold": int, "record_class_type": bool, "allow_identifying_fields": bool}
THRESHOLD_MIN, THRESHOLD_MAX = 1, 50  # classrooms: a tally of fewer visits than the threshold is not shown


class AdminError(LearnwalkError):
    """Input that cannot be used; `status` is the HTTP status that fits (400, 404 or 409)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def snapshot(row, fields: tuple[str, ...]) -> dict:
    return {f: plain(getattr(row, f)) for f in fields}


def audit(s: Session, caller: Caller, action: str, kind: str = "", record_id: str = "",
          before: dict | None = None, after: dict | None = None) -> None:
    """One audit entry of the calling admin (sync.server.directory.audit)."""
    record(s, caller.district_id, caller.user_id, action, kind, record_id, before, after)


# ---- rubrics ----------------------------------------------------------------------------------------

def rubric_from_upload(text: str, filename: str) -> tuple[Rubric, str]:
    """Parse an uploaded .yaml/.yml or .csv rubric; the YAML text kept is what devices receive."""
    if filename.lower().endswith(".csv"):
        yaml_text = csv_to_yaml(text, source=filename)  # id and title come from the file name
        return parse_rubric(yaml_text, source=filename), yaml_text
    return parse_rubric(text, source=filename), text


def publish_rubric(s: Session, caller: Caller, text: str, filename: str) -> RubricVersion:
    """Validate and publish a new rubric version (nothing is written if any problem is found)."""
    rubric, yaml_text = rubric_from_upload(text, filename)
    versions = {v: h for v, h in s.exec(select(RubricVersion.version, RubricVersion.content_hash)
                                        .where(*Scope(caller).where(RubricVersion),
                                               RubricVersion.rubric_id == rubric.id)).all()}
    newest = max(versions, default=0)
    if filename.lower().endswith(".csv") and newest:
        # a spreadsheet has no version column: an edited sheet becomes the next version of its rubric
        yaml_text = yaml_text.replace("\nversion: 1\n", f"\nversion: {newest + 1}\n", 1)
        rubric = parse_rubric(yaml_text, source=filename)
        if versions[newest] == rubric.model_copy(update={"version": newest}).content_hash():
            raise RubricInvalid([RubricProblem(filename, 1, f"{rubric.id}@{newest} already has exactly these "
                                                            "look-fors; nothing to publish")])
    if rubric.version in versions:
        same = versions[rubric.version] == rubric.content_hash()
        what = "is already published with this content" if same else "is already published with different content"
        raise RubricInvalid([RubricProblem(filename, 1, f"{rubric.key} {what}; a published version never "
                                                        f"changes, so give it version {newest + 1}")])
    row = RubricVersion(district_id=caller.district_id, rubric_id=rubric.id, version=rubric.version,
                        yaml_text=yaml_text, content_hash=rubric.content_hash(), published_by=caller.user_id,
                        change_seq=seq.reserve(s, caller.district_id, 1))
    s.add(row)
    audit(s, caller, "rubric.publish", "rubric", rubric.key,
          after={"rubric_id": rubric.id, "version": rubric.version, "content_hash": row.content_hash,
                 "lookfors": len(rubric.lookfors)})
    return row


def list_rubrics(s: Session, caller: Caller) -> list[dict]:
    rows = s.exec(Scope(caller).select(RubricVersion).order_by(RubricVersion.rubric_id,
                                                               RubricVersion.version)).all()
    out = []
    for r in rows:
        rubric = parse_rubric(r.yaml_text, f"{r.rubric_id}@{r.version}")
        out.append({"rubric_id": r.rubric_id, "version": r.version, "title": rubric.title,
                    "lookfors": len(rubric.lookfors), "content_hash": r.content_hash,
                    "published_at": plain(r.published_at), "published_by": r.published_by})
    return out


def rubric_text(s: Session, caller: Caller, rubric_id: str, version: int) -> str:
    row = s.exec(Scope(caller).select(RubricVersion).where(RubricVersion.rubric_id == rubric_id,
                                                          RubricVersion.version == version)).first()
    if row is None:
        raise AdminError(f"Rubric {rubric_id}@{version} is not published in this district.", 404)
    return row.yaml_text


# ---- schools, users, enrollment codes ---------------------------------------------------------------

def _wrap(fn, *args):
    try:
        return fn(*args)
    except directory.DirectoryError as exc:
        raise AdminError(str(exc), exc.status) from None


def list_schools(s: Session, caller: Caller) -> list[dict]:
    return [{"id": x.id, "name": x.name} for x in s.exec(Scope(caller).select(School).order_by(School.name))]


def create_school(s: Session, caller: Caller, name: str) -> School:
    return _wrap(directory.create_school, s, caller.district_id, name, caller.user_id)


def list_users(s: Session, caller: Caller) -> list[dict]:
    return [{"id": u.id, "email": u.email, "role": u.role, "active": u.active}
            for u in s.exec(Scope(caller).select(User).order_by(User.email))]


def create_user(s: Session, caller: Caller, email: str, role: str) -> User:
    return _wrap(directory.create_user, s, caller.district_id, role, email, caller.user_id)


def _user(s: Session, caller: Caller, user_id: str) -> User:
    user = Scope(caller).get(s, User, user_id)
    if user is None:
        raise AdminError(f"User {user_id} is not in this district; check the id in the user list.", 404)
    return user


def update_user(s: Session, caller: Caller, user_id: str, role: str | None = None,
                active: bool | None = None) -> User:
    user = _user(s, caller, user_id)
    if role is not None and role not in ROLES:
        raise AdminError(f"Role '{role}' is not one of {', '.join(ROLES)}.")
    if user.id == caller.user_id and (role not in (None, "admin") or active is False):
        raise AdminError("You cannot remove your own admin role or deactivate yourself; ask another admin.", 409)
    before = snapshot(user, ("role", "active"))
    user.role = role if role is not None else user.role
    user.active = active if active is not None else user.active
    s.add(user)
    audit(s, caller, "user.update", "user", user.id, before=before, after=snapshot(user, ("role", "active")))
    return user


def issue_code(s: Session, caller: Caller, user_id: str, ttl_hours: int) -> str:
    user = _user(s, caller, user_id)
    return _wrap(directory.issue_code, s, user.id, ttl_hours, caller.user_id)


# ---- devices ----------------------------------------------------------------------------------------

def list_devices(s: Session, caller: Caller) -> list[dict]:
    rows = s.exec(Scope(caller).select(Device).order_by(Device.enrolled_at)).all()
    return [{"id": d.id, "user_id": d.user_id, "name": d.name, "enrolled_at": plain(d.enrolled_at),
             "last_sync_at": plain(d.last_sync_at), "revoked_at": plain(d.revoked_at),
             "last_op_seq": d.last_op_seq} for d in rows]


def revoke_device(s: Session, caller: Caller, device_id: str) -> Device:
    """Stop a device's token at once. Its unsynced data stays on the device: it is not the server's to delete."""
    device = Scope(caller).get(s, Device, device_id)
    if device is None:
        raise AdminError(f"Device {device_id} is not in this district; check the id in the device list.", 404)
    return directory.revoke_device(s, device.id, caller.user_id)


# ---- settings ---------------------------------------------------------------------------------------

def get_settings(s: Session, caller: Caller) -> dict:
    row = s.exec(Scope(caller).select(DistrictSettings)).first()
    return snapshot(row, tuple(SETTINGS_FIELDS)) if row else {}


def check_settings(changes: Any) -> dict:
    """The settings a change sets (a null is "not given"), each of its exact type; AdminError otherwise: 422 for a
    value of the wrong type (a boolean where a number is meant), 400 for a threshold out of range or an unknown
    setting."""
    if not isinstance(changes, dict):
        raise AdminError("The settings change must be a JSON object such as {\"small_cell_threshold\": 5}.", 422)
    unknown = sorted(set(changes) - set(SETTINGS_FIELDS))  # a misspelt name is refused, even with a null
    if unknown:
        raise AdminError(f"Unknown setting {', '.join(unknown)}; the settings are {', '.join(SETTINGS_FIELDS)}.")
    changes = {name: value for name, value in changes.items() if value is not None}
    # JSON has one kind of number: 5.0 is the whole number 5 (as JSON Schema's "integer" says); true is not
    whole = changes.get("small_cell_threshold")
    if type(whole) is float and whole.is_integer():
        changes["small_cell_threshold"] = int(whole)
    for name, kind in SETTINGS_FIELDS.items():
        if name in changes and type(changes[name]) is not kind:
            shown = json.dumps(changes[name])[:40]
            want = "true or false" if kind is bool else \
                f"a whole number from {THRESHOLD_MIN} to {THRESHOLD_MAX} (classrooms)"
            raise AdminError(f"Setting {name} must be {want}, not {shown}; send it as a JSON "
                             f"{'boolean' if kind is bool else 'number'}.", 422)
    if "small_cell_threshold" in changes and not THRESHOLD_MIN <= changes["small_cell_threshold"] <= THRESHOLD_MAX:
        raise AdminError(f"small_cell_threshold must be between {THRESHOLD_MIN} and {THRESHOLD_MAX} (classrooms); "
                         "3 to 5 is usual.")
    return changes


def update_settings(s: Session, caller: Caller, changes: Any) -> dict:
    """Set some of the district's settings (check_settings first; nothing is written if any is refused)."""
    changes = check_settings(changes)
    row = s.exec(Scope(caller).select(DistrictSettings)).first()
    before = snapshot(row, tuple(SETTINGS_FIELDS))
    for name, value in changes.items():
        setattr(row, name, value)
    row.change_seq = seq.reserve(s, caller.district_id, 1)
    s.add(row)
    after = snapshot(row, tuple(SETTINGS_FIELDS))
    audit(s, caller, "settings.update", "settings", caller.district_id, before=before, after=after)
    return after


# ---- audit log --------------------------------------------------------------------------------------

AUDIT_COLUMNS = ["id", "at", "actor", "action", "kind", "record_id", "before", "after"]


def audit_query(caller: Caller):
    """The whole audit log of the caller's district, oldest first (the audit export)."""
    return Scope(caller).select(AuditLog).order_by(AuditLog.id)


def audit_entries(s: Session, caller: Caller, limit: int = 200, before_id: int | None = None,
                  action: str | None = None) -> list[dict]:
    """Newest first, a page at a time (before_id = the smallest id already shown)."""
    stmt = Scope(caller).select(AuditLog)
    if action:
        stmt = stmt.where(AuditLog.action.startswith(action))
    if before_id is not None:
        stmt = stmt.where(AuditLog.id < before_id)
    rows = s.exec(stmt.order_by(AuditLog.id.desc()).limit(limit)).all()
    return [audit_row(r) for r in rows]


def audit_row(r: AuditLog) -> dict:
    return {"id": r.id, "at": plain(r.at), "actor": r.actor, "action": r.action, "kind": r.kind,
            "record_id": r.record_id, "before": r.before, "after": r.after}


def audit_export(s: Session, caller: Caller, what: str, fmt: str, filters: dict) -> None:
    """Exports are recorded when they start (a streamed download has no later moment the server can trust)."""
    audit(s, caller, "export", what, fmt, after={"format": fmt, "filters": filters})


# ---- quarantine ---------------------------------------------------------------------------------------

def quarantined(s: Session, caller: Caller, limit: int = 200) -> list[dict]:
    """Rows set aside by migration 0004 (sync.server.quarantine), newest first, with their content and reason."""
    rows = s.exec(Scope(caller).select(Quarantine).order_by(Quarantine.id.desc()).limit(limit)).all()
    return [{"id": r.id, "kind": r.kind, "record_id": r.record_id, "reason": r.reason,
             "quarantined_at": plain(r.quarantined_at), "content": r.content} for r in rows]
