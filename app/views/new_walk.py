"""The New walk screen: school (or add one), date, rubric, focus look-fors, team, cycle and phase.

The date is picked in Flet's date picker (today unless changed); the team is ticked from the district's people
(learnwalk ids, which give them access to the walk) with guests typed by name. Each field sits under its own
heading, and long labels wrap at phone width.
"""
from __future__ import annotations

from datetime import date, timedelta

import flet as ft

from app.viewmodels.new_walk import NewWalkVM
from app.views._widgets import (ChoiceChip, ChoiceGroup, MessageLine, big_button, chip_row, heading, picker, quiet,
                                screen)
from app.views.context import AppContext
from app.views.cycle_picker import CyclePicker


def build(ctx: AppContext) -> ft.View:
    vm = NewWalkVM(ctx.service)
    msg = MessageLine()
    ctx.message = msg.show
    schools_box, focus = ft.Column(), ft.Column(spacing=0)
    new_school = ft.TextField(label="New school name")

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
        # 48 px: a touch target, with room for a label that wraps to a second line at phone width
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
    # ---- date: the picker, today by default ----
    today = date.today()
    date_text = ft.Text(vm.date_label, size=16)

    def picked(e):
        if e.control.value is not None:
            vm.choose_date(e.control.value)
            date_text.value = vm.date_label

    def open_picker(e):
        chosen = vm.walk_date or today
        ctx.page.show_dialog(ft.DatePicker(
            value=chosen, current_date=today, first_date=today - timedelta(days=366 * 2),
            last_date=today + timedelta(days=366), on_change=picked, help_text="Date of the walk",
            confirm_text="OK", cancel_text="Cancel"))

    date_button = ft.Semantics(identifier="walk-date", content=ft.OutlinedButton(
        content=ft.Row([ft.Icon(ft.Icons.CALENDAR_MONTH), date_text], spacing=8, tight=True),
        on_click=open_picker, height=48, tooltip="Change the walk's date"))

    # ---- team: the district's people, and guests by name ----
    def toggle_person(person_id):
        ctx.attempt(lambda: vm.toggle_person(person_id))
        person_chips[person_id].set(person_id in vm.team_ids)

    # large chips, each its own check box for a screen reader (several can be chosen); a long email wraps
    person_chips = {p.value: ChoiceChip(f"person:{p.value}", p.label, False, picker(toggle_person, p.value))
                    for p in vm.people}
    people = [chip_row([c.control for c in person_chips.values()])] if person_chips else []
    team = ft.TextField(label="Guests (names, separated by commas)", multiline=True, min_lines=1, max_lines=3,
                        on_change=quiet(lambda e: setattr(vm, "team_text", e.control.value or "")))
    cycle = CyclePicker(ctx, vm, on_change=lambda: (rubrics.select(vm.rubric_key), draw_focus()))

    def start(e):
        walk_id = ctx.guard(vm.start)
        if walk_id:
            ctx.go(f"/walks/{walk_id}")

    body = [
        heading("School"), schools_box,
        # side by side on a tablet, one above the other on a phone
        ft.ResponsiveRow([ft.Container(new_school, col={"xs": 12, "md": 8}),
                          ft.Container(big_button("Add school", add_school, icon=ft.Icons.ADD, primary=False),
                                       col={"xs": 12, "md": 4})], run_spacing=8,
                         vertical_alignment=ft.CrossAxisAlignment.CENTER),
        heading("Date"), ft.Row([date_button], wrap=True),
        heading("Rubric"), rubrics.control,
        heading("Focus look-fors (choose 2 or 3)"), focus,
        heading("Team"), ft.Text(vm.team_help, size=14), *people, team,
        cycle.control,
        heading("Phase"), phases.control,
        ft.Row([big_button("Start walk", start, icon=ft.Icons.PLAY_ARROW, identifier="start-walk")]),
    ]
    return screen("/walks/new", "New walk", body, back=lambda e: ctx.go("/"), message=msg)
