"""The route table: every screen is this install's own module; a path no route matches gets "Page not found"."""
from __future__ import annotations

from types import SimpleNamespace

import flet as ft

from app.main import not_found, resolve
from app.views import admin, debrief


def test_the_debrief_and_admin_routes_are_their_screens_and_an_unknown_path_matches_no_route():
    assert resolve("/walks/w1/debrief") == (debrief.build, {"walk_id": "w1"})
    assert resolve("/admin/") == (admin.build, {})
    assert resolve("/nowhere") is None


def test_an_unknown_path_says_there_is_no_page_there_and_goes_back_to_the_walks():
    went = []
    view = not_found(SimpleNamespace(page=SimpleNamespace(route="/nowhere"), go=went.append), "/nowhere")
    assert view.appbar.title.value == "Page not found"
    [column] = view.controls
    assert [c.value for c in column.controls if isinstance(c, ft.Text)] == ["There is no page at /nowhere."]
    view.appbar.leading.on_click(None)
    assert went == ["/"]
