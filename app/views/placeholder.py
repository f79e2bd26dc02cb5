"""A screen that is not built yet says so in words, with a way back."""
from __future__ import annotations

import flet as ft

from app.views._widgets import screen
from app.views.context import AppContext


def make(title: str, back_route: str = "/"):
    def build(ctx: AppContext, **params) -> ft.View:
        back = back_route.format(**params)
        return screen(ctx.page.route, title, [ft.Text(f"{title} is coming in a later version of learnwalk.",
                                                      size=16)], back=lambda e: ctx.go(back))
    return build
