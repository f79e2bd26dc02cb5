"""Plain-text tables of a walk tally, for the terminal (`learnwalk tally`)."""
from __future__ import annotations

from app.debrief.tally import Cell, WalkTally
from sync.protocol.vocabulary import NOT_OBSERVED_LABEL

NO_WIDTH = len(NOT_OBSERVED_LABEL)

BY_TITLES = {"grade_band": "grade band", "subject": "subject", "class_type": "class type", "observer": "observer"}


def pct(x: float | None) -> str:
    return "-" if x is None else f"{round(x * 100):d}%"


def evident_text(cell: Cell, limit: int) -> str:
    if cell.suppressed:
        return f"fewer than {limit} visits"
    if not cell.base:
        return "not rated"
    lo, hi = cell.interval
    return f"{cell.evident}/{cell.base} {pct(cell.evident_share)} ({round(lo * 100)}-{round(hi * 100)}%)"


def _label(t, width: int) -> str:
    text = f"{t.lookfor.label} ({t.id})"
    return text if len(text) <= width else text[: width - 1] + "…"


def render(tally: WalkTally) -> str:
    w, r = tally.walk, tally.rubric
    head = [f"Walk {w.walk_date.isoformat()} · {r.title} ({r.key}) · {w.phase}"
            + (f" · {w.cycle_label}" if w.cycle_label else ""),
            f"Visits: {tally.suppressed_message if tally.suppressed else tally.visits}"
            f" · observers: {tally.observers} · {tally.filters.describe()}"
            f" · cells under {tally.threshold} visits are not shown"]
    lines = head + [""]
    width = min(64, max([12] + [len(f"{t.lookfor.label} ({t.id})") for t in tally.lookfors]))
    lines.append(f"  {'Look-for':<{width}} {'Rated':>5} {NOT_OBSERVED_LABEL:>{NO_WIDTH}}  {'Evident':<16} "
                 "Counts (share)")
    for title, rows in tally.sections():
        lines.append(title)
        for t in rows:
            c = t.cell
            if c.suppressed:
                lines.append(f"  {_label(t, width):<{width}} {'':>5} {'':>{NO_WIDTH}}  "
                             f"{evident_text(c, tally.threshold)}")
                continue
            counts = " · ".join(f"{t.scale.label_of(v)} {n} ({pct(c.share(v))})" for v, n in c.counts.items())
            lines.append(f"  {_label(t, width):<{width}} {c.rated:>5} {c.not_observed:>{NO_WIDTH}}  "
                         f"{evident_text(c, tally.threshold):<16} {counts}")
    if tally.by:
        lines += ["", f"By {BY_TITLES[tally.by]}: share at or above the evident level (evident/base)"]
        cols = [g.label + ("" if g.suppressed else f" ({g.visits})") for g in tally.groups]
        colw = max([14] + [len(c) for c in cols])
        lines.append(f"  {'Look-for':<{width}} " + " ".join(f"{c:>{colw}}" for c in cols))
        for t in tally.lookfors:
            cells = []
            for g in tally.groups:
                cell = tally.group_cells[t.id][g.key]
                cells.append(f"<{tally.threshold} visits" if cell.suppressed else
                             ("-" if not cell.base else f"{cell.evident}/{cell.base} {pct(cell.evident_share)}"))
            lines.append(f"  {_label(t, width):<{width}} " + " ".join(f"{c:>{colw}}" for c in cells))
    return "\n".join(lines)
