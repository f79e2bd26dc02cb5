"""The printable debrief report (PDF, fpdf2): walk facts, focus look-fors first, charts, tallies, evidence,
cycle trend, calibration and equity pause. No teacher, observer or visit identity appears anywhere.

Charts are drawn with fpdf2 primitives (rectangles), every number is real text (screen readers, copy, search).
Font: Noto Sans (the app's font) from app/assets/fonts or the system, else DejaVu Sans from the system, else the
PDF core font Helvetica with characters outside Latin-1 replaced (see font_source()).
"""
from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.debrief.calibration import Calibration, calibration
from app.debrief.equity import PROMPTS as EQUITY_PROMPTS, equity_pause, pooled_equity
from app.debrief.notes import MEANING_PROMPTS, walk_notes
from app.debrief.palette import EMPTY, OUTLINE, level_colors, rgb
from app.debrief.tally import Cell, LookforTally, WalkTally, is_checklist, walk_tally
from app.debrief.text import pct
from sync.protocol.intervals import TOO_CLOSE, interval_text
from app.debrief.trends import CycleTrend, cycle_trend
from app.store.catalog import RubricCatalog
from app.store.models import School
from sync.protocol.vocabulary import NOT_OBSERVED_LABEL, PHASE_WORDS

APP_FONTS = Path(__file__).resolve().parent.parent / "assets" / "fonts"
SYSTEM_NOTO = Path("/usr/share/fonts/truetype/noto")
SYSTEM_FONTS = Path("/usr/share/fonts/truetype/dejavu")
FAMILY = "Report"
NOT_OBSERVED = NOT_OBSERVED_LABEL.lower()  # mid-sentence


def font_source() -> tuple[str, Path | None, Path | None]:
    """(name, regular file, bold file) of the font the report embeds; (core, None, None) when none is found."""
    # a matching bold matters for headings: prefer a complete family, then any regular face
    # the app's own font first: it covers the scripts district look-fors and notes are written in, and it
    # ships with the app, so a report never depends on what fonts a machine happens to have
    app_regular, app_bold = APP_FONTS / "LearnwalkSans-Regular.ttf", APP_FONTS / "NotoSans-Bold.ttf"
    sys_regular, sys_bold = SYSTEM_FONTS / "DejaVuSans.ttf", SYSTEM_FONTS / "DejaVuSans-Bold.ttf"
    if app_regular.exists() and app_bold.exists():
        return "Learnwalk Sans (app)", app_regular, app_bold
    if (SYSTEM_NOTO / "NotoSans-Regular.ttf").exists() and (SYSTEM_NOTO / "NotoSans-Bold.ttf").exists():
        return "Noto Sans (system)", SYSTEM_NOTO / "NotoSans-Regular.ttf", SYSTEM_NOTO / "NotoSans-Bold.ttf"
    if sys_regular.exists():
        return "DejaVu Sans (system)", sys_regular, sys_bold if sys_bold.exists() else sys_regular
    if app_regular.exists():
        return "Learnwalk Sans (app, no bold)", app_regular, app_regular
    return "Helvetica (core, Latin-1 only)", None, None


class _Pdf(FPDF):
    def __init__(self, footer_text: str):
        super().__init__(format="Letter", unit="mm")
        self._footer_text = footer_text
        name, regular, bold = font_source()
        self.unicode = regular is not None
        if self.unicode:
            self.add_font(FAMILY, "", regular)
            self.add_font(FAMILY, "B", bold)
            self.family = FAMILY
        else:
            self.family = "Helvetica"
        self.set_auto_page_break(True, margin=16)
        self.set_margins(16, 14, 16)

    def t(self, s: str) -> str:
        # the core font only knows Latin-1: keep the report printable rather than failing
        return s if self.unicode else s.encode("latin-1", "replace").decode("latin-1")

    def font(self, size: float, bold: bool = False) -> None:
        self.set_font(self.family, "B" if bold else "", size)

    def footer(self) -> None:
        self.set_y(-12)
        self.font(8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, self.t(f"{self._footer_text} · page {self.page_no()} of {{nb}}"), align="C")
        self.set_text_color(0, 0, 0)

    @property
    def width(self) -> float:
        return self.w - self.l_margin - self.r_margin

    def heading(self, text: str, size: float = 14) -> None:
        if self.will_page_break(24):
            self.add_page()
        self.ln(3)
        self.font(size, bold=True)
        self.multi_cell(0, size * 0.5, self.t(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def para(self, text: str, size: float = 10, h: float = 5) -> None:
        self.font(size)
        self.multi_cell(0, h, self.t(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _bar(pdf: _Pdf, t: LookforTally, cell: Cell, x: float, y: float, w: float, h: float) -> None:
    """A stacked bar: one segment per level (lowest left, lightest), width = share of the bar's base."""
    colors = level_colors(t.scale)
    pdf.set_draw_color(*rgb(OUTLINE))
    pdf.set_line_width(0.2)
    pdf.set_fill_color(*rgb(EMPTY))
    pdf.rect(x, y, w, h, style="DF")
    if cell.suppressed or not cell.base:
        return
    cx = x
    for value, n in cell.counts.items():
        seg = w * n / cell.base
        if seg > 0:
            pdf.set_fill_color(*rgb(colors[value]))
            pdf.rect(cx, y, seg, h, style="F")
            cx += seg
    pdf.rect(x, y, w, h, style="D")


def _legend(t: LookforTally) -> str:
    evident = t.scale.evident_values()
    return (" · ".join(t.scale.label_of(v) for v in t.scale.values())
            + f" (evident = {t.scale.label_of(evident[0])}{' or higher' if len(evident) > 1 else ''})")


def _numbers(t: LookforTally, cell: Cell, limit: int) -> str:
    if cell.suppressed:
        return f"fewer than {limit} visits"
    if not cell.base:
        return f"not rated ({cell.not_observed} {NOT_OBSERVED})" if cell.not_observed else "not rated"
    parts = [f"{t.scale.label_of(v)} {n}" for v, n in cell.counts.items()]
    tail = "" if is_checklist(t.scale) and not t.scale.not_observed else f" · {NOT_OBSERVED} {cell.not_observed}"
    return (f"{pct(cell.evident_share)} evident ({cell.evident} of {cell.base} rated; "
            f"{interval_text(cell.interval)}) · " + " · ".join(parts) + tail)


def _lookfor_block(pdf: _Pdf, tally: WalkTally, t: LookforTally, detailed: bool) -> None:
    height = 22 if detailed else 13
    if pdf.will_page_break(height):
        pdf.add_page()
    pdf.font(10, bold=True)
    pdf.multi_cell(pdf.width, 5, pdf.t(t.lookfor.label + (" (equity)" if t.lookfor.equity else "")),
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if detailed:
        pdf.font(9)
        pdf.set_text_color(70, 70, 70)
        pdf.multi_cell(pdf.width, 4.2, pdf.t(t.lookfor.text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
    y = pdf.get_y() + 0.5
    bar_w = pdf.width * (0.55 if detailed else 0.38)
    _bar(pdf, t, t.cell, pdf.l_margin, y, bar_w, 6 if detailed else 4.5)
    pdf.set_xy(pdf.l_margin + bar_w + 3, y - 0.3)
    pdf.font(9)
    pdf.multi_cell(pdf.width - bar_w - 3, 4.2, pdf.t(_numbers(t, t.cell, tally.threshold)), align="L",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(pdf.get_y(), y + (7 if detailed else 5.5)) + 1.5)


def _facts(pdf: _Pdf, tally: WalkTally, school: str) -> None:
    w = tally.walk
    pdf.font(20, bold=True)
    pdf.cell(0, 10, pdf.t("Learning walk debrief"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.font(11)
    facts = [("School", school), ("Date", w.walk_date.strftime("%B %-d, %Y")),
             ("Rubric", f"{tally.rubric.title} ({tally.rubric.key})"),
             ("Cycle", f"{w.cycle_label or 'no cycle'} · {PHASE_WORDS.get(w.phase, w.phase)}"),
             ("Visits", f"{tally.visits} classrooms · {tally.observers} observer{'s' if tally.observers != 1 else ''}"
              + (f" · team of {len(w.team)}" if w.team else ""))]
    for k, v in facts:
        pdf.font(10, bold=True)
        pdf.cell(24, 5.5, pdf.t(k))
        pdf.font(10)
        pdf.cell(0, 5.5, pdf.t(v), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_text_color(70, 70, 70)
    pdf.para("Non-evaluative: visits are numbered and no teacher is named; read the numbers as trends across "
             f"classrooms. Evident = at or above the rubric's evident level. Any number describing fewer than "
             f"{tally.threshold} visits is not shown. A calibration pair counts as one classroom.", size=9, h=4.2)
    pdf.set_text_color(0, 0, 0)


def _header(pdf: _Pdf, first: str, col0: float, titles: list[str], cw: float, size: float = 8.5) -> None:
    """A table header whose column titles may wrap onto several lines, ruled underneath."""
    pdf.font(size, bold=True)
    y = pdf.get_y()
    pdf.cell(col0, 4, pdf.t(first))
    bottom = y + 4
    for i, title in enumerate(titles):
        pdf.set_xy(pdf.l_margin + col0 + i * cw, y)
        pdf.multi_cell(cw, 4, pdf.t(title), align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
        bottom = max(bottom, pdf.get_y())
    pdf.set_draw_color(0, 0, 0)
    pdf.line(pdf.l_margin, bottom + 0.5, pdf.l_margin + pdf.width, bottom + 0.5)
    pdf.set_xy(pdf.l_margin, bottom + 1)


def _trend(pdf: _Pdf, trend: CycleTrend) -> None:
    pdf.heading(f"Cycle trend: {trend.cycle_label}")
    col0 = pdf.width * 0.40
    cols = len(trend.walks) + 1
    cw = (pdf.width - col0) / cols
    _header(pdf, "Priority (share evident)" if trend.cycle else "Focus look-for (share evident)", col0,
            [f"{PHASE_WORDS.get(w.phase, w.phase)}\n{w.walk_date.strftime('%b %-d')}" for w in trend.walks]
            + ["Change"], cw, size=9)
    pdf.font(9)
    for r in trend.rows:
        pdf.cell(col0, 6, pdf.t(f"P{r.priority}: {r.label}" if r.priority else r.label))
        for s in r.shares:
            pdf.cell(cw, 6, pct(s), align="R")
        pdf.cell(cw, 6, pdf.t(r.change_text), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if trend.cycle is not None:  # each priority against its target, in the screen's words
        pdf.ln(1)
        for r in trend.rows:
            if r.priority is not None:
                pdf.para(trend.sentence(r), size=9, h=4.5)
        pdf.para("A target is reached when the whole 95% interval of the latest share is at or above it, and "
                 "missed when the whole interval is under it; otherwise it is too close to call. Leads and admins "
                 "set the priorities and targets.", size=8, h=4)
    pdf.para("Each share's 95% interval is in the look-for's section; a change whose first and last intervals "
             f"overlap is marked \"{TOO_CLOSE}\": the walks cannot tell it from chance.", size=8, h=4)


def _evidence(pdf: _Pdf, groups) -> None:
    pdf.heading("What we saw")
    if not groups:
        pdf.para("No evidence notes were written on this walk.", size=9)
    for g in groups:
        if pdf.will_page_break(12):
            pdf.add_page()
        pdf.font(10, bold=True)
        pdf.cell(0, 6, pdf.t(g.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.font(9)
        for text, n in g.counted():
            pdf.set_x(pdf.l_margin + 4)
            pdf.multi_cell(pdf.width - 4, 4.4, pdf.t(f"“{text}”" + (f" ({n} visits)" if n > 1 else "")),
                           align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.heading("What it means")
    for q in MEANING_PROMPTS:
        if pdf.will_page_break(22):
            pdf.add_page()
        pdf.para(q, size=10)
        y = pdf.get_y() + 6
        pdf.set_draw_color(170, 170, 170)
        for i in range(2):
            pdf.line(pdf.l_margin, y + i * 7, pdf.l_margin + pdf.width, y + i * 7)
        pdf.set_y(y + 10)


def _calibration(pdf: _Pdf, cal: Calibration) -> None:
    pdf.heading("Calibration")
    if not cal.pairs:
        pdf.para("No calibration pairs on this walk (two observers in one classroom, with a shared pair code).",
                 size=9)
    else:
        pdf.para(f"{cal.pairs} calibration pair{'s' if cal.pairs != 1 else ''}; overall exact agreement "
                 f"{pct(cal.overall_exact)}. Kappa is agreement beyond chance (1 = perfect, 0 = chance); with few "
                 "pairs it moves a lot, so read it with the disagreements below.", size=9, h=4.2)
        widths = [pdf.width * 0.46, pdf.width * 0.12, pdf.width * 0.14, pdf.width * 0.14, pdf.width * 0.14]
        pdf.font(9, bold=True)
        for head, w in zip(("Look-for", "Pairs", "Exact", "Adjacent", "Kappa"), widths):
            pdf.cell(w, 6, head, border="B", align="L" if head == "Look-for" else "R")
        pdf.ln(6)
        pdf.font(9)
        for a in cal.lookfors:
            if not a.compared:
                continue
            k = "-" if a.kappa.kappa is None else f"{a.kappa.kappa:.2f}"
            for text, w in zip((a.label, str(a.compared), pct(a.exact), pct(a.adjacent), k), widths):
                pdf.cell(w, 5.5, pdf.t(text), align="L" if w == widths[0] else "R")
            pdf.ln(5.5)
        talk = [(a, d) for a in cal.lookfors for d in a.disagreements]
        if talk:
            pdf.ln(1)
            pdf.font(10, bold=True)
            pdf.cell(0, 6, pdf.t("Pairs that disagreed: to discuss"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.font(9)
            for a, d in talk:
                pdf.multi_cell(0, 4.6, pdf.t(f"{a.label}, pair {d.code}: {d.observers[0]} {d.answers[0]}, "
                                             f"{d.observers[1]} {d.answers[1]}"),
                               new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for line in cal.unpaired:
        pdf.para(line, size=9)


def _equity(pdf: _Pdf, engine, catalog, walk_id: str) -> None:
    pause = equity_pause(engine, catalog, walk_id)
    t = pause.tally
    needed = 36 + 5.5 * len(t.lookfors) + 6 * len(EQUITY_PROMPTS)
    if needed < 150 and pdf.will_page_break(needed):  # the heading, table and questions on one page
        pdf.add_page()
    pdf.heading("Equity pause")
    if pause.empty:
        pdf.para("This rubric flags no look-fors for equity.", size=9)
        return
    pdf.para("Look-fors flagged for equity, by class type (share evident; cells under "
             f"{t.threshold} visits are not shown).", size=9, h=4.2)
    col0 = pdf.width * 0.30
    cw = (pdf.width - col0) / max(1, len(t.groups))
    _header(pdf, "Look-for", col0, [f"{g.label}\n" + (f"<{t.threshold} visits" if g.suppressed else f"{g.visits} visits")
                                    for g in t.groups], cw, size=8)
    pdf.font(8.5)
    for row in t.lookfors:
        pdf.cell(col0, 5.5, pdf.t(row.lookfor.label))
        for g in t.groups:
            c = t.group_cells[row.id][g.key]
            text = (f"<{t.threshold} visits" if c.suppressed else
                    "-" if not c.base else f"{c.evident}/{c.base} {pct(c.evident_share)}")
            pdf.cell(cw, 5.5, pdf.t(text), align="R")
        pdf.ln(5.5)
    pdf.ln(2)
    _pooled_equity(pdf, engine, catalog, walk_id)
    if pdf.will_page_break(6 * len(EQUITY_PROMPTS)):  # keep the questions together
        pdf.add_page()
    for q in EQUITY_PROMPTS:
        pdf.para(f"• {q}", size=9.5)


def _pooled_equity(pdf: _Pdf, engine, catalog, walk_id: str) -> None:
    """The same look-fors by class type over the cycle's walks, with the sentence saying which walks and why."""
    p = pooled_equity(engine, catalog, walk_id)
    if not p.useful:
        return
    if pdf.will_page_break(30 + 9 * len(p.lookfors)):
        pdf.add_page()
    pdf.heading("Equity pause, pooled over the cycle's walks", size=12)
    pdf.para(p.why(), size=9, h=4.2)
    col0 = pdf.width * 0.30
    cw = (pdf.width - col0) / max(1, len(p.groups))
    _header(pdf, "Look-for", col0, [f"{label}\n" + (f"<{p.threshold} visits" if hidden else f"{n} visits")
                                    for _, label, n, hidden in p.groups], cw, size=8)
    for lf, label in p.lookfors:
        pdf.font(8.5)
        pdf.cell(col0, 4.5, pdf.t(label))
        y = pdf.get_y()
        for i, (key, _, _, _) in enumerate(p.groups):
            c = p.cells[lf][key]
            text = (f"<{p.threshold} visits" if c.suppressed else "-" if not c.base else
                    f"{c.evident}/{c.base} {pct(c.share)}\n{round(c.interval[0] * 100)}-{round(c.interval[1] * 100)}%")
            pdf.set_xy(pdf.l_margin + col0 + i * cw, y)
            pdf.multi_cell(cw, 4.5, pdf.t(text), align="R", new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.set_xy(pdf.l_margin, y + 9.5)
    pdf.para("Under each pooled share: its 95% interval. Suppression applies to the pooled cells as to a walk's.",
             size=8, h=4)
    pdf.ln(1)


def build_report(engine: Engine, catalog: RubricCatalog, walk_id: str) -> _Pdf:
    tally = walk_tally(engine, catalog, walk_id)
    with Session(engine) as s:
        school = s.get(School, tally.walk.school_id)
        school_name = school.name if school else "School not on this device"
    pdf = _Pdf(f"{school_name} · learning walk {tally.walk.walk_date.isoformat()}")
    pdf.set_title(f"Learning walk debrief {tally.walk.walk_date.isoformat()}")
    pdf.set_creator("learnwalk")
    pdf.add_page()
    _facts(pdf, tally, school_name)
    for title, rows in tally.sections():
        focus = title == "Focus look-fors"
        pdf.heading(title, size=14 if focus else 12)
        legends = []
        for t in rows:
            text = _legend(t)
            if text not in legends:
                legends.append(text)
        pdf.font(8)
        pdf.set_text_color(70, 70, 70)
        pdf.multi_cell(0, 4, pdf.t("Bars, lightest to darkest: " + "; ".join(legends)), new_x=XPos.LMARGIN,
                       new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
        pdf.ln(1)
        for t in rows:
            _lookfor_block(pdf, tally, t, detailed=focus)
    trend = cycle_trend(engine, catalog, walk_id)
    if len(trend.walks) > 1:
        _trend(pdf, trend)
    _evidence(pdf, walk_notes(engine, tally.rubric, walk_id, tally.walk.focus))
    _calibration(pdf, calibration(engine, catalog, walk_id))
    _equity(pdf, engine, catalog, walk_id)
    return pdf


def write_report(engine: Engine, catalog: RubricCatalog, walk_id: str, out: Path | str) -> int:
    """Write the debrief PDF of a walk to `out`; return its page count."""
    pdf = build_report(engine, catalog, walk_id)
    out = Path(out)
    tmp = out.with_name(out.name + ".part")
    pdf.output(str(tmp))
    tmp.replace(out)  # a reader never sees half a report
    return pdf.pages_count


def report_bytes(engine: Engine, catalog: RubricCatalog, walk_id: str) -> bytes:
    """The debrief PDF of a walk, in memory: the app hands it to the user's browser as a download, so nothing is
    written on the host's disk."""
    return bytes(build_report(engine, catalog, walk_id).output())
