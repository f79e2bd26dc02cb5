"""The connection badge every screen shows, and what is waiting to be sent, in words people use."""
from __future__ import annotations

from dataclasses import dataclass

from app.store.pending import Pending, pending_work
from app.viewmodels._format import plural


def pending_words(p: Pending) -> str:
    """ "1 visit waiting to send", "3 visits and 1 walk waiting to send", "Nothing waiting to send"."""
    if p.nothing:
        return "Nothing waiting to send"
    parts = [plural(n, w) for n, w in ((p.visits, "visit"), (p.walks, "walk")) if n]
    return " and ".join(parts) + " waiting to send"


@dataclass(frozen=True)
class Badge:
    state: str  # "online" | "offline" | "local" (not enrolled: nothing is sent)
    label: str  # the word on the badge
    says: str  # the badge's screen-reader name: the state and what waits to be sent


def badge_of(sync, engine) -> Badge:
    """sync: the app's SyncService or None. Offline means the last round could not reach the server; the badge
    changes after each background round (about every 10 s while offline, the health probe's pace)."""
    waiting = pending_words(pending_work(engine))
    if sync is None or not sync.status().enrolled:
        return Badge("local", "This device", f"Not enrolled: everything stays on this device. {waiting}.")
    if sync.offline:
        return Badge("offline", "Offline", f"Offline: the server cannot be reached; your work is saved on this "
                                           f"device and sent when the network is back. {waiting}.")
    return Badge("online", "Online", f"Online. {waiting}.")
