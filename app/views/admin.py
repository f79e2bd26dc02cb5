"""The Admin screen (role admin): publish a rubric, export synced data, people and devices, settings, audit log.

Thin over app.viewmodels.admin.AdminVM; every section is redrawn from the view-model's state after an action.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import flet as ft

from app.viewmodels.admin import FORMATS, AdminVM
from app.views._widgets import ChoiceGroup, MessageLine, big_button, heading, screen
from app.views.context import AppContext


@dataclass(frozen=True)
class _Choice:
    value: str
    label: str


def _meta(ctx: AppContext) -> dict:
    if ctx.sync is None:
        return {}
    return ctx.sync.connection()


def _exports_dir(ctx: AppContext) -> Path:
    return ctx.device.data_dir.resolve() / "exports"


def build(ctx: AppContext) -> ft.View:
    vm = AdminVM(_meta(ctx), _exports_dir(ctx))
    msg = MessageLine()
    ctx.message = msg.show
    back = lambda e: ctx.go("/")  # noqa: E731
    if vm.unavailable:
        return screen("/admin", "Admin", [ft.Text(vm.unavailable, size=16)], back=back, message=msg)

    problems = ft.Column(spacing=4)
    # one node a screen reader reads whole (and tests find by identifier), as the debrief's tally rows do
    problems_node = ft.Semantics(identifier="rubric-problems", container=True, exclude_semantics=True,
                                 content=problems)
    rubrics = ft.Column(spacing=4)
    people = ft.Column(spacing=4)
    devices = ft.Column(spacing=4)
    audit = ft.Column(spacing=2)
    threshold = ft.TextField(label="Small-cell threshold", width=220, keyboard_type=ft.KeyboardType.NUMBER)
    class_type = ft.Checkbox(label="Record class type")
    identifying = ft.Checkbox(label="Allow photos or identifying fields")

    def show() -> None:
        st = vm.state
        msg.show(st.message, st.error)
        problems.controls = [ft.Text(p, size=14, color=ft.Colors.ERROR) for p in st.problems]
        problems_node.label = "\n".join(st.problems)
        rubrics.controls = [ft.Text(f"{r['rubric_id']}@{r['version']} · {r['title']} · {r['lookfors']} look-fors",
                                    size=14) for r in st.rubrics]
        people.controls = [ft.Row([ft.Text(f"{u['email']} · {u['role']}" + ("" if u["active"] else " · inactive"),
                                           size=14, expand=True),
                                   ft.TextButton("Enrollment code", on_click=lambda e, uid=u["id"]: act(
                                       vm.enrollment_code, uid))]) for u in st.users]
        devices.controls = [ft.Row([ft.Text(vm.device_line(d), size=14, expand=True)] + (
            [] if d.get("revoked_at") else [ft.TextButton("Revoke", on_click=lambda e, did=d["id"]: act(vm.revoke, did))]))
            for d in st.devices]
        audit.controls = [ft.Text(vm.audit_line(a), size=13) for a in st.audit]
        if st.settings:
            threshold.value = str(st.settings["small_cell_threshold"])
            class_type.value = st.settings["record_class_type"]
            identifying.value = st.settings["allow_identifying_fields"]

    def act(fn, *args) -> None:
        fn(*args)
        show()

    name_field = ft.TextField(label="Rubric file name", value=vm.filename,
                              on_change=lambda e: setattr(vm, "filename", e.control.value))
    text_field = ft.TextField(label="Rubric file text", multiline=True, min_lines=6, max_lines=14,
                              on_change=lambda e: setattr(vm, "text", e.control.value))
    formats = ChoiceGroup("export-format", [_Choice(v, label) for v, label in FORMATS], vm.fmt,
                          lambda v: (setattr(vm, "fmt", v), formats.select(v)))
    school = ft.TextField(label="School id (optional)", on_change=lambda e: setattr(vm, "school", e.control.value))
    date_from = ft.TextField(label="From date (YYYY-MM-DD)", width=220,
                             on_change=lambda e: setattr(vm, "date_from", e.control.value))
    date_to = ft.TextField(label="To date (YYYY-MM-DD)", width=220,
                           on_change=lambda e: setattr(vm, "date_to", e.control.value))

    body = [
        heading("Publish a rubric"),
        ft.Text("Paste a rubric file (YAML, or the district CSV template). It is checked first; a file with any "
                "problem is not published.", size=14),
        name_field, text_field,
        ft.Row([big_button("Publish rubric", lambda e: act(vm.publish), identifier="admin-publish")]),
        problems_node,
        heading("Published rubrics", 16), rubrics,
        heading("Export synced data"),
        formats.control,
        ft.Row([school, date_from, date_to], wrap=True),
        ft.Row([big_button("Export", lambda e: act(vm.export), icon=ft.Icons.DOWNLOAD, identifier="admin-export")]),
        heading("People"), people,
        heading("Devices"), devices,
        heading("District settings"),
        threshold, class_type, identifying,
        ft.Row([big_button("Save settings", lambda e: act(vm.save_settings, threshold.value or "",
                                                          bool(class_type.value), bool(identifying.value)),
                           primary=False, identifier="admin-save-settings")]),
        heading("Recent changes (audit log)"), audit,
    ]
    vm.refresh()
    show()
    return screen("/admin", "Admin", body, back=back, message=msg)
