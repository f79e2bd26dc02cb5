"""The New walk screen: school (or add one), date, rubric, focus look-fors, team, cycle and phase."""
from __future__ import annotations

import flet as ft

from app.viewmodels.new_walk import NewWalkVM
from app.views._widgets import ChoiceGroup, MessageLine, big_button, heading, quiet, screen
from app.views.context import AppContext
from app.views.cycle_picker import CyclePicker


def build(ctx: AppContext) -> ft.View:
    vm = NewWalkVM(ctx.service)
    msg = MessageLine()
    ctx.message = msg.show
    schools_box, focus = ft.Column(), ft.Column(spacing=0)
    new_school = ft.TextField(label="New school name", expand=True)

    def pick_school(value):
        vm.choose_school(value)
        schools.select(value)
        rubrics.select(vm.rubric_key)
        cycle.draw()
        draw_focus()

    def draw_schools():
        nonlocal schools
        schools = ChoiceGroup("school", vm.schools, vm.school_id, pick_school, min_width=120)
        schools_box.controls = [schools.control] if vm.schools else [
            ft.Text("No schools on this device yet: add yours by name.", size=15)]

    def add_school(e):
        if ctx.attempt(lambda: vm.add_school(new_school.value or "")):
            new_school.value = ""
            msg.show("")
            draw_schools()
            cycle.draw()

    def pick_rubric(key):
        ctx.attempt(lambda: vm.choose_rubric(key))
        rubrics.select(vm.rubric_key)
        draw_focus()
        cycle.draw()

    def toggle(e, lookfor_id):
        if ctx.attempt(lambda: vm.toggle_focus(lookfor_id)):
            msg.show("")
        e.control.value = lookfor_id in vm.focus  # a refused fourth tick is undone on screen too

    def draw_focus():
        if vm.cycle.chosen() is not None:  # a walk of a cycle takes its priorities as its focus
            focus.controls = [ft.Text("From the cycle's priorities (see Cycle below).", size=15)]
            return
        focus.controls = [ft.Checkbox(label=c.label, value=c.value in vm.focus,
                                      on_change=lambda e, v=c.value: toggle(e, v),
                                      label_style=ft.TextStyle(size=16), height=48)
                          for c in vm.focus_choices]

    def pick_phase(value):
        vm.phase = value
        phases.select(value)

    schools = None
    draw_schools()
    rubrics = ChoiceGroup("rubric", vm.rubric_choices, vm.rubric_key, pick_rubric)
    phases = ChoiceGroup("phase", vm.phase_choices, vm.phase, pick_phase)
    draw_focus()
    date = ft.TextField(label="Date (YYYY-MM-DD)", value=vm.date_text,
                        on_change=quiet(lambda e: setattr(vm, "date_text", e.control.value or "")))
    team = ft.TextField(label="Team names (optional, separated by commas)",
                        on_change=quiet(lambda e: setattr(vm, "team_text", e.control.value or "")))
    cycle = CyclePicker(ctx, vm, on_change=lambda: (rubrics.select(vm.rubric_key), draw_focus()))

    def start(e):
        walk_id = ctx.guard(vm.start)
        if walk_id:
            ctx.go(f"/walks/{walk_id}")

    body = [
        heading("School"), schools_box,
        ft.Row([new_school, big_button("Add school", add_school, icon=ft.Icons.ADD, primary=False)]),
        heading("Date"), date,
        heading("Rubric"), rubrics.control,
        heading("Focus look-fors (choose 2 or 3)"), focus,
        heading("Team"), team, cycle.control,
        heading("Phase"), phases.control,
        ft.Row([big_button("Start walk", start, icon=ft.Icons.PLAY_ARROW, identifier="start-walk")]),
    ]
    return screen("/walks/new", "New walk", body, back=lambda e: ctx.go("/"), message=msg)
