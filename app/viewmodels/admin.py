"""The Admin screen's state (role admin): publish a rubric, export synced data, people, devices, settings, audit.

Plain Python over sync.admin_client (no Flet). The device's server address, token and role come from its store's
Meta (written at enrollment). Each action leaves its outcome in `message`/`problems`, worded for the person
holding the tablet. An export is kept in memory and handed to the screen as a Download (name and bytes) for the
user's browser: nothing is written to the disk of the machine running the app. Ids are shown as names
(app.viewmodels.admin_names).
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from app.viewmodels.admin_names import DeviceRow, Names
from app.web.transport import default_transport
from sync.admin_client import AdminClient, AdminClientError
from sync.protocol.export import ExportError, ExportFilters, export_download_name

FORMATS = [("csv", "CSV (one row per rating)"), ("csv-wide", "Wide CSV (one row per visit)"), ("xlsx", "Excel"),
           ("jsonl", "JSON lines")]
ALL_SCHOOLS = ""  # the school choice meaning "every school of the district"
RUBRIC_EXTENSIONS = ("csv", "yaml", "yml")
_PROBLEM = re.compile(r"^(?P<file>[^\n]*?):(?P<line>\d+): (?P<what>.*)$", re.S)


@dataclass(frozen=True)
class Download:
    """A file for the user's browser: its name and its bytes (kept in memory only)."""
    name: str
    data: bytes


@dataclass(frozen=True)
class Problem:
    """A refused rubric's problem: the line of the shown text it is on (None: the whole file) and what to fix."""
    line: int | None
    what: str

    @property
    def text(self) -> str:
        return f"Line {self.line}: {self.what}" if self.line else self.what


@dataclass(frozen=True)
class TextLine:
    """One numbered line of the rubric text as shown, with the problems found on it."""
    number: int
    text: str
    problems: tuple[str, ...]


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
    schools: list[dict] = field(default_factory=list)
    names: Names = field(default_factory=Names)
    received: int = 0  # bytes of the export under way, for its progress line
    exporting: bool = False


def admin_client(server: str, token: str) -> AdminClient:
    """The admin client over the platform's transport (XHR in the browser, where an export arrives whole)."""
    return AdminClient(server, token, transport=default_transport())


class AdminVM:
    def __init__(self, meta: dict, client_factory: Callable[[str, str], AdminClient] = admin_client):
        self.server_url, self.token, self.role = meta.get("server_url"), meta.get("token"), meta.get("role")
        self._client = client_factory
        self.state = AdminState()
        self.filename = "district-rubric.csv"
        self.text = ""
        self.fmt = "csv"
        self.school = ALL_SCHOOLS  # a school id from state.schools, picked by its name
        self.date_from = self.date_to = ""

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
            st = self.state
            st.rubrics, st.users, st.devices, st.schools = c.rubrics(), c.users(), c.devices(), c.schools()
            st.settings, st.audit = c.settings(), c.audit(limit=20)
            st.names = Names.of(st.users, st.devices, st.schools)
        self._run(load)

    # ---- names ------------------------------------------------------------------------------------------

    def school_choices(self) -> list[tuple[str, str]]:
        """(school id, name) to pick from, "All schools" first."""
        return [(ALL_SCHOOLS, "All schools")] + [(s["id"], s["name"]) for s in self.state.schools]

    def device_rows(self) -> list[DeviceRow]:
        return [self.state.names.device_row(d) for d in self.state.devices]

    def audit_lines(self) -> list[str]:
        return [self.state.names.audit_line(e) for e in self.state.audit]

    def person_line(self, u: dict) -> str:
        role = self.state.names.role(u["id"])
        return f"{u['email']} · {role}" + ("" if u["active"] else " · inactive")

    # ---- rubrics ----------------------------------------------------------------------------------------

    def load_file(self, name: str, data: bytes | None) -> bool:
        """A rubric file chosen with the file picker: its name and text become the ones to publish."""
        self.state.problems = []
        if not name.lower().endswith(tuple(f".{e}" for e in RUBRIC_EXTENSIONS)):
            self.state.message, self.state.error = (f"{name} is not a rubric file; choose a .csv, .yaml or .yml "
                                                    "file."), True
            return False
        try:
            text = (data or b"").decode("utf-8-sig")
        except UnicodeDecodeError:
            self.state.message, self.state.error = (f"{name} is not UTF-8 text; save it as CSV UTF-8 (or YAML) "
                                                    "and choose it again."), True
            return False
        if not text.strip():
            self.state.message, self.state.error = f"{name} is empty; choose the rubric file itself.", True
            return False
        self.filename, self.text = name, text.replace("\r\n", "\n")
        self.state.message, self.state.error = (f"{name} loaded ({len(self.text.splitlines())} lines); check it "
                                                "below, then publish."), False
        return True

    def problem_list(self) -> list[Problem]:
        """The refused rubric's problems, each pointing at its line of the shown text."""
        out = []
        for p in self.state.problems:
            m = _PROBLEM.match(p)
            out.append(Problem(int(m["line"]), m["what"]) if m else Problem(None, p))
        return out

    def numbered_lines(self) -> list[TextLine]:
        """The rubric text as shown, numbered as the validator counts lines, with each line's problems."""
        on: dict[int, list[str]] = {}
        for p in self.problem_list():
            if p.line:
                on.setdefault(p.line, []).append(p.what)
        lines = self.text.split("\n")
        return [TextLine(n, t, tuple(on.get(n, ()))) for n, t in enumerate(lines, start=1)]

    def publish(self) -> None:
        """Publish the rubric text as `filename` (.yaml or .csv); every problem is listed, nothing is published."""
        name, text = self.filename.strip(), self.text
        if not name.lower().endswith((".csv", ".yaml", ".yml")):
            self.state.message, self.state.error = "The file name must end in .csv, .yaml or .yml.", True
            return
        if not text.strip():
            self.state.message, self.state.error = "Choose a rubric file (or paste its text) first.", True
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

    def export_name(self, today=None) -> str:
        """The download's name: learnwalk-<school>-<date or date range>[-<filter>].<ext>."""
        filters = ExportFilters.parse(self.school, self.date_from, self.date_to)
        school = self.state.names.school(self.school) if self.school else None
        return export_download_name(self.fmt, filters, school, today or datetime.now(timezone.utc).date())

    def export(self) -> Download | None:
        """Download the export from the server into memory; None (with the reason in message) when it failed.
        state.received grows as bytes arrive (the screen shows it while a long export runs)."""
        try:
            name = self.export_name()  # checks the dates first, with the same words the server would use
        except ExportError as exc:
            self.state.message, self.state.error, self.state.problems = str(exc), True, []
            return None
        params = {k: v.strip() for k, v in (("school", self.school), ("from", self.date_from), ("to", self.date_to))
                  if v.strip()}
        out = io.BytesIO()
        self.state.received, self.state.exporting = 0, True

        def got(n: int) -> None:
            self.state.received += n

        def download(c: AdminClient) -> str:
            size = c.export(self.fmt, params, out, got)
            return f"Export ready: {name} ({size:,} bytes); your browser saves it as a download."
        try:
            done = self._run(download)
        finally:
            self.state.exporting = False
        return Download(name, out.getvalue()) if done else None

    @property
    def progress_text(self) -> str:
        kb = self.state.received / 1024
        size = f"{kb / 1024:.1f} MB" if kb >= 1024 else f"{kb:.0f} KB"
        return f"Preparing the export... {size} received so far."

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
        return Names().device_row(d).line

    @staticmethod
    def audit_line(e: dict, names: Names | None = None) -> str:
        return (names or Names()).audit_line(e)
