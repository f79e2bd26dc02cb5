"""The Walks screen: the walks on this device and "New walk"; offers to resume a visit left open."""
from __future__ import annotations

import flet as ft

from app.viewmodels.walks import STORAGE_AT_RISK_TITLE, WalksVM
from app.views._widgets import MessageLine, big_button, icon_button, list_row, screen
from app.views.context import AppContext


def build(ctx: AppContext) -> ft.View:
    vm = WalksVM(ctx.service, storage_persistent=ctx.storage_persistent)
    msg = MessageLine()
    ctx.message = msg.show
    body: list[ft.Control] = []
    if vm.store_notice:
        def dismiss(e):
            if ctx.attempt(vm.dismiss_notice):
                notice.visible = False
                ctx.page.update()

        body.append(notice := ft.Container(
            ft.Column([ft.Row([ft.Icon(ft.Icons.WARNING_AMBER), ft.Text("The data on this device was replaced",
                                                                        size=18, weight=ft.FontWeight.BOLD)]),
                       ft.Text(vm.store_notice, size=16),
                       ft.Row([big_button("I have read this", dismiss, identifier="dismiss-store-notice")])]),
            bgcolor=ft.Colors.ERROR_CONTAINER, border_radius=10, padding=12, key="store-notice"))
    if vm.storage_warning:
        body.append(ft.Semantics(identifier="storage-warning", container=True, content=ft.Container(
            ft.Column([ft.Row([ft.Icon(ft.Icons.WARNING_AMBER), ft.Text(STORAGE_AT_RISK_TITLE, size=18,
                                                                        weight=ft.FontWeight.BOLD)]),
                       ft.Text(vm.storage_warning, size=16)]),
            bgcolor=ft.Colors.ERROR_CONTAINER, border_radius=10, padding=12)))
    if vm.resume:
        r = vm.resume
        body.append(ft.Container(
            ft.Row([ft.Icon(ft.Icons.PLAY_CIRCLE_OUTLINE), ft.Text(r.label, size=16, expand=True),
                    big_button("Resume visit", lambda e: ctx.go(f"/visits/{r.visit_id}"), identifier="resume")],
                   wrap=True),
            bgcolor=ft.Colors.TERTIARY_CONTAINER, border_radius=10, padding=12))
    body.append(ft.Row([big_button("New walk", lambda e: ctx.go("/walks/new"), icon=ft.Icons.ADD,
                                   identifier="new-walk")]))
    if vm.empty_message:
        body.append(ft.Text(vm.empty_message, size=16))
    for row in vm.rows:
        body.append(list_row(f"walk:{row.walk_id}", row.title, row.summary,
                             lambda e, wid=row.walk_id: ctx.go(f"/walks/{wid}"), icon=ft.Icons.DIRECTIONS_WALK))
    actions = [icon_button(ft.Icons.SYNC, "Sync", lambda e: ctx.go("/sync")),
               icon_button(ft.Icons.SETTINGS, "Settings", lambda e: ctx.go("/settings"))]
    if ctx.sync is not None and ctx.sync.connection()["role"] == "admin":  # the Admin screen, admins only
        actions.append(icon_button(ft.Icons.ADMIN_PANEL_SETTINGS, "Admin", lambda e: ctx.go("/admin")))
    return screen("/", "Walks", body, actions=actions, message=msg)
