"""How a teammate is named on screen: "Observer N", numbered as the debrief and the exports number them
(sync.protocol.observers; never by id or name)."""
from __future__ import annotations

from sync.protocol.observers import observer_label as label_of, observer_numbers


def observer_label(visits, observer_id: str) -> str:
    """"Observer N" for observer_id among the observers of these visits (a walk's live ones)."""
    return label_of(observer_numbers([*(v.observer_id for v in visits), observer_id])[observer_id])
