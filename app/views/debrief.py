"""The Debrief screen: filters, stacked-bar charts (flet-charts) with the numbers beside them, evidence notes,
cycle trend, calibration and the equity pause. Thin over DebriefVM; each tally row is `tally:<lookfor_id>`.
"""
from __future__ import annotations

import flet as ft
import flet_charts as fch

from app.debrief.palette import EMPTY, OUTLINE
from app.debrief.text import pct
from app.viewmodels.debrief import FILTER_TITLES, SECTIONS, Choice, DebriefVM, Section, TallyRow
from app.viewmodels._format import plural
from app.views._widgets import ChoiceGroup, MessageLine, heading, screen
from app.views.context import AppContext, message_of
from app.views.downloads import deliver
from sync.errors import LearnwalkError

CHART_HEIGHT = 280


def _chart(section: Section, focus: bool) -> ft.Control:
    """One stacked bar per look-for, 0-100% of its base, lowest level at the bottom (lightest)."""
    groups, labels = [], []
    for i, r in enumerate(section.rows):
        y, items = 0.0, []
        for s in r.segments:
            items.append(fch.BarChartRodStackItem(from_y=y, to_y=y + s.share * 100, color=s.color))
            y += s.share * 100
        tip = f"{r.label}: not shown" if r.suppressed else f"{r.label}: {pct(r.evident_share)} evident"
        groups.append(fch.BarChartGroup(x=i, rods=[fch.BarChartRod(
            from_y=0, to_y=y, stack_items=items, width=40 if focus else 28, color=EMPTY,
            bg_from_y=0, bg_to_y=100, bgcolor="#f1f3f5", border_radius=2, tooltip=tip)]))
        labels.append(fch.ChartAxisLabel(value=i, label=ft.Container(
            ft.Text(r.label, size=12, text_align=ft.TextAlign.CENTER, max_lines=3,
                    overflow=ft.TextOverflow.ELLIPSIS), width=96, padding=ft.Padding.only(top=4))))
    chart = fch.BarChart(
        groups=groups, min_y=0, max_y=100, height=CHART_HEIGHT, interactive=True,
        left_axis=fch.ChartAxis(labels=[fch.ChartAxisLabel(value=v, label=f"{v}%") for v in (0, 50, 100)],
                                label_size=44),
        bottom_axis=fch.ChartAxis(labels=labels, label_size=64),
        horizontal_grid_lines=fch.ChartGridLines(interval=25, color="#dee2e6", width=1),
        border=ft.Border.all(1, "#dee2e6"))
    # the chart is a picture for sighted readers; the rows below carry the same numbers as text
    return ft.Semantics(label=f"Chart of {section.title}; the numbers follow.", exclude_semantics=True,
                        content=ft.Container(chart, padding=ft.Padding.only(right=8)))


def _bar(row: TallyRow) -> ft.Control:
    """A slim inline bar beside the numbers, so a row reads on its own when the chart is off screen."""
    parts = [ft.Container(expand=max(1, round(s.share * 1000)), bgcolor=s.color,
                          tooltip=f"{s.label} {s.count}") for s in row.segments if s.count]
    rest = 1000 - sum(round(s.share * 1000) for s in row.segments if s.count)
    if rest > 0 or not parts:
        parts.append(ft.Container(expand=max(1, rest), bgcolor=EMPTY))
    return ft.Container(ft.Row(parts, spacing=0), height=14, border=ft.Border.all(1, OUTLINE), border_radius=2)


def _row(row: TallyRow) -> ft.Control:
    title = ft.Row([ft.Text(row.label, size=16, weight=ft.FontWeight.W_600, expand=True)]
                   + ([ft.Text(row.badges, size=13, color=ft.Colors.PRIMARY)] if row.badges else []))
    body = ft.Column([title, _bar(row), ft.Text(row.numbers, size=15)], spacing=4, tight=True)
    # one node that says the whole row, in the same words as the screen
    return ft.Semantics(identifier=row.identifier, label=row.spoken, container=True, exclude_semantics=True,
                        content=ft.Container(body, padding=ft.Padding.symmetric(horizontal=4, vertical=6)))


def _table(head: list[str], rows: list[list[str]]) -> ft.Control:
    return ft.Row([ft.DataTable(
        columns=[ft.DataColumn(ft.Text(h, weight=ft.FontWeight.W_600)) for h in head],
        rows=[ft.DataRow([ft.DataCell(ft.Text(c)) for c in r]) for r in rows],
        column_spacing=20, heading_row_height=56)], scroll=ft.ScrollMode.AUTO)


def _legend(text: str) -> ft.Control:
    return ft.Text(text, size=13, color=ft.Colors.ON_SURFACE_VARIANT)


def build(ctx: AppContext, walk_id: str) -> ft.View:
    msg = MessageLine()
    ctx.message = msg.show
    back = lambda e: ctx.go(f"/walks/{walk_id}")  # noqa: E731
    try:
        vm = DebriefVM(ctx.device, walk_id)
    except LearnwalkError as exc:  # e.g. the walk's rubric has not arrived yet: say so instead of a blank screen
        return screen(f"/walks/{walk_id}/debrief", "Debrief", [ft.Text(message_of(exc), size=16)], back=back,
                      message=msg)
    summary = ft.Text(vm.summary, size=15)
    not_counted = ft.Semantics(identifier="not-counted", content=ft.Text(vm.not_counted_note, size=15),
                               visible=bool(vm.not_counted_note))
    content = ft.Column(spacing=12, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    filters_box = ft.Column(spacing=6)
    groups: dict[str, ChoiceGroup] = {}

    def draw_tallies() -> list[ft.Control]:
        out: list[ft.Control] = []
        if vm.empty_note:
            return [ft.Text(vm.empty_note, size=16)]
        if vm.suppressed_note:
            out.append(ft.Text(vm.suppressed_note, size=15))
        for i, sec in enumerate(vm.sections()):
            out.append(heading(sec.title, 20 if i == 0 else 18))
            out.append(_legend(sec.legend))
            if not vm.tally.suppressed:
                out.append(_chart(sec, focus=i == 0))
            out.extend(_row(r) for r in sec.rows)
        return out

    def draw_evidence() -> list[ft.Control]:
        out: list[ft.Control] = [heading("What we saw")]
        notes = vm.notes()
        if not notes:
            out.append(ft.Text("No evidence notes were written on this walk.", size=15))
        for g in notes:
            out.append(ft.Text(g.title, size=16, weight=ft.FontWeight.W_600))
            out.extend(ft.Text(f"“{text}”" + (f" ({n} visits)" if n > 1 else ""), size=15)
                       for text, n in g.counted())
        out.append(heading("What it means"))
        out.extend(ft.Text(f"• {q}", size=15) for q in vm.meaning_prompts)
        return out

    def draw_trend() -> list[ft.Control]:
        t = vm.trend()
        out: list[ft.Control] = [heading(f"Cycle trend: {t.cycle_label or 'this walk only'}")]
        if len(t.walks) < 2:
            out.append(ft.Text("This is the only walk of its cycle on this device so far; the change appears "
                               "after the six-week walk.", size=15))
        if t.cycle is not None:
            out.append(_legend("Each priority's share of classrooms where its look-for was evident, per walk of the "
                               "cycle, with its 95% interval, against the priority's target for the end-of-cycle "
                               "walk: reached when the whole interval is at or above the target, below when it is "
                               "all under it, else too close to call. Leads and admins set the priorities and "
                               "targets; observers read them."))
        head, rows = vm.trend_table()
        out.append(_table(head, rows))
        out.extend(ft.Semantics(identifier=f"target:{lf_id}", content=ft.Text(text, size=15))
                   for lf_id, text in vm.trend_targets())
        return out

    def draw_calibration() -> list[ft.Control]:
        cal = vm.calibration()
        out: list[ft.Control] = [heading("Calibration")]
        if not cal.pairs:
            out.append(ft.Text("No calibration pairs on this walk. Two observers in one classroom at the same time "
                               "type the same pair code in the visit's \"Pair code\" field.", size=15))
        else:
            out.append(ft.Text(f"{cal.pairs} pair{'s' if cal.pairs != 1 else ''} · overall exact agreement "
                               f"{pct(cal.overall_exact)}", size=15))
            out.append(_legend("Exact: same answer. Adjacent: at most one level apart. Kappa: agreement beyond "
                               "chance (1 perfect, 0 chance); weighted kappa counts a near miss as partly agreeing "
                               "(scales of three or more levels)."))
            out.append(_table(*vm.calibration_table()))
            dis = vm.disagreements()
            if dis:
                out.append(ft.Text("Pairs that disagreed: to discuss", size=16, weight=ft.FontWeight.W_600))
                for d, anchors in zip(dis, vm.disagreement_anchors()):
                    out.append(ft.Text(f"• {d}", size=15))
                    # the descriptors of the two levels chosen: what the pair's discussion anchors on
                    out.extend(ft.Text(line, size=14, color=ft.Colors.ON_SURFACE_VARIANT) for line in anchors)
        out.extend(ft.Text(u, size=15) for u in cal.unpaired)
        out.extend(draw_drift())
        return out

    def draw_drift() -> list[ft.Control]:
        head, rows = vm.drift_table()
        if not rows:
            return []
        return [ft.Text("Each observer's agreement across the cycle's walks", size=16, weight=ft.FontWeight.W_600),
                _legend("Exact agreement with their partners, of the answers compared; a falling share is drift, "
                        "a reading of the rubric moving away from the team's: recalibrate on the look-fors above."),
                _table(head, rows)]

    def draw_equity() -> list[ft.Control]:
        pause = vm.equity()
        out: list[ft.Control] = [heading("Equity pause")]
        if pause.empty:
            out.append(ft.Text("This rubric flags no look-fors for equity.", size=15))
            return out
        out.append(_legend(f"Share evident by class type; cells under {pause.tally.threshold} visits are not shown."))
        out.append(_table(*vm.equity_table()))
        pooled = vm.pooled_equity()
        if pooled.useful:
            out.append(ft.Text("Pooled over the cycle's walks", size=16, weight=ft.FontWeight.W_600))
            out.append(ft.Semantics(identifier="pooled-why", content=_legend(pooled.why())))
            gains = vm.pooled_equity_gains()
            if gains:
                out.append(ft.Semantics(identifier="pooled-gains", content=ft.Text(gains, size=15)))
            head, rows = vm.pooled_equity_table()
            out.append(ft.Semantics(identifier="pooled-equity", container=True, content=_table(head, rows),
                                    label=" · ".join(" ".join(c.replace("\n", " ") for c in [h] + [r[i] for r in rows])
                                                     for i, h in enumerate(head))))
        out.extend(ft.Text(f"• {q}", size=15) for q in vm.equity_prompts)
        return out

    drawers = {"tallies": draw_tallies, "evidence": draw_evidence, "trend": draw_trend,
               "calibration": draw_calibration, "equity": draw_equity}

    def draw() -> None:
        summary.value = vm.summary
        not_counted.content.value, not_counted.visible = vm.not_counted_note, bool(vm.not_counted_note)
        content.controls = ctx.guard(drawers[vm.section]) or []

    def pick_section(value: str) -> None:
        vm.section = value
        sections.select(value)
        draw()
        ctx.page.update()

    def pick_filter(name: str, value: str) -> None:
        if ctx.attempt(lambda: vm.set_filter(name, value)):
            groups[name].select(vm.chosen(name))
        draw()
        ctx.page.update()

    sections = ChoiceGroup("section", [Choice(k, t) for k, t in SECTIONS], vm.section, pick_section)
    for name, choices in vm.filter_choices().items():
        if name == "observer" and len(choices) <= 2:
            continue  # one observer: nothing to filter
        groups[name] = ChoiceGroup(f"filter:{name}", choices, vm.chosen(name),
                                   lambda v, n=name: pick_filter(n, v), min_width=56)
        filters_box.controls.append(ft.Column([ft.Text(FILTER_TITLES[name], size=14), groups[name].control],
                                              spacing=4))
    # ---- live team data: pulls while this screen is open, redraws after a round that brought changes ----
    sync = ctx.sync
    updated = ft.Semantics(identifier="updated", content=ft.Text("", size=14, color=ft.Colors.ON_SURFACE_VARIANT))

    def show_updated() -> None:
        if sync is not None:
            updated.content.value = vm.updated_text(ctx.guard(lambda: sync.status().last_success))

    def after_round(changed: bool) -> None:
        if changed:
            ctx.guard(vm.refresh)
            draw()
        show_updated()
        ctx.page.update()

    def heard():  # called by the background sync task after each round
        if ctx.page.views and ctx.page.views[-1] is view:
            report = sync.last_report
            after_round(bool(report and report.pulled))
        else:
            sync.unwatch(view)
            if ctx.sync_listeners is not None:
                ctx.sync_listeners.remove(heard)

    async def refresh(e):
        report = await ctx.in_background(sync.sync_once)
        if report is not None:
            ctx.say("Up to date." if not report.pulled else f"{plural(report.pulled, 'change')} received.")
        after_round(True)

    async def download_pdf(e):
        made = await ctx.in_background(lambda: ctx.device.debrief.report_pdf(walk_id))
        if made is None:
            ctx.page.update()
            return
        name, data = made
        if await deliver(ctx, name, data, "the debrief PDF"):
            ctx.say(f"Debrief PDF ready: {name}; your browser saves it as a download.")
        ctx.page.update()

    pdf_btn = ft.Semantics(identifier="debrief-pdf", content=ft.TextButton(
        "Debrief PDF", icon=ft.Icons.PICTURE_AS_PDF, on_click=download_pdf, height=48,
        tooltip="Download this walk's debrief as a printable PDF"))
    refresh_btn = ft.Semantics(identifier="refresh", content=ft.TextButton(
        "Refresh", icon=ft.Icons.REFRESH, on_click=refresh, height=48)) if sync is not None else None
    show_updated()
    draw()
    filters = ft.ExpansionTile(title=ft.Text("Filters", size=16), controls=[filters_box],
                               controls_padding=ft.Padding.symmetric(horizontal=8, vertical=4))
    fresh = [ft.Row([updated, refresh_btn, pdf_btn] if refresh_btn is not None else [pdf_btn], wrap=True,
                    spacing=12)]
    body = [ft.Text(vm.subtitle, size=15), summary, not_counted, *fresh, filters, sections.control, content]
    view = screen(f"/walks/{walk_id}/debrief", vm.title, body, back=back, message=msg)
    if sync is not None and sync.status().enrolled:
        sync.watch(view)  # pulls now, then about every minute while this screen is open
        if ctx.sync_listeners is not None:
            ctx.sync_listeners.add(heard)
    return view
