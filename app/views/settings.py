"""The Settings screen: enroll this device (server address and one-time code); where its data lives."""
from __future__ import annotations

import flet as ft

from app.viewmodels.settings import SettingsVM
from app.views._widgets import MessageLine, big_button, heading, quiet, screen
from app.views.context import AppContext


def build(ctx: AppContext) -> ft.View:
    vm = SettingsVM(ctx.sync, ctx.data_dir, server_hint=ctx.server_hint)
    msg = MessageLine()
    ctx.message = msg.show
    state = ft.Text(vm.enrollment_text, size=16)
    my_id = ft.Text(vm.my_id_text, size=14, selectable=True, visible=bool(vm.my_id_text))
    # no hint text: Flutter adds it to the field's accessible name once the field has focus
    server = ft.TextField(label="Server address", value=vm.server_url,
                          keyboard_type=ft.KeyboardType.URL,
                          on_change=quiet(lambda e: setattr(vm, "server_url", e.control.value or "")))
    code = ft.TextField(label="Enrollment code",
                        on_change=quiet(lambda e: setattr(vm, "code", e.control.value or "")))

    async def enroll(e):
        msg.show("Enrolling...")
        ctx.page.update()
        said = await ctx.in_background(vm.enroll)
        if said:
            msg.show(said)
            code.value = ""
        state.value = vm.enrollment_text
        my_id.value, my_id.visible = vm.my_id_text, bool(vm.my_id_text)
        ctx.page.update()  # the update above (for "Enrolling...") turned Flet's auto-update off for this event

    body = [heading("This device"), state, my_id,
            heading("Enroll", 16),
            ft.Text("Ask your admin for a one-time enrollment code, then type the server address "
                    "(like https://walks.district.org) and the code.", size=14),
            server, code,
            ft.Row([big_button("Enroll", enroll, icon=ft.Icons.LINK, identifier="enroll")]),
            heading("Data", 16),
            ft.Text(f"Walks are kept in {vm.data_dir or 'the app data folder'} on this device.", size=14)]
    return screen("/settings", "Settings", body, back=lambda e: ctx.go("/"), message=msg)
