"""The Admin screen in names: who a user, device or school id is, device rows, and audit entries as sentences.

The server names people by id (docs/admin.md, "Audit log"); the screen shows the people, devices and schools it
has listed (emails are what admins know people by; teachers and students are never in these lists). An id not in
the lists (someone removed, another district's record) is shown as a short id, never as nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

ROLE_WORDS = {"admin": "admin", "lead": "debrief lead", "observer": "observer"}
SETTING_WORDS = {"small_cell_threshold": "small-cell threshold", "record_class_type": "record class type",
                 "allow_identifying_fields": "allow photos or identifying fields"}
FILTER_WORDS = {"school_id": "school", "date_from": "from", "date_to": "to", "walk_id": "walk",
                "rubric_id": "rubric", "rubric_version": "version"}
FORMAT_WORDS = {"csv": "CSV", "csv-wide": "wide CSV", "xlsx": "Excel", "jsonl": "JSON lines"}


def when(text: str | None) -> str:
    """A server time as the screen shows it: 2026-12-02 18:00 UTC."""
    return f"{text[:16].replace('T', ' ')} UTC" if text else "never"


def platform_of(device_name: str) -> str:
    """The platform a device enrolled from: its name is its kind ("Linux device", "Browser device";
    app.sync_service.device_name), never a hostname."""
    name = (device_name or "").strip()
    kind = name[:-len(" device")] if name.endswith(" device") else name
    return {"Browser": "Browser (offline web app)", "Darwin": "macOS"}.get(kind, kind) or "Unknown platform"


@dataclass(frozen=True)
class DeviceRow:
    id: str
    owner: str
    role: str
    platform: str
    last_sync: str
    revoked: bool

    @property
    def line(self) -> str:
        state = "revoked" if self.revoked else f"last sync {self.last_sync}"
        return f"{self.owner} · {self.role} · {self.platform} · {state}"


@dataclass
class Names:
    users: dict[str, dict] = field(default_factory=dict)
    devices: dict[str, dict] = field(default_factory=dict)
    schools: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, users: list[dict], devices: list[dict], schools: list[dict]) -> "Names":
        return cls({u["id"]: u for u in users}, {d["id"]: d for d in devices}, {s["id"]: s["name"] for s in schools})

    def user(self, user_id: str) -> str:
        u = self.users.get(user_id)
        return u["email"] if u else f"user {user_id[:8]}"

    def role(self, user_id: str) -> str:
        u = self.users.get(user_id)
        return ROLE_WORDS.get(u["role"], u["role"]) if u else "unknown role"

    def device(self, device_id: str) -> str:
        d = self.devices.get(device_id)
        if d is None:
            return f"device {device_id[:8]}"
        return f"{self.user(d['user_id'])}'s {platform_of(d.get('name', ''))} device"

    def school(self, school_id: str) -> str:
        return self.schools.get(school_id, f"school {school_id[:8]}")

    def actor(self, actor: str) -> str:
        """Who did it: a person (admin changes), a device (its own pushes), a server command, or the server."""
        if actor == "cli":
            return "A server command"
        if actor == "server":
            return "The server"
        if actor in self.devices:
            return self.device(actor)
        return self.user(actor)

    def device_row(self, d: dict) -> DeviceRow:
        return DeviceRow(d["id"], self.user(d["user_id"]), self.role(d["user_id"]), platform_of(d.get("name", "")),
                         when(d.get("last_sync_at")), bool(d.get("revoked_at")))

    # ---- the audit log in sentences -------------------------------------------------------------------

    def audit_line(self, e: dict) -> str:
        action, kind, rid = e["action"], e.get("kind") or "", e.get("record_id") or ""
        actor = e.get("actor") or ""
        # a push audits a device's own edits with the device as actor (sync.server.ingest.push)
        at = when(e["at"])
        who = self.device(actor) if action.startswith(("rating.", "visit.", "note.", "walk.")) else self.actor(actor)
        before, after = e.get("before") or {}, e.get("after") or {}
        if action == "pull.skipped":  # a stored record no device can read (sync.server.ingest.pull)
            why = after.get("reason") or "it cannot be read"
            return (f"{at} · A {kind or 'record'} stored on the server is left out of every sync: {why} "
                    f"({kind} {rid}); fix or remove it on the server.")
        if action in ("rating.edited", "rating.replaced"):  # a synced rating changed (sync.server.ingest.push)
            by = "its own device" if action == "rating.edited" else "another device"
            return (f"{at} · A synced rating was changed by {by} from {_cell(before)} to {_cell(after)} "
                    f"(rating {rid}, {who}).")
        said = self._sentence(action, kind, rid, before, after, who)
        return f"{at} · {said}" if said else f"{at} · {who}: {action} {kind} {rid}".rstrip()

    def _sentence(self, action, kind, rid, before, after, who) -> str:
        if action == "rubric.publish":
            return f"{who} published rubric {rid}."
        if action == "school.create":
            return f"{who} added the school {after.get('name') or self.school(rid)}."
        if action == "district.create":
            return f"{who} created the district {after.get('name', '')}.".replace(" .", ".")
        if action == "user.create":
            return f"{who} added {self.user(rid)} as {ROLE_WORDS.get(after.get('role'), after.get('role'))}."
        if action == "user.update":
            changes = []
            if before.get("role") != after.get("role") and "role" in after:
                changes.append(f"role from {ROLE_WORDS.get(before.get('role'), before.get('role'))} to "
                               f"{ROLE_WORDS.get(after['role'], after['role'])}")
            if before.get("active") != after.get("active") and "active" in after:
                changes.append("reactivated" if after["active"] else "deactivated (their devices stop syncing)")
            return f"{who} changed {self.user(rid)}: {', '.join(changes) or 'no change'}."
        if action == "enrollment.issue":
            return f"{who} issued an enrollment code for {self.user(rid)}."
        if action == "enrollment.limited":
            return ("The server held back enrollments after too many wrong codes "
                    f"({kind or 'codes'}); they work again after the waiting time.")
        if action == "device.revoke":
            return f"{who} revoked {self.device(rid)}; it can no longer sync."
        if action == "settings.update":
            changes = [f"{SETTING_WORDS.get(k, k)} from {_plain(before.get(k))} to {_plain(v)}"
                       for k, v in after.items() if before.get(k) != v]
            return f"{who} changed the district settings: {', '.join(changes) or 'no change'}."
        if action == "export":
            filters = after.get("filters") or {}
            parts = [f"{FILTER_WORDS.get(k, k)} {self.school(v) if k == 'school_id' else v}"
                     for k, v in filters.items()]
            fmt = FORMAT_WORDS.get(after.get("format") or rid, after.get("format") or rid)
            return f"{who} exported the {kind or 'data'} as {fmt}" + (f" ({', '.join(parts)})" if parts else "") + "."
        if action == "quarantine":
            return (f"The server set aside a stored {kind} that breaks the storage rules "
                    f"({after.get('reason') or 'see the quarantine list'}).")
        if action == "walk.team":
            was, now = (len(x.get("members") or []) for x in (before, after))
            return f"{who} changed a walk's team from {was} to {now} people."
        for thing in ("visit", "note"):
            if action.startswith(f"{thing}."):
                verb = {"edited": "edited", "deleted": "deleted", "restored": "restored"}.get(action.split(".")[1])
                if verb:
                    fields = ", ".join(sorted(after)) if verb == "edited" and after else ""
                    return f"{who} {verb} a synced {thing}" + (f" ({fields})" if fields else "") + "."
        return ""


def _plain(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return "none" if value is None else str(value)


def _cell(c: dict) -> str:
    if c.get("deleted"):
        return "cleared"
    return "not observed" if c.get("not_observed") else repr(c.get("value"))
