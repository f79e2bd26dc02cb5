"""The Cycle part of the New walk screen: the school's cycles as chips (newest first, then "No cycle"), the chosen
cycle's priorities and targets, and a form to make a new cycle (leads and admins; the screen says so)."""
from __future__ import annotations

from typing import Callable

import flet as ft

from app.viewmodels.new_walk import NewWalkVM
from app.views._widgets import ChoiceGroup, big_button, heading, quiet
from app.views.context import AppContext


class CyclePicker:
    """`control` is the whole section; `draw()` redraws it (after a school or rubric change); on_change() is called
    when the chosen cycle changes, so the screen redraws the focus look-fors it decides."""

    def __init__(self, ctx: AppContext, vm: NewWalkVM, on_change: Callable[[], None]):
        self.ctx, self.vm, self.on_change = ctx, vm, on_change
        self.control = ft.Column(spacing=8)
        self.draw()

    def draw(self) -> None:
        vm, cyc = self.vm, self.vm.cycle
        chips = ChoiceGroup("cycle", cyc.options(), cyc.cycle_id, self._pick, min_width=120)
        out: list[ft.Control] = [heading("Cycle"), ft.Text(
            "The school's 12-week cycle this walk belongs to: its walks (baseline, six-week, end of cycle) are read "
            "together, and each takes the cycle's priorities as its focus look-fors.", size=14), chips.control]
        lines = cyc.focus_lines(vm.rubric)
        if lines:
            out.append(ft.Semantics(identifier="cycle-priorities", content=ft.Column(
                [ft.Text(line, size=15) for line in lines], spacing=2)))
        out.append(ft.Text(cyc.rule, size=13, color=ft.Colors.ON_SURFACE_VARIANT))
        if cyc.may_edit and not cyc.form_open:
            buttons = [big_button("New cycle", self._open, icon=ft.Icons.ADD, primary=False, identifier="new-cycle")]
            if lines:  # a cycle is chosen: its lead may set or change its targets
                buttons.append(big_button("Change this cycle", self._edit, icon=ft.Icons.EDIT, primary=False,
                                          identifier="edit-cycle"))
            out.append(ft.Row(buttons, wrap=True))
        if cyc.form_open:
            out.append(self._form())
        self.control.controls = out

    def _refresh(self) -> None:
        self.draw()
        self.on_change()
        self.ctx.page.update()

    def _pick(self, value: str) -> None:
        if self.ctx.attempt(lambda: self.vm.pick_cycle(value)):
            self.ctx.say("")
        self._refresh()

    def _open(self, e) -> None:
        self.ctx.attempt(self.vm.cycle.open_form)
        self._refresh()

    def _edit(self, e) -> None:
        self.ctx.attempt(self.vm.cycle.open_edit)
        self._refresh()

    def _form(self) -> ft.Control:
        cyc, rubric = self.vm.cycle, self.vm.rubric
        options = [ft.dropdown.Option(key=lf.id, text=lf.label) for lf in rubric.lookfors] if rubric else []
        rows: list[ft.Control] = []
        for n, d in enumerate(cyc.drafts, 1):
            def set_lf(e, d=d):
                d.lookfor_id = e.control.value
            def set_target(e, d=d):
                d.target_text = e.control.value or ""
            rows.append(ft.Row([
                ft.Dropdown(label=f"Priority {n}: look-for", options=options, value=d.lookfor_id, expand=True,
                            on_select=set_lf),
                ft.TextField(label="Target % by the end-of-cycle walk", value=d.target_text, width=220,
                             keyboard_type=ft.KeyboardType.NUMBER, on_change=quiet(set_target))], wrap=True))

        editing = cyc.editing is not None

        def create(e):
            if self.ctx.guard(lambda: cyc.create(self.vm.rubric)) is not None:
                self.ctx.say("Cycle saved; this walk belongs to it." if editing else
                             "Cycle made; this walk belongs to it.")
            self._refresh()

        def cancel(e):
            cyc.close_form()
            self._refresh()

        def more(e):
            self.ctx.attempt(cyc.add_priority)
            self._refresh()

        def fewer(e):
            self.ctx.attempt(cyc.remove_priority)
            self._refresh()

        return ft.Container(ft.Column([
            ft.Text("Change cycle" if editing else "New cycle", size=16, weight=ft.FontWeight.W_600),
            ft.TextField(label="Cycle name (e.g. Fall 2026)", value=cyc.name,
                         on_change=quiet(lambda e: setattr(cyc, "name", e.control.value or ""))),
            ft.TextField(label="Start date (YYYY-MM-DD)", value=cyc.start_text,
                         on_change=quiet(lambda e: setattr(cyc, "start_text", e.control.value or ""))),
            ft.Text("2 or 3 priorities: each a look-for of the rubric and the share of classrooms where it should be "
                    "evident by the end-of-cycle walk (e.g. 60).", size=14),
            *rows,
            ft.Row([big_button("Save cycle" if editing else "Make cycle", create, icon=ft.Icons.CHECK,
                               identifier="make-cycle"),
                    ft.TextButton("Add a priority", on_click=more), ft.TextButton("One fewer", on_click=fewer),
                    ft.TextButton("Cancel", on_click=cancel)],
                   wrap=True),
        ], spacing=8), padding=8, border=ft.Border.all(1, "#dee2e6"), border_radius=8)
