"""The Settings screen: enroll this device with a server and a one-time code; where the data lives."""
from __future__ import annotations

from app.store.services import ServiceError


class SettingsVM:
    def __init__(self, sync, data_dir: str = "", *, server_hint: str = ""):
        """server_hint: the address to offer before enrollment (the one a web build was made for)."""
        self.sync = sync
        self.data_dir = data_dir
        self.server_url = server_hint
        self.code = ""
        self.status = sync.status() if sync is not None else None
        if self.status and self.status.server_url:
            self.server_url = self.status.server_url

    @property
    def enrollment_text(self) -> str:
        s = self.status
        if s is None:
            return "Sync could not start on this device; it keeps working on its own until you restart the app."
        if not s.enrolled:
            return "Not enrolled: this device keeps everything to itself until you enroll it."
        district = f" for {s.district_name}" if s.district_name else ""
        return f"Enrolled with {s.server_url}{district} as {s.role or 'observer'}."

    @property
    def my_id_text(self) -> str:
        """The id a walk's creator adds to its team (a user id: no name, nothing identifying)."""
        if self.sync is None or not (self.status and self.status.enrolled):
            return ""
        me = self.sync.store.meta("user_id")["user_id"]
        return f"Your learnwalk id (a walk's creator adds you to its team with it): {me}"

    def enroll(self) -> str:
        """Exchange the one-time code for this device's token (blocking: call it off the UI loop)."""
        if self.sync is None:
            raise ServiceError("Sync could not start on this device, so it cannot be enrolled now; restart the app "
                               "and try again.")
        self.status = self.sync.enroll(self.server_url, self.code)  # a refusal is a SyncError, shown as it is
        self.code = ""  # a one-time code is spent; never keep it around
        self.sync.trigger()
        return f"Enrolled. {self.enrollment_text}"
