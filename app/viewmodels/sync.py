"""The Sync screen: what is waiting to be sent, when the last sync worked, and every refusal in words."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from app.store.services import ServiceError
from app.store.pending import Pending, pending_work
from app.viewmodels._format import plural
from app.viewmodels.status import pending_words
from sync.protocol.times import aware, local_display

KIND_LABELS = {"cycle": "Cycle", "walk": "Walk", "visit": "Visit", "rating": "Rating", "note": "Note"}


@dataclass(frozen=True)
class RejectedRow:
    what: str
    reason: str
    when: str


def when(t: datetime | None, now: datetime | None = None) -> str:
    if t is None:
        return "never"
    t = aware(t)
    secs = int(((now or datetime.now(timezone.utc)) - t).total_seconds())
    if secs < 60:
        return "just now"
    if secs < 3600:
        return f"{plural(secs // 60, 'minute')} ago"
    if secs < 86400:
        return f"{plural(secs // 3600, 'hour')} ago"
    return local_display(t)


class SyncVM:
    def __init__(self, sync):
        """sync: the app's SyncService, or None when this build has no sync client."""
        self.sync = sync
        self.status = None
        self.refresh()

    def refresh(self) -> None:
        self.status = self.sync.status() if self.sync is not None else None

    @property
    def available(self) -> bool:
        return self.sync is not None

    @property
    def enrolled(self) -> bool:
        return bool(self.status and self.status.enrolled)

    @property
    def headline(self) -> str:
        if not self.available:
            return ("Sync could not start on this device; your walks and visits are still saved here. "
                    "Restart the app to try again.")
        if not self.enrolled:
            return "This device is not enrolled, so nothing is sent. Enroll it in Settings with a code from your admin."
        if self.status.running:
            return "Syncing now..."
        if self.status.last_error:
            return f"The last sync did not work: {self.status.last_error}"
        if self.status.last_success is None:
            return "Not synced yet."
        return "Everything is sent." if self.status.pending == 0 else f"Waiting to send: {self.waiting}."

    @property
    def facts(self) -> list[tuple[str, str]]:
        if not self.status:
            return []
        s = self.status
        out = [("Waiting to send", self.waiting), ("Last successful sync", when(s.last_success))]
        if s.enrolled:
            out.insert(0, ("Server", s.server_url or ""))
            if s.district_name:
                out.insert(1, ("District", s.district_name))
        if s.rejected:
            out.append(("Refused by the server", plural(len(s.rejected), "change")))
        return out

    @property
    def waiting(self) -> str:
        """What waits to be sent, in visits and walks ("1 visit", "Nothing")."""
        p = pending_work(self.sync.engine)
        return "Nothing" if p.nothing else pending_words(p).removesuffix(" waiting to send")

    @property
    def rejected(self) -> list[RejectedRow]:
        if not self.status:
            return []
        return [RejectedRow(f"{KIND_LABELS.get(r.kind, r.kind)} {r.record_id[:8]}", r.reason, when(r.at))
                for r in self.status.rejected]

    def sync_now(self) -> str:
        """One round now (blocking: call it off the UI loop); return what happened in words."""
        if not self.available:
            raise ServiceError("Sync could not start on this device, so nothing was sent; restart the app "
                               "to try again.")
        before = pending_work(self.sync.engine)
        try:
            report = self.sync.sync_once()  # a failure is a SyncError: its sentence is shown as it is
        finally:
            self.refresh()
        left = pending_work(self.sync.engine)
        sent = Pending(max(0, before.visits - left.visits), max(0, before.walks - left.walks))
        sent_words = "nothing to send" if sent.nothing else pending_words(sent).replace(" waiting to send", " sent")
        text = f"Synced: {sent_words}, {plural(report.pulled, 'change')} received."
        if report.rejected:
            text += f" {plural(report.rejected, 'change')} refused; see below."
        if report.skipped:
            text += (f" Left out {plural(report.skipped, 'change')} from the server that this device cannot read; "
                     "update the app.")
        return text

    def retry_refused(self) -> str:
        """Queue the refused changes again, once the reason was dealt with (e.g. the admin published the
        missing rubric or the visit's owner fixed it); the next round sends them. Returns what happened."""
        if not self.available or not self.status or not self.status.rejected:
            raise ServiceError("There are no refused changes to send again.")
        count = self.sync.retry_rejected()
        self.refresh()
        return f"{plural(count, 'refused change')} will be sent again at the next sync."
