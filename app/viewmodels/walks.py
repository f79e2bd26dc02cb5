"""The Walks screen: every walk on this device, newest first, and the visit left open to resume."""
from __future__ import annotations

from dataclasses import dataclass

from app.store import integrity
from app.store.pending import Pending, pending_by_walk
from app.store.services import CaptureService
from app.viewmodels._format import day, plural
from app.viewmodels.status import pending_words
from sync.protocol.vocabulary import phase_label


@dataclass(frozen=True)
class WalkRow:
    walk_id: str
    school: str
    date: str
    phase: str
    cycle_label: str
    visits: int
    pending: Pending  # what of this walk waits to be sent, in visits and walks

    @property
    def title(self) -> str:
        return f"{self.school}, {self.date}"

    @property
    def summary(self) -> str:
        cycle = f" ({self.cycle_label})" if self.cycle_label else ""
        parts = [phase_label(self.phase) + cycle, plural(self.visits, "visit")]
        parts.append("all sent" if self.pending.nothing else pending_words(self.pending))
        return " · ".join(parts)


@dataclass(frozen=True)
class ResumeTarget:
    visit_id: str
    walk_id: str
    label: str


STORAGE_AT_RISK_TITLE = "Visits on this tablet can still be lost"
STORAGE_AT_RISK = ("This browser has not agreed to keep learnwalk's storage, so it may delete the visits on this "
                   "tablet (for example when space runs low, or after days without use) until they are synced. "
                   "{unsent}To keep them: open learnwalk from its Home Screen icon (in Safari: Share, then Add to "
                   "Home Screen; in Chrome: Install app), not from a browser tab, and sync often.")


def storage_at_risk_text(unsent: int) -> str:
    said = (f"{plural(unsent, 'visit')} {'is' if unsent == 1 else 'are'} not yet sent to the server. " if unsent
            else "No visit on this tablet is waiting to be sent. ")
    return STORAGE_AT_RISK.format(unsent=said)


class WalksVM:
    def __init__(self, service: CaptureService, *, storage_persistent: bool | None = None):
        self.service = service
        # the browser build: False when the browser refused to keep its storage (navigator.storage.persist);
        # None elsewhere (a file on disk is not evicted)
        self.storage_persistent = storage_persistent
        self.rows: list[WalkRow] = []
        self.resume: ResumeTarget | None = None
        self.store_notice: str | None = None  # a damaged or emptied store was replaced: what happened, what to do
        self.storage_warning: str | None = None  # storage the browser may evict: the risk, the count, the fix
        self.refresh()

    def refresh(self) -> None:
        self.store_notice = integrity.pending_notice(self.service.engine)
        self.storage_warning = (storage_at_risk_text(self.service.unsent_visits())
                                if self.storage_persistent is False else None)
        schools = {s.id: s.name for s in self.service.schools()}
        pending = pending_by_walk(self.service.engine)
        self.rows = [
            WalkRow(walk_id=w.id, school=schools.get(w.school_id, "Unknown school"), date=day(w.walk_date),
                    phase=w.phase, cycle_label=w.cycle_label, visits=len(self.service.visits(w.id)),
                    pending=pending.get(w.id, Pending()))
            for w in self.service.walks()
        ]
        v = self.service.unfinished_visit()
        self.resume = ResumeTarget(v.id, v.walk_id, f"Visit {v.visit_no} is not finished") if v else None

    def dismiss_notice(self) -> None:
        """The observer has read the notice; the file kept aside stays where it is."""
        integrity.dismiss_notice(self.service.engine)
        self.refresh()

    @property
    def empty_message(self) -> str:
        return "No walks yet. Tap \"New walk\" to start one." if not self.rows else ""
