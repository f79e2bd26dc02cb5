"""The Visit capture screen: header with number, timer, grade, subject, class type and students; look-for cards.

Each look-for card shows its scale as a row of large choices plus "Not observed" (when the scale allows it); one
tap saves through the view-model, a tap on the chosen value clears it. The screen is built once and changed in
place (chips restyled, subject-specific cards shown or hidden), so taps never land on a half-redrawn screen.
Notes are folded behind a note chip until used, and save as they are typed (within about a second), on
leaving the field, on Enter, on Back and before "Finish visit". The header (timer, progress, "Next unrated")
stays put above the scrolling look-fors. A teammate's visit opens read-only. A card's info control
(`info:<lookfor_id>`) opens what each level looks like for that look-for, and its source, in a dialog: apart from
the choices, so a rating stays one tap.
"""
from __future__ import annotations

import asyncio

import flet as ft

from app.viewmodels.capture import NOT_OBSERVED, NOT_OBSERVED_LABEL, CaptureVM, LookForItem
from app.views._widgets import ChoiceChip, ChoiceGroup, MessageLine, heading, picker, screen
from app.views.context import OWN_BADGE, AppContext


def details_dialog(ctx: AppContext, item: LookForItem) -> ft.AlertDialog:
    """What each level looks like for this look-for, in large text, with its source; read from the rubric on the
    device, so it opens offline."""
    body: list[ft.Control] = [ft.Text(item.text, size=18)]
    for level in item.levels:
        body.append(ft.Column([ft.Text(level.label, size=18, weight=ft.FontWeight.BOLD),
                               ft.Text(level.text, size=18)], spacing=2))
    if not item.levels:
        body.append(ft.Text("This rubric does not describe the levels of this look-for.", size=18))
    if item.short_visit_text:
        body.append(ft.Text(item.short_visit_text, size=16, italic=True))
    if item.source:
        body.append(ft.Text(f"Source: {item.source}", size=16, color=ft.Colors.ON_SURFACE_VARIANT))
    if item.source_url:
        body.append(ft.Text(item.source_url, size=15, selectable=True, color=ft.Colors.ON_SURFACE_VARIANT))
    close = ft.Semantics(identifier="info-close", content=ft.FilledButton(
        "Close", on_click=lambda e: ctx.page.pop_dialog(), height=48,
        style=ft.ButtonStyle(text_style=ft.TextStyle(size=16))))
    return ft.AlertDialog(
        title=ft.Text(item.label, size=22, weight=ft.FontWeight.BOLD),
        content=ft.Semantics(identifier=f"info-sheet:{item.id}", content=ft.Container(
            ft.Column(body, spacing=14, scroll=ft.ScrollMode.AUTO, tight=True), width=600)),
        actions=[close], scrollable=True)


class LookForCard:
    """One look-for: label (starred when it is a focus), its info control, its text, the choices, and its note.

    The note is folded behind a note chip (`note:<lookfor_id>`) until it is used: a card with a note shows it.
    A read-only card (a teammate's visit) has greyed chips that do not react and shows its note as text."""

    def __init__(self, item: LookForItem, on_tap, note: ft.TextField | None, on_info=None, on_note=None):
        choices = list(item.choices)
        async def pick(v):
            await on_tap(item.id, v)

        self.group = ChoiceGroup(f"rate:{item.id}", choices, None, pick if on_tap else None, min_width=72,
                                 name=item.choice_name)
        if item.not_observed_allowed:
            na = ChoiceChip(f"rate:{item.id}:{NOT_OBSERVED}", NOT_OBSERVED_LABEL, False,
                            picker(pick, NOT_OBSERVED) if on_tap else None,
                            name=item.choice_name(NOT_OBSERVED_LABEL))
            self.group.chips[NOT_OBSERVED] = na
            self.group.control.controls.append(na.control)
        self.show(item)
        title = [ft.Text(item.label, size=17, weight=ft.FontWeight.BOLD, expand=True)]
        if item.focus:
            title.insert(0, ft.Icon(ft.Icons.STAR, color=ft.Colors.AMBER_800, tooltip="Focus look-for"))
        if on_info is not None and item.has_details:
            # beside the title, away from the choices: opening it never costs (or makes) a rating tap
            # the tooltip is its screen-reader name (a Semantics label as well would be read twice)
            title.append(ft.Semantics(identifier=f"info:{item.id}", button=True,
                                      content=ft.IconButton(
                                          ft.Icons.INFO_OUTLINE, tooltip=item.info_name, icon_size=28,
                                          on_click=lambda e: on_info(item.id),
                                          size_constraints=ft.BoxConstraints(min_width=48, min_height=48))))
        parts: list[ft.Control] = [ft.Row(title), ft.Text(item.text, size=14, color=ft.Colors.ON_SURFACE_VARIANT),
                                   self.group.control]
        self.note, self.note_chip = note, None
        if note is not None:
            note.visible = bool(item.note)
            # folded until used: one small chip instead of an open field on every card
            self.note_chip = ft.Semantics(
                identifier=f"note:{item.id}", label=f"Add a note: {item.label}", button=True,
                visible=not item.note, content=ft.Container(
                    ft.Row([ft.Icon(ft.Icons.EDIT_NOTE, size=22),
                            ft.Semantics(exclude_semantics=True, content=ft.Text("Add note", size=15))],
                           spacing=6, tight=True),
                    # no border: the tappable area is then the whole 48 px box, not the part inside a border
                    on_click=on_note, ink=True, height=48, border_radius=24, bgcolor=ft.Colors.SURFACE_CONTAINER_HIGH,
                    padding=ft.Padding.symmetric(horizontal=16)))
            parts += [ft.Row([self.note_chip]), note]
        elif item.note:
            parts.append(ft.Text(f"Note: {item.note}", size=15, italic=True))
        self.control = ft.Container(
            ft.Column(parts, spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH),
            key=ft.ScrollKey(item.id),  # "Next unrated" scrolls to it
            col={"xs": 12, "lg": 6}, padding=12, border_radius=12, visible=item.visible,
            bgcolor=ft.Colors.AMBER_50 if item.focus else ft.Colors.SURFACE_CONTAINER_LOW)

    def show(self, item: LookForItem) -> None:
        self.group.select(item.chosen)

    def unfold_note(self) -> None:
        if self.note is not None and self.note_chip is not None:
            self.note.visible, self.note_chip.visible = True, False


NOTE_SAVE_AFTER = 0.4  # s: a typed note is saved this long after a keystroke (at most once per interval)


def build(ctx: AppContext, visit_id: str) -> ft.View:
    vm = CaptureVM(ctx.service, visit_id, after_finish=ctx.after_finish)
    editable = vm.mine
    msg = MessageLine()
    ctx.message = msg.show
    timer = ft.Text(vm.timer_text(), size=18, weight=ft.FontWeight.BOLD)
    progress = ft.Text(vm.progress_short, size=16, weight=ft.FontWeight.W_600)
    kept = ft.Text(vm.kept_text, size=14, visible=bool(vm.kept_text), color=ft.Colors.ON_SURFACE_VARIANT)
    note_fields: dict[str | None, ft.TextField] = {}
    cards: dict[str, LookForCard] = {}
    body_column = ft.Column()
    last_seen: dict[str, str | None] = {"id": None}  # the look-for last tapped or jumped to
    saving = {"on": False}

    def save_note(lookfor_id, field):
        ctx.guard(lambda: vm.set_note(lookfor_id, field.value or ""))

    def flush_notes():
        ctx.guard(vm.save_drafts)
        for lookfor_id, field in note_fields.items():
            save_note(lookfor_id, field)

    async def save_typed():
        """Save what was typed a moment ago, and keep saving while typing goes on, so a note being written is
        on the device's storage within about a second even if the app dies before the field is left."""
        if saving["on"]:
            return  # the running save takes the newest text too
        saving["on"] = True
        try:
            while vm.has_drafts:
                await asyncio.sleep(NOTE_SAVE_AFTER)
                ctx.guard(vm.save_drafts)
                await ctx.saved()
        finally:
            saving["on"] = False

    def note_field(lookfor_id: str | None, label: str, value: str) -> ft.TextField:
        field = ft.TextField(label=label, value=value, multiline=True, min_lines=1, max_lines=4,
                             shift_enter=True, text_size=15, read_only=not editable)
        if editable:
            async def typed(e):
                ft.context.disable_auto_update()  # typing changes nothing else on screen
                vm.draft_note(lookfor_id, field.value or "")
                await save_typed()

            # an async handler runs on the UI loop, so drafts and the save task never race
            field.on_change = typed
            field.on_blur = lambda e: save_note(lookfor_id, field)
            field.on_submit = lambda e: save_note(lookfor_id, field)
        note_fields[lookfor_id] = field
        return field

    def refresh_progress() -> list[ft.Control]:
        progress.value = vm.progress_short
        kept.value, kept.visible = vm.kept_text, bool(vm.kept_text)
        return [progress, kept]

    async def on_tap(lookfor_id: str, choice: str):
        last_seen["id"] = lookfor_id
        if ctx.guard(lambda: vm.tap(lookfor_id, choice)) is None:
            return
        # the chip shows the tap once it is on the device's storage (in the browser: after the flush; at once
        # elsewhere); if that failed the chip still shows what the store holds, and the message says so
        saved = await ctx.saved()
        cards[lookfor_id].show(vm.item(lookfor_id))  # the latest state: another tap may have landed meanwhile
        # update only what changed: an explicit update skips Flet's diff of the whole screen (~150 ms)
        changed = [cards[lookfor_id].group.control, *refresh_progress()]
        if msg.control.visible or not saved:
            if saved:
                msg.show("")
            changed.append(msg.control)
        ctx.page.update(*changed)

    def on_info(lookfor_id: str):
        item = ctx.guard(lambda: vm.item(lookfor_id))
        if item is not None:
            ctx.page.show_dialog(details_dialog(ctx, item))

    def note_opener(lookfor_id: str):
        async def open_note(e):
            card = cards[lookfor_id]
            card.unfold_note()
            ctx.page.update(card.control)
            await card.note.focus()
        return open_note

    async def next_unrated(e):
        target = vm.next_unrated(last_seen["id"])
        if target is None:
            msg.show("Every look-for shown is answered; tap Finish visit when you leave the classroom.")
            return
        last_seen["id"] = target
        if msg.control.visible:
            msg.show("")
        await body_column.scroll_to(scroll_key=target, duration=250)

    # ---- look-fors: built once over every subject, shown or hidden when the subject changes ----
    section_parts: list[tuple[ft.Control, ft.Control, list[str]]] = []
    sections = ft.Column(spacing=14, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    for s in vm.sections(include_hidden=True):
        for item in s.items:
            note = note_field(item.id, f"Note: {item.label}", item.note) if editable else None
            cards[item.id] = LookForCard(item, on_tap if editable else None, note, on_info,
                                         note_opener(item.id) if editable else None)
        head = heading(s.title)
        grid = ft.ResponsiveRow([cards[i.id].control for i in s.items], spacing=10, run_spacing=10)
        section_parts.append((head, grid, [i.id for i in s.items]))
        sections.controls += [head, grid]

    empty = ft.Text("", size=16, visible=False)
    sections.controls.append(empty)

    def show_for_subject():
        """Show the cards of the visit's subject and grade (after either changes)."""
        visible = {lf.id for lf in vm.visible_lookfors()}
        for head, grid, ids in section_parts:
            for i in ids:
                cards[i].control.visible = i in visible
            head.visible = grid.visible = any(i in visible for i in ids)
        empty.value = vm.empty_text
        empty.visible = bool(empty.value)
        refresh_progress()

    # ---- visit facts ----
    # as a rating chip, a fact chip shows its choice once it is on the device's storage (in the browser: after
    # the flush), so a tablet that dies right after the tap never showed a grade it did not keep
    async def pick_grade(g):
        ctx.attempt(lambda: vm.choose_grade(g))
        await ctx.saved()
        grades.select(vm.visit.grade)
        show_for_subject()

    async def pick_subject(s):
        ctx.attempt(lambda: vm.choose_subject(s))
        await ctx.saved()
        subjects.select(vm.visit.subject)
        show_for_subject()

    async def pick_class(c):
        ctx.attempt(lambda: vm.choose_class_type(c))
        await ctx.saved()
        classes.select(vm.visit.class_type)

    grades = ChoiceGroup("grade", vm.grades, vm.visit.grade, pick_grade if editable else None)
    subjects = ChoiceGroup("subject", vm.subjects, vm.visit.subject, pick_subject if editable else None)
    classes = ChoiceGroup("class", vm.class_types, vm.visit.class_type, pick_class if editable else None)
    show_for_subject()

    def set_students(e):
        ok = ctx.attempt(lambda: vm.set_student_count(students.value or ""))
        students.error = None if ok else "Write the number of students in digits, from 0 to 200."

    students = ft.TextField(label="Number of students", width=220, keyboard_type=ft.KeyboardType.NUMBER,
                            value="" if vm.visit.student_count is None else str(vm.visit.student_count),
                            on_blur=set_students, on_submit=set_students, read_only=not editable)
    visit_note = note_field(None, "Visit note", vm.note(None))

    def set_pair(e):
        if ctx.attempt(lambda: vm.set_pair_code(pair.value or "")):
            pair.value = vm.pair_code

    pair = ft.TextField(label="Pair code (optional)", width=220, value=vm.pair_code, max_length=40,
                        on_blur=set_pair, on_submit=set_pair, read_only=not editable)

    async def done(action) -> None:
        walk_id = ctx.guard(action)
        if walk_id and await ctx.saved():  # leave only once the finished visit is on the device's storage
            ctx.go(f"/walks/{walk_id}")

    def close_then(action):
        async def handler(e):
            ctx.page.pop_dialog()
            await done(action)
        return handler

    async def finish(e):
        flush_notes()
        set_pair(e)
        question = vm.finish_question()
        if question is None:
            await done(vm.finish)
            return
        actions = [ft.TextButton("Keep rating", on_click=lambda e: ctx.page.pop_dialog(), height=48)]
        if vm.empty:
            actions.append(ft.TextButton("Discard visit", on_click=close_then(vm.discard), height=48))
        actions.append(ft.FilledButton("Finish anyway", on_click=close_then(vm.finish), height=48))
        ctx.page.show_dialog(ft.AlertDialog(modal=True, title=ft.Text("Finish this visit?"),
                                            content=ft.Text(question), actions=actions))

    def back(e):
        if editable:
            flush_notes()
            set_pair(e)
        ctx.go(f"/walks/{vm.walk.id}")

    # ---- the sticky header: timer, progress and the jump, on screen however far the look-fors scroll ----
    header_row: list[ft.Control] = [
        ft.Semantics(identifier="timer", label="Time in this classroom", content=timer),
        ft.Semantics(identifier="progress", live_region=True, content=progress),
    ]
    if editable:
        header_row.append(ft.Semantics(identifier="next-unrated", content=ft.FilledTonalButton(
            "Next unrated", icon=ft.Icons.ARROW_DOWNWARD, on_click=next_unrated, height=48,
            style=ft.ButtonStyle(text_style=ft.TextStyle(size=16), padding=ft.Padding.symmetric(horizontal=14)))))
    header = ft.Container(
        ft.Row(header_row, wrap=True, spacing=10, run_spacing=4, vertical_alignment=ft.CrossAxisAlignment.CENTER),
        padding=ft.Padding.symmetric(horizontal=10, vertical=4), border_radius=10,
        bgcolor=ft.Colors.SURFACE_CONTAINER)

    body: list[ft.Control] = []
    if not editable:
        body.append(ft.Semantics(identifier="read-only", content=ft.Container(
            ft.Row([ft.Icon(ft.Icons.LOCK_OUTLINE), ft.Text(vm.read_only_text, size=16, expand=True)]),
            bgcolor=ft.Colors.SURFACE_CONTAINER_HIGHEST, border_radius=10, padding=12)))
    body += [
        kept,
        # side by side in landscape, so more of the look-fors fit under the header
        ft.ResponsiveRow([
            ft.Column([heading("Grade", 16), grades.control], col={"xs": 12, "lg": 6}),
            ft.Column([heading("Subject", 16), subjects.control], col={"xs": 12, "lg": 6}),
            ft.Column([heading("Class type (optional)", 16), classes.control], col={"xs": 12, "lg": 8}),
            ft.Column([heading("Students (optional)", 16), ft.Row([students])], col={"xs": 12, "lg": 4}),
            ft.Column([heading("Calibration pair (optional)", 16), ft.Row([pair]),
                       ft.Text(vm.PAIR_CODE_HELP, size=13, color=ft.Colors.ON_SURFACE_VARIANT)],
                      col={"xs": 12}),
        ], spacing=16, run_spacing=8),
        sections,
        heading("Visit", 16), visit_note,
    ]
    # the badge as an icon: a phone's app bar has room for it beside "Finish visit" only without its word
    actions: list[ft.Control] = [ctx.badge(compact=True), ft.Container(width=4)]
    if editable:
        actions += [ft.Semantics(identifier="finish-visit", content=ft.FilledButton(
            "Done" if vm.finished else "Finish visit", icon=ft.Icons.CHECK, on_click=finish, height=48,
            style=ft.ButtonStyle(text_style=ft.TextStyle(size=16)))), ft.Container(width=8)]
    view = screen(f"/visits/{visit_id}", vm.title, body, back=back, actions=actions, message=msg,
                  header=[header], body_column=body_column)
    view.data = OWN_BADGE

    async def tick():
        await asyncio.sleep(0.5)  # let the shell put this view on the page first
        # the timer runs while this screen is the one on show; a finished visit shows its fixed duration
        while not vm.finished and ctx.page.views and ctx.page.views[-1] is view:
            timer.value = vm.timer_text()
            try:
                timer.update()
            except Exception:
                return
            await asyncio.sleep(1)

    ctx.page.run_task(tick)
    return view
