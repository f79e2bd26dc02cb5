"""How a teammate is named on screen: "Observer N", numbered as the debrief numbers them (never by id or name)."""
from __future__ import annotations


def observer_label(visits, observer_id: str) -> str:
    """"Observer N" for observer_id among the observers of these visits (a walk's), in id order."""
    observers = sorted({v.observer_id for v in visits} | {observer_id})
    return f"Observer {observers.index(observer_id) + 1}"
