"""Small widgets shared by the screens: large choice chips, the message line, the screen frame."""
from __future__ import annotations

import inspect
from typing import Callable

import flet as ft

MIN_TARGET = 48  # px: the smallest touch target on any screen
CHIP_HEIGHT = 56


class ChoiceChip:
    """A large tappable choice. Its state reaches screen readers (and tests) as a checked checkbox.

    set() changes the chip in place, so its on-screen (and accessibility) node survives a tap: a quick second tap
    never lands on a node that is being replaced.
    """

    def __init__(self, identifier: str, label: str, selected: bool, on_click: Callable | None, *,
                 tooltip: str | None = None, min_width: int = MIN_TARGET, name: str | None = None):
        """name: the screen-reader name when the label alone is not enough ("Students learn with each other:
        Not yet"), read instead of the label, not besides it. on_click None:
        a read-only chip (a teammate's visit), shown but not tappable."""
        short = len(label) <= 3
        # the name replaces the text's own semantics label, so the chip stays one node: a Semantics label around
        # the tappable Container split it into a named checkbox that takes no tap and an unnamed button that
        # does (Flet 1.0.5), which a screen reader activates as "button"
        self.text = ft.Text(label, size=16, text_align=ft.TextAlign.CENTER, max_lines=2,
                            overflow=ft.TextOverflow.ELLIPSIS, semantics_label=name)
        shown = self.text
        if not short:  # a long label (a rubric's title) wraps, then ends in "…", at phone width: never cut
            shown.expand, shown.expand_loose = True, True
        self.read_only = on_click is None
        self.box = ft.Container(
            content=ft.Row([shown], tight=True, alignment=ft.MainAxisAlignment.CENTER,
                           vertical_alignment=ft.CrossAxisAlignment.CENTER),
            on_click=on_click, ink=on_click is not None, height=CHIP_HEIGHT,
            padding=ft.Padding.symmetric(horizontal=16),
            border_radius=10,
            # short labels ("K", "4") get a fixed width so the target stays at least min_width wide; an aligned
            # container without a width would stretch to the whole row
            width=max(min_width, 56 if len(label) <= 2 else 64) if short else None,
            alignment=ft.Alignment.CENTER if short else None)
        self.control = ft.Semantics(identifier=identifier, tooltip=tooltip, content=self.box,
                                    read_only=True if self.read_only else None)
        self.set(selected)

    def set(self, selected: bool) -> None:
        self.control.checked = selected
        self.text.weight = ft.FontWeight.W_600 if selected else ft.FontWeight.NORMAL
        self.text.color = ft.Colors.ON_PRIMARY if selected else ft.Colors.ON_SURFACE
        self.box.bgcolor = ft.Colors.PRIMARY if selected else None
        self.box.border = ft.Border.all(2, ft.Colors.PRIMARY if selected else ft.Colors.OUTLINE_VARIANT)
        if self.read_only:  # a teammate's rating: greyed, so it does not look like something to tap
            self.box.bgcolor = ft.Colors.OUTLINE if selected else ft.Colors.SURFACE_CONTAINER_HIGHEST
            self.box.border = ft.Border.all(2, ft.Colors.OUTLINE if selected else ft.Colors.SURFACE_CONTAINER_HIGHEST)


def choice_chip(identifier: str, label: str, selected: bool, on_click: Callable, **kw) -> ft.Control:
    return ChoiceChip(identifier, label, selected, on_click, **kw).control


def chip_row(controls: list[ft.Control]) -> ft.Row:
    return ft.Row(controls, wrap=True, spacing=8, run_spacing=8)


def big_button(text: str, on_click: Callable, *, icon=None, identifier: str | None = None,
               primary: bool = True) -> ft.Control:
    cls = ft.FilledButton if primary else ft.OutlinedButton
    btn = cls(text, icon=icon, on_click=on_click, height=CHIP_HEIGHT,
              style=ft.ButtonStyle(text_style=ft.TextStyle(size=16), padding=ft.Padding.symmetric(horizontal=20)))
    return ft.Semantics(identifier=identifier, content=btn) if identifier else btn


def icon_button(icon, tooltip: str, on_click: Callable, identifier: str | None = None) -> ft.Control:
    btn = ft.IconButton(icon, tooltip=tooltip, on_click=on_click, icon_size=26,
                        size_constraints=ft.BoxConstraints(min_width=MIN_TARGET, min_height=MIN_TARGET))
    return ft.Semantics(identifier=identifier, content=btn) if identifier else btn


class MessageLine:
    """One line under the app bar for confirmations and refusals, read out by screen readers."""

    def __init__(self):
        self.text = ft.Text("", size=15)
        self.control = ft.Semantics(
            identifier="message", live_region=True, visible=False,
            content=ft.Container(self.text, padding=ft.Padding.symmetric(horizontal=12, vertical=8),
                                 border_radius=8))

    def show(self, text: str, error: bool = False) -> None:
        box = self.control.content
        self.text.value = text
        self.text.color = ft.Colors.ON_ERROR_CONTAINER if error else ft.Colors.ON_SECONDARY_CONTAINER
        box.bgcolor = ft.Colors.ERROR_CONTAINER if error else ft.Colors.SECONDARY_CONTAINER
        self.control.visible = bool(text)


class StatusBadge:
    """The connection badge in every app bar: "Online", "Offline" or "This device" (not enrolled), with what
    waits to be sent as its screen-reader name (identifier `connection`)."""

    ICONS = {"online": ft.Icons.CLOUD_DONE_OUTLINED, "offline": ft.Icons.CLOUD_OFF, "local": ft.Icons.PHONE_ANDROID}

    def __init__(self, compact: bool = False):
        """compact: the icon alone (its words stay its screen-reader name), for a crowded app bar."""
        self.icon = ft.Icon(ft.Icons.CLOUD_OFF, size=20)
        self.text = ft.Text("", size=14, weight=ft.FontWeight.W_600, no_wrap=True, visible=not compact)
        self.box = ft.Container(ft.Row([self.icon, self.text], spacing=4, tight=True),
                                padding=ft.Padding.symmetric(horizontal=10), height=32, border_radius=16,
                                alignment=ft.Alignment.CENTER)
        # not a control: no tap, so no touch target; a screen reader reads its words
        self.control = ft.Semantics(identifier="connection", content=self.box)

    def show(self, badge) -> None:
        self.icon.name = self.ICONS.get(badge.state, ft.Icons.CLOUD_OFF)
        self.text.value = badge.label
        self.control.label = badge.says
        offline = badge.state == "offline"
        self.box.bgcolor = ft.Colors.ERROR_CONTAINER if offline else ft.Colors.SECONDARY_CONTAINER
        self.text.color = self.icon.color = (ft.Colors.ON_ERROR_CONTAINER if offline
                                             else ft.Colors.ON_SECONDARY_CONTAINER)


def screen(route: str, title: str, body: list[ft.Control], *, back: Callable | None = None,
           actions: list[ft.Control] | None = None, message: MessageLine | None = None,
           scroll: bool = True, header: list[ft.Control] | None = None,
           body_column: ft.Column | None = None) -> ft.View:
    """header: controls that stay put above the scrolling body (the capture screen's timer and progress).
    body_column: the scrolling column to use (a screen that scrolls it to a control passes its own)."""
    leading = icon_button(ft.Icons.ARROW_BACK, "Back", back) if back else None
    controls = ([message.control] if message else []) + body
    column = body_column or ft.Column()
    column.controls = controls
    column.spacing, column.expand = 12, True
    column.scroll = ft.ScrollMode.AUTO if scroll else None
    column.horizontal_alignment = ft.CrossAxisAlignment.STRETCH
    return ft.View(
        route=route,
        appbar=ft.AppBar(title=ft.Text(title, size=20, overflow=ft.TextOverflow.ELLIPSIS, max_lines=1),
                         leading=leading, automatically_imply_leading=False, actions=actions or []),
        controls=[*(header or []), column],
        padding=ft.Padding.symmetric(horizontal=12, vertical=8),
        spacing=6, horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
    )


class ChoiceGroup:
    """A row of chips of which at most one is chosen; `select` restyles them in place."""

    def __init__(self, prefix: str, choices, chosen, on_pick, min_width: int = 48,
                 name: Callable[[str], str] | None = None):
        """on_pick(value) may be async (Flet awaits a handler only when it is a coroutine function itself);
        on_pick None makes read-only chips. name(label): each chip's screen-reader name, when given."""
        self.chips = {c.value: ChoiceChip(f"{prefix}:{c.value}", c.label, c.value == chosen,
                                          picker(on_pick, c.value) if on_pick else None, min_width=min_width,
                                          name=name(c.label) if name else None)
                      for c in choices}
        self.control = chip_row([c.control for c in self.chips.values()])

    def select(self, chosen) -> None:
        for value, chip in self.chips.items():
            chip.set(value == chosen)


def picker(on_pick: Callable, value) -> Callable:
    """A click handler that calls on_pick(value), awaited when on_pick is async."""
    if inspect.iscoroutinefunction(on_pick):
        async def pick_async(e):
            await on_pick(value)
        return pick_async
    return lambda e: on_pick(value)


def heading(text: str, size: int = 18) -> ft.Control:
    return ft.Semantics(header=True, content=ft.Text(text, size=size, weight=ft.FontWeight.BOLD))


def list_row(identifier: str, title: str, subtitle: str, on_click: Callable, *, icon=None,
             trailing: list[ft.Control] | None = None) -> ft.Control:
    """A tappable row (title and summary) with its own icon buttons beside it, each keeping its own name.

    Not a ListTile: a ListTile merges its children into one node, which hides the icon buttons' names.
    """
    # the texts take the row's free width, so at phone width they wrap between words instead of being cut
    texts = ft.Column([ft.Text(title, size=17, weight=ft.FontWeight.W_600, max_lines=2,
                               overflow=ft.TextOverflow.ELLIPSIS),
                       ft.Text(subtitle, size=14)], spacing=2, tight=True, expand=True)
    main = ft.Container(ft.Row(([ft.Icon(icon)] if icon else []) + [texts], spacing=12),
                        on_click=on_click, ink=True, expand=True, border_radius=10,
                        padding=ft.Padding.symmetric(horizontal=12, vertical=10))
    return ft.Card(ft.Row([ft.Semantics(identifier=identifier, content=main, expand=True), *(trailing or [])],
                          spacing=0, vertical_alignment=ft.CrossAxisAlignment.CENTER))


def quiet(fn: Callable) -> Callable:
    """A handler that changes nothing on screen (typing into a field): skip Flet's whole-screen auto-update."""
    def handler(e):
        ft.context.disable_auto_update()
        fn(e)
    return handler
