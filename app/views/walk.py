"""The Walk screen: its visits by number, "New visit", open/edit/delete (with undo), and "Debrief"."""
from __future__ import annotations

import flet as ft

from app.viewmodels.walk import WalkVM
from app.views._widgets import MessageLine, big_button, heading, icon_button, list_row, screen
from app.views.context import AppContext


def build(ctx: AppContext, walk_id: str) -> ft.View:
    vm = WalkVM(ctx.service, walk_id)
    msg = MessageLine()
    ctx.message = msg.show
    rows = ft.Column(spacing=6)
    undo_box = ft.Row()

    def new_visit(e):
        visit_id = ctx.guard(vm.new_visit)
        if visit_id:
            ctx.go(f"/visits/{visit_id}")

    def confirm_delete(row):
        def yes(e):
            ctx.page.pop_dialog()
            said = ctx.guard(lambda: vm.delete(row.visit_id))
            if said:
                msg.show(said)
            draw()
            ctx.page.update()

        ctx.page.show_dialog(ft.AlertDialog(
            modal=True, title=ft.Text(f"Delete visit {row.number}?"),
            content=ft.Text("Its ratings and notes go with it. You can undo this while this screen is open."),
            actions=[ft.TextButton("Cancel", on_click=lambda e: ctx.page.pop_dialog(), height=48),
                     ft.FilledButton("Delete", on_click=yes, height=48)]))

    def undo(e):
        said = ctx.guard(vm.undo)
        if said:
            msg.show(said)
        draw()

    def draw():
        rows.controls = [ft.Text(vm.empty_message, size=16)] if vm.empty_message else []
        for r in vm.rows:
            # a teammate's visit is theirs to change: it opens, but has no edit or delete
            trailing = [icon_button(ft.Icons.EDIT, f"Edit visit {r.number}",
                                    lambda e, vid=r.visit_id: ctx.go(f"/visits/{vid}"), f"edit-visit:{r.key}"),
                        icon_button(ft.Icons.DELETE_OUTLINE, f"Delete visit {r.number}",
                                    lambda e, row=r: confirm_delete(row), f"delete-visit:{r.key}")] if r.mine else []
            rows.controls.append(list_row(
                f"visit:{r.key}", r.title, r.summary, lambda e, vid=r.visit_id: ctx.go(f"/visits/{vid}"),
                icon=ft.Icons.CHECK_CIRCLE if r.finished else ft.Icons.PENDING_OUTLINED, trailing=trailing))
        undo_box.controls = [big_button(vm.undo_label, undo, icon=ft.Icons.UNDO, primary=False,
                                        identifier="undo")] if vm.can_undo else []

    team_box = ft.Column(spacing=6)
    person = ft.TextField(label="Teammate's learnwalk id")

    def change_team(action):
        said = ctx.guard(action)
        if said:
            msg.show(said)
            person.value = ""
        draw_team()
        ctx.page.update()

    def draw_team():
        entries = [ft.Row([ft.Text(label, size=15, expand=True)] + (
            [icon_button(ft.Icons.PERSON_REMOVE, f"Take {label} off the team",
                         lambda e, t=t: change_team(lambda: vm.remove_from_team(t)), f"team-remove:{t}")]
            if vm.can_change_team else [])) for t, label in vm.team]
        team_box.controls = [heading("Team"), ft.Text(vm.team_help, size=14)] + (
            entries or [ft.Text("No one on the team yet.", size=15)])
        if vm.can_change_team:
            # side by side on a tablet, one above the other on a phone (the field's label is not squeezed)
            team_box.controls.append(ft.ResponsiveRow([ft.Container(person, col={"xs": 12, "md": 8}), ft.Container(
                big_button("Add to team", lambda e: change_team(lambda: vm.add_to_team(person.value or "")),
                           icon=ft.Icons.PERSON_ADD, primary=False, identifier="add-to-team"),
                col={"xs": 12, "md": 4})], run_spacing=8, vertical_alignment=ft.CrossAxisAlignment.CENTER))

    draw()
    draw_team()
    body = [
        ft.Text(vm.subtitle, size=15),
        ft.Row([big_button("New visit", new_visit, icon=ft.Icons.ADD, identifier="new-visit"),
                big_button("Debrief", lambda e: ctx.go(f"/walks/{walk_id}/debrief"), icon=ft.Icons.BAR_CHART,
                           primary=False, identifier="debrief")], wrap=True),
        undo_box,
        rows,
        team_box,
    ]
    view = screen(f"/walks/{walk_id}", vm.title, body, back=lambda e: ctx.go("/"), message=msg)
    sync = ctx.sync

    def heard():  # a background round ended: a teammate's visit that arrived is listed without a tap
        if ctx.page.views and ctx.page.views[-1] is view:
            if sync.last_report is not None and sync.last_report.pulled:
                ctx.guard(vm.refresh)
                draw()
                ctx.page.update()
        else:
            sync.unwatch(view)
            if ctx.sync_listeners is not None:
                ctx.sync_listeners.remove(heard)

    if sync is not None and sync.status().enrolled:
        sync.watch(view)  # team data on screen: pull about every minute while it is open
        if ctx.sync_listeners is not None:
            ctx.sync_listeners.add(heard)
    return view
