"""The Debrief view builds from its view-model without a browser: every tally row is one named node."""
from __future__ import annotations

import flet as ft

from app.viewmodels.debrief import DebriefVM
from app.views import debrief
from app.views.context import AppContext


def nodes(control, out=None):
    """Every control in a tree (flet controls are dataclasses; walk their control-valued fields)."""
    out = [] if out is None else out
    out.append(control)
    for value in vars(control).values():
        for child in value if isinstance(value, list) else [value]:
            if isinstance(child, ft.BaseControl):
                nodes(child, out)
    return out


def test_each_tally_row_is_a_semantics_node_saying_the_row(store, hand_walk):
    view = debrief.build(AppContext(page=None, device=store.device), hand_walk.id)
    rows = {n.identifier: n.label for n in nodes(view) if isinstance(n, ft.Semantics)
            and (n.identifier or "").startswith("tally:")}
    vm = DebriefVM(store.device, hand_walk.id)
    assert rows == {f"tally:{i}": vm.row(i).spoken for i in ("t.questions", "t.talk", "t.math", "t.target")}


def test_a_walk_whose_rubric_is_missing_gets_a_screen_that_says_why(store, hand_walk):
    store.catalog._cache.pop("debrief-test@1")
    view = debrief.build(AppContext(page=None, device=store.device), hand_walk.id)
    texts = [n.value for n in nodes(view) if isinstance(n, ft.Text)]
    assert any("Rubric debrief-test@1" in (t or "") and "sync" in t for t in texts)
