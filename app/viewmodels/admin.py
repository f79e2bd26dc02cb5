"""The Admin screen's state (role admin): publish a rubric, export synced data, people, devices, settings, audit.

Plain Python over sync.admin_client (no Flet). The device's server address, token and role come from its store's
Meta (written at enrollment). Each action returns nothing and leaves its outcome in `message`/`problems`, worded
for the person holding the tablet.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from app.web.transport import default_transport
from sync.admin_client import AdminClient, AdminClientError

FORMATS = [("csv", "CSV (one row per rating)"), ("csv-wide", "Wide CSV (one row per visit)"), ("xlsx", "Excel"),
           ("jsonl", "JSON lines")]
EXTENSIONS = {"csv": "csv", "csv-wide": "csv", "xlsx": "xlsx", "jsonl": "jsonl"}


@dataclass
class AdminState:
    message: str = ""
    error: bool = False
    problems: list[str] = field(default_factory=list)
    rubrics: list[dict] = field(default_factory=list)
    users: list[dict] = field(default_factory=list)
    devices: list[dict] = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    audit: list[dict] = field(default_factory=list)
    last_export: Path | None = None


def admin_client(server: str, token: str) -> AdminClient:
    """The admin client over the platform's transport (XHR in the browser, where an export arrives whole)."""
    return AdminClient(server, token, transport=default_transport())


class AdminVM:
    def __init__(self, meta: dict, exports_dir: Path,
                 client_factory: Callable[[str, str], AdminClient] = admin_client):
        self.server_url, self.token, self.role = meta.get("server_url"), meta.get("token"), meta.get("role")
        self.exports_dir = Path(exports_dir)
        self._client = client_factory
        self.state = AdminState()
        self.filename = "district-rubric.csv"
        self.text = ""
        self.fmt = "csv"
        self.school = self.date_from = self.date_to = ""

    # ---- who may use it ---------------------------------------------------------------------------------

    @property
    def unavailable(self) -> str:
        """Why this device cannot administer, or "" when it can."""
        if not self.token or not self.server_url:
            return "This device is not enrolled. Enroll it with a code from your district admin (Settings)."
        if self.role != "admin":
            return f"The Admin screen is for district admins; this device is enrolled as {self.role or 'a user'}."
        return ""

    def _run(self, action: Callable[[AdminClient], str | None]) -> bool:
        """Run one call; its sentence (if any) becomes the message. A refresh (None) keeps the last message."""
        self.state.problems = []
        try:
            with self._client(self.server_url, self.token) as client:
                said = action(client)
            if said is not None:
                self.state.message, self.state.error = said, False
            return True
        except AdminClientError as exc:
            self.state.message, self.state.error, self.state.problems = str(exc), True, exc.problems
            return False

    def refresh(self) -> None:
        def load(c: AdminClient) -> None:
            self.state.rubrics, self.state.users, self.state.devices = c.rubrics(), c.users(), c.devices()
            self.state.settings, self.state.audit = c.settings(), c.audit(limit=20)
        self._run(load)

    # ---- rubrics ----------------------------------------------------------------------------------------

    def publish(self) -> None:
        """Publish the rubric text as `filename` (.yaml or .csv); every problem is listed, nothing is published."""
        name, text = self.filename.strip(), self.text
        if not name.lower().endswith((".csv", ".yaml", ".yml")):
            self.state.message, self.state.error = "The file name must end in .csv, .yaml or .yml.", True
            return
        if not text.strip():
            self.state.message, self.state.error = "Paste the rubric file's text first.", True
            return
        if self._run(lambda c: self._published(c.publish_rubric(name, text))):
            self.refresh_rubrics()

    @staticmethod
    def _published(row: dict) -> str:
        return f"Published {row['rubric_id']}@{row['version']}; devices receive it on their next sync."

    def refresh_rubrics(self) -> None:
        try:
            with self._client(self.server_url, self.token) as c:
                self.state.rubrics = c.rubrics()
        except AdminClientError:
            pass  # the publish message stays; the list refreshes next time

    # ---- export -----------------------------------------------------------------------------------------

    def export(self) -> None:
        # the server checks the filters and says how to fix them (the client ships no server code)
        params = {k: v.strip() for k, v in (("school", self.school), ("from", self.date_from), ("to", self.date_to))
                  if v.strip()}
        self.exports_dir.mkdir(parents=True, exist_ok=True)
        target = self.exports_dir / f"learnwalk-{self.fmt}.{EXTENSIONS[self.fmt]}"
        part = target.with_name(target.name + ".part")

        def download(c: AdminClient) -> str:
            with open(part, "wb") as out:
                size = c.export(self.fmt, params, out)
            part.replace(target)
            self.state.last_export = target
            return f"Saved the export ({size:,} bytes) to {target}."
        try:
            self._run(download)
        finally:
            part.unlink(missing_ok=True)

    # ---- people, devices, settings ----------------------------------------------------------------------

    def enrollment_code(self, user_id: str) -> None:
        self._run(lambda c: f"Enrollment code: {c.enrollment_code(user_id)['code']} (shown once; "
                            "type it on the new device).")

    def revoke(self, device_id: str) -> None:
        def revoke(c: AdminClient) -> str:
            c.revoke_device(device_id)
            return "Device revoked; its token stopped working. Its unsynced data stays on it."
        if self._run(revoke):
            self.refresh()

    def save_settings(self, threshold: str, record_class_type: bool, allow_identifying: bool) -> None:
        if not threshold.strip().isdigit():
            self.state.message, self.state.error = "The small-cell threshold must be a whole number, e.g. 3.", True
            return
        def save(c: AdminClient) -> str:
            c.update_settings(small_cell_threshold=int(threshold), record_class_type=record_class_type,
                              allow_identifying_fields=allow_identifying)
            return "Settings saved; devices receive them on their next sync."
        if self._run(save):
            self.refresh()

    @staticmethod
    def device_line(d: dict) -> str:
        synced = (d.get("last_sync_at") or "never")[:16].replace("T", " ")
        state = "revoked" if d.get("revoked_at") else f"last sync {synced}"
        return f"{d.get('name') or 'Unnamed device'} · {state}"

    @staticmethod
    def audit_line(e: dict) -> str:
        when = e['at'][:16].replace('T', ' ')
        if e["action"] == "pull.skipped":  # a stored record no device can read (sync.server.ingest.pull)
            why = (e.get("after") or {}).get("reason") or "it cannot be read"
            return (f"{when} · A {e['kind'] or 'record'} stored on the server is left out of every sync: {why} "
                    f"({e['kind']} {e['record_id']}); fix or remove it on the server.")
        if e["action"] in ("rating.edited", "rating.replaced"):  # a synced rating changed (sync.server.ingest.push)
            was, now = ((e.get(k) or {}) for k in ("before", "after"))
            by = "its own device" if e["action"] == "rating.edited" else "another device"
            return (f"{when} · A synced rating was changed by {by} from {_cell(was)} to {_cell(now)} "
                    f"(rating {e['record_id']}, device {e['actor']}).")
        return f"{when} · {e['action']} {e['kind']} {e['record_id']}".strip()


def _cell(c: dict) -> str:
    if c.get("deleted"):
        return "cleared"
    return "not observed" if c.get("not_observed") else repr(c.get("value"))
