"""The Debrief screen's state: filters, the tallies as chart segments and spoken rows, evidence, cycle trend,
calibration and equity pause. Plain Python over app.debrief (no Flet), so tests drive it directly.
"""
from __future__ import annotations

from dataclasses import dataclass

from app.debrief import Filters, TallyError
from app.debrief.bands import BAND_NAMES
from app.debrief.calibration import Calibration, descriptors_for
from app.debrief.equity import PROMPTS as EQUITY_PROMPTS, EquityPause, PooledEquity
from app.debrief.notes import MEANING_PROMPTS, NoteGroup
from app.debrief.palette import level_colors
from app.debrief.tally import LookforTally, WalkTally, is_checklist
from app.debrief.text import pct
from sync.protocol.observers import observer_label
from app.debrief.trends import CycleTrend
from app.viewmodels._format import day, plural
from sync.protocol.intervals import interval_text
from sync.protocol.vocabulary import CLASS_TYPES, NOT_OBSERVED_LABEL, SUBJECTS, class_type_label, phase_label

NOT_OBSERVED = NOT_OBSERVED_LABEL.lower()  # mid-sentence

SECTIONS = (("tallies", "Tallies"), ("evidence", "What we saw"), ("trend", "Cycle trend"),
            ("calibration", "Calibration"), ("equity", "Equity pause"))
FILTER_TITLES = {"grade_band": "Grade band", "subject": "Subject", "class_type": "Class type",
                 "observer": "Observer"}
ALL = "all"


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Segment:
    value: str
    label: str
    count: int
    share: float  # of the row's base, 0..1
    color: str


@dataclass(frozen=True)
class TallyRow:
    lookfor_id: str
    label: str
    text: str
    focus: bool
    equity: bool
    suppressed: bool
    segments: list[Segment]
    evident_share: float | None
    numbers: str  # the row's numbers in words: what the screen shows beside the chart and a screen reader says

    @property
    def identifier(self) -> str:
        return f"tally:{self.lookfor_id}"

    @property
    def spoken(self) -> str:
        return ". ".join(p for p in (self.label, self.badges, self.numbers) if p)

    @property
    def badges(self) -> str:
        return " · ".join(b for b, on in (("Focus", self.focus), ("Equity", self.equity)) if on)


@dataclass(frozen=True)
class Section:
    title: str
    rows: list[TallyRow]
    legend: str


def numbers_of(t: LookforTally, limit: int) -> str:
    c = t.cell
    if c.suppressed:
        return f"Not shown: fewer than {limit} visits."
    if not c.visits:
        return "Not rated: no visit it applies to."
    if not c.base:
        return f"Not rated · {NOT_OBSERVED} {c.not_observed}"
    levels = " · ".join(f"{t.scale.label_of(v)} {n}" for v, n in c.counts.items())
    share = f"{pct(c.evident_share)}, {interval_text(c.interval)}"
    if is_checklist(t.scale):
        return f"Seen in {c.evident} of {c.base} rated visits ({share})"
    return (f"Rated {c.rated} · {NOT_OBSERVED} {c.not_observed} · {levels} · "
            f"evident {c.evident} of {c.base} ({share})")


def row_of(t: LookforTally, limit: int) -> TallyRow:
    c = t.cell
    colors = level_colors(t.scale)
    segments = []
    if not c.suppressed and c.base:
        segments = [Segment(v, t.scale.label_of(v), n, n / c.base, colors[v]) for v, n in c.counts.items()]
    return TallyRow(t.id, t.lookfor.label, t.lookfor.text, t.focus, t.lookfor.equity, c.suppressed, segments,
                    c.evident_share, numbers_of(t, limit))


def _kappa(k) -> str:
    return "-" if k is None or k.kappa is None else f"{k.kappa:.2f}"


def legend_of(rows: list[LookforTally]) -> str:
    seen: list[str] = []
    for t in rows:
        text = ", ".join(t.scale.label_of(v) for v in t.scale.values())
        if text not in seen:
            seen.append(text)
    return "Bars show each level, lightest to darkest: " + "; ".join(seen)


class DebriefVM:
    def __init__(self, device, walk_id: str):
        """device: the app's Device (its capture service and its debrief)."""
        self.service, self.debrief = device.capture, device.debrief
        self.walk_id = walk_id
        self.walk = self.service.walk(walk_id)
        self.filters = Filters()
        self.section = "tallies"
        self.error = ""
        self._cache: dict[str, object] = {}
        self.tally: WalkTally = self.debrief.tally(walk_id)
        self.rubric = self.tally.rubric
        self.observer_count = self.tally.observers

    # ---- header ---------------------------------------------------------------------------------------

    @property
    def title(self) -> str:
        return f"Debrief: {day(self.walk.walk_date)}"

    @property
    def subtitle(self) -> str:
        school = next((s.name for s in self.service.schools() if s.id == self.walk.school_id), "Unknown school")
        phase = phase_label(self.walk.phase)
        return f"{school} · {self.rubric.title} · {phase}"

    @property
    def summary(self) -> str:
        t = self.tally
        visits = f"fewer than {t.threshold} visits" if t.suppressed else plural(t.visits, "visit")
        return f"{visits} · {plural(t.observers, 'observer')} · {t.filters.describe()}"

    @property
    def not_counted_note(self) -> str:
        """The walk's visits the tallies leave out, in words: "1 visit in progress, not counted"."""
        t, parts = self.tally, []
        if t.in_progress:
            parts.append(f"{plural(t.in_progress, 'visit')} in progress, not counted")
        if t.empty_finished:
            parts.append(f"{plural(t.empty_finished, 'finished visit')} with nothing rated, not counted")
        return " · ".join(parts)

    @property
    def empty_note(self) -> str:
        if not self.tally.total_visits:
            return ("No counted visits on this walk yet: the tallies appear here as soon as a visit is finished "
                    "with at least one rating.")
        return ""

    @property
    def suppressed_note(self) -> str:
        if self.tally.suppressed:
            return (f"Not shown: this selection, or the rest of the walk outside it, has fewer than "
                    f"{self.tally.threshold} visits, so a classroom could be singled out. Choose a wider filter.")
        return ""

    # ---- freshness: the team's visits arrive by sync ---------------------------------------------------

    def updated_text(self, last_success, now=None) -> str:
        """'Team data updated 2 min ago' from the last successful sync round (None: never synced)."""
        if last_success is None:
            return "Only this tablet's visits: it has not synced with the server yet."
        from sync.protocol import utcnow

        minutes = int(((now or utcnow()) - last_success).total_seconds() // 60)
        if minutes < 1:
            return "Team data updated just now"
        return f"Team data updated {plural(minutes, 'min', 'min')} ago"

    def refresh(self) -> None:
        """Read the tallies again (after a sync round brought new visits), keeping the filters and section."""
        self.tally = self.debrief.tally(self.walk_id, filters=self.filters)
        self.observer_count = self.tally.observers
        self._cache.clear()

    # ---- filters --------------------------------------------------------------------------------------

    def filter_choices(self) -> dict[str, list[Choice]]:
        observers = [Choice(str(i), observer_label(i)) for i in range(1, self.observer_count + 1)]
        return {
            "grade_band": [Choice(ALL, "All")] + [Choice(b, b) for b in BAND_NAMES],
            "subject": [Choice(ALL, "All")] + [Choice(s, s) for s in SUBJECTS],
            "class_type": [Choice(ALL, "All")] + [Choice(c, class_type_label(c)) for c in CLASS_TYPES],
            "observer": [Choice(ALL, "All")] + observers,
        }

    def chosen(self, name: str) -> str:
        value = getattr(self.filters, name)
        return ALL if value is None else str(value)

    def set_filter(self, name: str, value: str) -> None:
        if name not in FILTER_TITLES:
            raise TallyError(f"There is no filter called {name}.")
        v = None if value == ALL else (int(value) if name == "observer" else value)
        self.filters = Filters(**{**self.filters.__dict__, name: v})
        self.tally = self.debrief.tally(self.walk_id, filters=self.filters)
        self._cache.pop("equity", None)

    def clear_filters(self) -> None:
        self.filters = Filters()
        self.tally = self.debrief.tally(self.walk_id)
        self._cache.pop("equity", None)

    # ---- tallies --------------------------------------------------------------------------------------

    def sections(self) -> list[Section]:
        return [Section(title, [row_of(t, self.tally.threshold) for t in rows], legend_of(rows))
                for title, rows in self.tally.sections()]

    def row(self, lookfor_id: str) -> TallyRow:
        return row_of(self.tally.get(lookfor_id), self.tally.threshold)

    # ---- the other sections (computed when first shown) ---------------------------------------------------

    def _once(self, key: str, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def notes(self) -> list[NoteGroup]:
        return self._once("notes", lambda: self.debrief.notes(self.walk_id, self.rubric, self.walk.focus))

    meaning_prompts = MEANING_PROMPTS
    equity_prompts = EQUITY_PROMPTS

    def trend(self) -> CycleTrend:
        return self._once("trend", lambda: self.debrief.trend(self.walk_id))

    def trend_table(self) -> tuple[list[str], list[list[str]]]:
        """Header and rows of the cycle trend: one column per walk, then the change."""
        t = self.trend()
        head = ["Priority" if t.cycle else "Focus look-for"]
        head += [f"{phase_label(w.phase)}\n{day(w.walk_date)}" for w in t.walks]
        head.append("Change")
        if t.cycle:
            head.append("Target")
        rows = []
        for r in t.rows:
            name = f"Priority {r.priority}: {r.label}" if r.priority else r.label
            row = [name] + [pct(s) if iv is None else f"{pct(s)}\n{round(iv[0] * 100)}-{round(iv[1] * 100)}%"
                            for s, iv in zip(r.shares, r.intervals)] + [r.change_text]
            if t.cycle:
                row.append(f"{r.target}%\n{r.status}" if r.target is not None and r.status else
                           f"{r.target}%" if r.target is not None else "no target set")
            rows.append(row)
        return head, rows

    def trend_targets(self) -> list[tuple[str, str]]:
        """(look-for id, sentence) per priority look-for of the cycle: its trend against its target in words."""
        t = self.trend()
        out = [(r.lookfor_id, t.sentence(r)) for r in t.rows if r.priority is not None]
        return out

    def calibration(self) -> Calibration:
        return self._once("calibration", lambda: self.debrief.calibration(self.walk_id))

    def calibration_table(self) -> tuple[list[str], list[list[str]]]:
        cal = self.calibration()
        rows = [[a.label, str(a.compared), pct(a.exact), pct(a.adjacent), _kappa(a.kappa),
                 _kappa(a.weighted)] for a in cal.lookfors if a.compared]
        return ["Look-for", "Pairs", "Exact", "Adjacent", "Kappa", "Weighted kappa"], rows

    def drift_table(self) -> tuple[list[str], list[list[str]]]:
        """Each observer's exact agreement with their partners on each walk of the cycle (drift); no teacher,
        classroom or observer name, only 'Observer N' of this walk."""
        walks, rows = self._once("drift", lambda: self.debrief.drift(self.walk_id))
        head = ["Observer"] + [f"{phase_label(w.phase)}\n{day(w.walk_date)}" for w in walks]
        return head, [[r.observer] + [f"{pct(share)} of {n}" if n else "-" for n, share in r.cells] for r in rows]

    def disagreements(self) -> list[str]:
        return [f"{a.label}, pair {d.code}: {d.observers[0]} {d.answers[0]}, {d.observers[1]} {d.answers[1]}"
                for a in self.calibration().lookfors for d in a.disagreements]

    def disagreement_anchors(self) -> list[list[str]]:
        """For each disagreement (in the order of disagreements()), what each chosen level looks like for that
        look-for: "Mostly: ..." lines, none when the rubric does not describe the levels."""
        return [[f"{answer}: {text}" for answer, text in zip(d.answers, descriptors_for(self.rubric, a.lookfor_id,
                                                                                       d.answers)) if text]
                for a in self.calibration().lookfors for d in a.disagreements]

    def equity(self) -> EquityPause:
        return self._once("equity", lambda: self.debrief.equity(self.walk_id, self.filters))

    def pooled_equity(self) -> PooledEquity:
        return self._once("pooled_equity", lambda: self.debrief.pooled_equity(self.walk_id))

    def pooled_equity_table(self) -> tuple[list[str], list[list[str]]]:
        """The equity look-fors by class type over the cycle's walks: share evident, its count and 95% interval."""
        p = self.pooled_equity()
        head = ["Look-for"] + [label + ("" if hidden else f" ({n})") for _, label, n, hidden in p.groups]
        rows = []
        for lf, label in p.lookfors:
            cells = []
            for key, _, _, _ in p.groups:
                c = p.cells[lf][key]
                cells.append(f"fewer than {p.threshold} visits" if c.suppressed else "-" if not c.base else
                             f"{pct(c.share)} ({c.evident} of {c.base})\n{interval_text(c.interval)}")
            rows.append([label] + cells)
        return head, rows

    def pooled_equity_gains(self) -> str:
        """Which groups the pooling shows that a single walk hides, in words ('' when none)."""
        p = self.pooled_equity()
        shown = [label for key, label, _, hidden in p.groups if not hidden and p.single_hidden.get(key)]
        if not shown:
            return ""
        return ("Shown here, hidden on at least one walk alone: " + ", ".join(shown) + ".")

    def equity_table(self) -> tuple[list[str], list[list[str]]]:
        t = self.equity().tally
        head = ["Look-for"] + [g.label + ("" if g.suppressed else f" ({g.visits})") for g in t.groups]
        rows = []
        for lf in t.lookfors:
            cells = []
            for g in t.groups:
                c = t.group_cells[lf.id][g.key]
                cells.append(f"fewer than {t.threshold} visits" if c.suppressed else
                             "-" if not c.base else f"{pct(c.evident_share)} ({c.evident} of {c.base})")
            rows.append([lf.lookfor.label] + cells)
        return head, rows
