"""Observer numbering, the one rule behind "Observer N" on the device's screens, in its debrief and in exports."""
from __future__ import annotations

from hypothesis import given, strategies as st

from sync.protocol.observers import observer_label, observer_numbers, observer_order


def test_observers_are_numbered_from_one_in_id_order_whatever_order_visits_come_in():
    assert observer_numbers(["b", "a", "b", "c"]) == {"a": 1, "b": 2, "c": 3}
    assert observer_order(["c", "a", "c"]) == ["a", "c"]
    assert observer_label(2) == "Observer 2"


@given(st.lists(st.uuids().map(str), max_size=12))
def test_order_and_numbers_agree(ids):
    numbers = observer_numbers(ids)
    assert [numbers[o] for o in observer_order(ids)] == list(range(1, len(set(ids)) + 1))
