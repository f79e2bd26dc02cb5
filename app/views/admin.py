"""The Admin screen (role admin): publish a rubric, export synced data, people and devices, settings, audit log.

Thin over app.viewmodels.admin.AdminVM; every section is redrawn from the view-model's state after an action.
Exports and rubric files travel through the user's browser (app.views.downloads, FilePicker): nothing is read
from or written to the disk of the machine running the app.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

import flet as ft

from app.viewmodels.admin import ALL_SCHOOLS, FORMATS, RUBRIC_EXTENSIONS, AdminVM
from app.views._widgets import MIN_TARGET, ChoiceChip, ChoiceGroup, MessageLine, big_button, heading, screen
from app.views.context import AppContext, message_of
from app.views.downloads import deliver

MONO = "monospace"


@dataclass(frozen=True)
class _Choice:
    value: str
    label: str


def _meta(ctx: AppContext) -> dict:
    if ctx.sync is None:
        return {}
    return ctx.sync.connection()


def _small_button(text: str, on_click, identifier: str, tooltip: str) -> ft.Control:
    """A row's own action, as tall as every touch target (48 px)."""
    return ft.Semantics(identifier=identifier, content=ft.OutlinedButton(
        text, on_click=on_click, height=MIN_TARGET, tooltip=tooltip,
        style=ft.ButtonStyle(text_style=ft.TextStyle(size=15), padding=ft.Padding.symmetric(horizontal=16))))


class _Toggle:
    """An on/off setting as a 56 px chip (a Checkbox's box or a Switch is 40 px high): `.value` like a Checkbox."""

    def __init__(self, identifier: str, label: str):
        self.value = False
        self.chip = ChoiceChip(identifier, label, False, self._flip)
        self.control = self.chip.control

    def _flip(self, e) -> None:
        self.set(not self.value)

    def set(self, value: bool) -> None:
        self.value = bool(value)
        self.chip.set(self.value)


def build(ctx: AppContext) -> ft.View:
    vm = AdminVM(_meta(ctx))
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
    people = ft.Column(spacing=6)
    devices = ft.Column(spacing=6)
    audit = ft.Column(spacing=4)
    school_box = ft.Column(spacing=4)
    threshold = ft.TextField(label="Small-cell threshold", width=220, keyboard_type=ft.KeyboardType.NUMBER)
    class_type = _Toggle("setting:record_class_type", "Record class type")
    identifying = _Toggle("setting:allow_identifying_fields", "Allow photos or identifying fields")
    progress_text = ft.Text("", size=15)
    progress = ft.Semantics(identifier="export-progress", live_region=True, visible=False, content=ft.Column(
        [ft.ProgressBar(), progress_text], spacing=4))
    schools: dict[str, ChoiceGroup] = {}

    def draw_problems() -> None:
        listed = vm.problem_list()
        lines = [t for t in vm.numbered_lines() if t.problems]
        problems.controls = [ft.Text(p.text, size=15, color=ft.Colors.ERROR) for p in listed]
        if lines:
            problems.controls.append(ft.Text("In the file as shown above:", size=14))
        for t in lines:  # the line itself, numbered, so the fix is found without counting lines
            problems.controls.append(ft.Semantics(identifier=f"rubric-line:{t.number}", content=ft.Container(
                ft.Text(f"{t.number:>4} │ {t.text}", size=14, font_family=MONO, selectable=True),
                bgcolor=ft.Colors.ERROR_CONTAINER, padding=ft.Padding.symmetric(horizontal=8, vertical=4),
                border_radius=4)))
        # read out as shown: the problems, then their lines of the file
        problems_node.label = "\n".join([p.text for p in listed] + (["In the file as shown above:"] if lines else [])
                                        + [f"{t.number:>4} │ {t.text}" for t in lines])

    def draw_schools() -> None:
        group = ChoiceGroup("export-school", [_Choice(v or "all", label) for v, label in vm.school_choices()],
                            vm.school or "all", pick_school)
        schools["group"] = group
        school_box.controls = [ft.Text("School", size=14), group.control]

    def pick_school(value: str) -> None:
        vm.school = ALL_SCHOOLS if value == "all" else value
        schools["group"].select(value)

    def show() -> None:
        st = vm.state
        msg.show(st.message, st.error)
        draw_problems()
        rubrics.controls = [ft.Text(f"{r['rubric_id']}@{r['version']} · {r['title']} · {r['lookfors']} look-fors",
                                    size=14) for r in st.rubrics]
        people.controls = [ft.Row([ft.Text(vm.person_line(u), size=15, expand=True),
                                   _small_button("Enrollment code", lambda e, uid=u["id"]: act(vm.enrollment_code, uid),
                                                 f"enroll:{u['email']}", f"A one-time code for {u['email']}'s new device")],
                                  vertical_alignment=ft.CrossAxisAlignment.CENTER) for u in st.users]
        devices.controls = [ft.Row([ft.Column([ft.Text(d.owner, size=15, weight=ft.FontWeight.W_600),
                                               ft.Text(f"{d.role} · {d.platform} · "
                                                       + ("revoked" if d.revoked else f"last sync {d.last_sync}"),
                                                       size=14)], spacing=2, tight=True, expand=True)]
                                   + ([] if d.revoked else [_small_button(
                                       "Revoke", lambda e, did=d.id: act(vm.revoke, did), f"revoke:{d.id}",
                                       f"Stop {d.owner}'s {d.platform} device from syncing")]),
                                   vertical_alignment=ft.CrossAxisAlignment.CENTER)
                            for d in vm.device_rows()]
        audit.controls = [ft.Text(line, size=14) for line in vm.audit_lines()]
        draw_schools()
        if st.settings:
            threshold.value = str(st.settings["small_cell_threshold"])
            class_type.set(st.settings["record_class_type"])
            identifying.set(st.settings["allow_identifying_fields"])

    def act(fn, *args) -> None:
        ctx.guard(lambda: fn(*args))
        show()

    name_field = ft.TextField(label="Rubric file name", value=vm.filename, expand=True,
                              on_change=lambda e: setattr(vm, "filename", e.control.value))
    text_field = ft.TextField(label="Rubric file text", multiline=True, min_lines=6, max_lines=14,
                              text_style=ft.TextStyle(font_family=MONO, size=14),
                              on_change=lambda e: setattr(vm, "text", e.control.value))

    async def choose_file(e):
        try:
            files = await ft.FilePicker().pick_files(
                dialog_title="Choose a rubric file", file_type=ft.FilePickerFileType.CUSTOM,
                allowed_extensions=list(RUBRIC_EXTENSIONS), with_data=True)
        except Exception as exc:  # a platform without a file dialog: say so
            ctx.error(message_of(exc, "choosing a rubric file"))
            return
        if files and vm.load_file(files[0].name, files[0].bytes):
            name_field.value, text_field.value = vm.filename, vm.text
        if files:
            show()

    formats = ChoiceGroup("export-format", [_Choice(v, label) for v, label in FORMATS], vm.fmt,
                          lambda v: (setattr(vm, "fmt", v), formats.select(v)))
    date_from = ft.TextField(label="From date (YYYY-MM-DD)", width=240,
                             on_change=lambda e: setattr(vm, "date_from", e.control.value))
    date_to = ft.TextField(label="To date (YYYY-MM-DD)", width=240,
                           on_change=lambda e: setattr(vm, "date_to", e.control.value))
    export_btn = big_button("Export and download", None, icon=ft.Icons.DOWNLOAD, identifier="admin-export")

    async def export(e):
        if vm.state.exporting:
            return
        progress.visible, progress_text.value = True, vm.progress_text
        ctx.page.update()
        job = asyncio.ensure_future(ctx.in_background(vm.export))
        while not job.done():  # the bytes so far, while a long export streams in
            await asyncio.wait([job], timeout=0.3)
            progress_text.value = vm.progress_text
            ctx.page.update()
        progress.visible = False
        download = job.result()
        if download is not None:
            await deliver(ctx, download.name, download.data, "the export")
        show()
        ctx.page.update()

    export_btn.content.on_click = export

    body = [
        heading("Publish a rubric"),
        ft.Text("Choose a rubric file (YAML, or the district CSV template) or paste its text. It is checked "
                "first; a file with any problem is not published, and each problem names its line below.", size=15),
        ft.Row([big_button("Choose rubric file", choose_file, icon=ft.Icons.UPLOAD_FILE, primary=False,
                           identifier="admin-choose-file"), name_field],
               vertical_alignment=ft.CrossAxisAlignment.CENTER),
        text_field,
        ft.Row([big_button("Publish rubric", lambda e: act(vm.publish), identifier="admin-publish")]),
        problems_node,
        heading("Published rubrics", 16), rubrics,
        heading("Export synced data"),
        ft.Text("The file arrives in this browser's downloads, named for its school and dates.", size=15),
        formats.control,
        school_box,
        ft.Row([date_from, date_to], wrap=True),
        ft.Row([export_btn]),
        progress,
        heading("People"), people,
        heading("Devices"), devices,
        heading("District settings"),
        threshold, ft.Row([class_type.control, identifying.control], wrap=True, spacing=8, run_spacing=8),
        ft.Row([big_button("Save settings", lambda e: act(vm.save_settings, threshold.value or "",
                                                          bool(class_type.value), bool(identifying.value)),
                           primary=False, identifier="admin-save-settings")]),
        heading("Recent changes (audit log)"), audit,
    ]
    vm.refresh()
    show()
    return screen("/admin", "Admin", body, back=back, message=msg)
