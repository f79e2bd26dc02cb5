"""The Sync screen: pending count, last success, errors and refused changes in words, and "Sync now"."""
from __future__ import annotations

import flet as ft

from app.viewmodels.sync import SyncVM
from app.views._widgets import MessageLine, big_button, heading, screen
from app.views.context import AppContext


def build(ctx: AppContext) -> ft.View:
    vm = SyncVM(ctx.sync)
    msg = MessageLine()
    ctx.message = msg.show
    headline = ft.Text(size=17, weight=ft.FontWeight.W_600)
    facts, rejected = ft.Column(spacing=4), ft.Column(spacing=6)

    def draw():
        headline.value = vm.headline
        facts.controls = [ft.Row([ft.Text(k + ":", size=15, weight=ft.FontWeight.W_600), ft.Text(v, size=15)],
                                 wrap=True) for k, v in vm.facts]
        rows = vm.rejected
        rejected.controls = ([heading("Refused by the server", 16),
                              ft.Text("These stay on this device until the reason is dealt with.", size=14),
                              ft.Row([big_button("Send refused changes again", retry, icon=ft.Icons.REPLAY,
                                                 primary=False, identifier="retry-refused")])]
                             + [ft.Container(ft.Column([ft.Text(r.what, weight=ft.FontWeight.W_600),
                                                        ft.Text(r.reason), ft.Text(r.when, size=13)], spacing=2),
                                             padding=10, border_radius=8, bgcolor=ft.Colors.ERROR_CONTAINER)
                                for r in rows]) if rows else []

    async def sync_now(e):
        msg.show("Syncing...")
        ctx.page.update()
        said = await ctx.in_background(vm.sync_now)
        if said:
            msg.show(said)
        vm.refresh()
        draw()
        ctx.page.update()  # the update above (for "Syncing...") turned Flet's auto-update off for this event

    def retry(e):
        said = ctx.guard(vm.retry_refused)
        if said:
            msg.show(said)
        draw()

    def heard():  # a background round ended: show fresh figures while this screen is open
        if ctx.page.views and ctx.page.views[-1] is view:
            vm.refresh()
            draw()
            ctx.page.update()
        elif ctx.sync_listeners is not None:
            ctx.sync_listeners.remove(heard)

    draw()
    body = [headline, facts,
            ft.Row([big_button("Sync now", sync_now, icon=ft.Icons.SYNC, identifier="sync-now"),
                    big_button("Settings", lambda e: ctx.go("/settings"), icon=ft.Icons.SETTINGS, primary=False)],
                   wrap=True),
            rejected]
    view = screen("/sync", "Sync", body, back=lambda e: ctx.go("/"), message=msg)
    if ctx.sync_listeners is not None:
        ctx.sync_listeners.add(heard)
    return view
