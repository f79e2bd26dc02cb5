"""XLSX workbook: sheets Visits, Ratings, Look-fors (the dictionary of ids, text and scales), Tallies and Notes."""
from __future__ import annotations

from itertools import groupby
from typing import Iterator

from sync.protocol.cells import live_ratings
from sync.protocol.intervals import wilson
from sync.protocol.tally import Kind, TallyRules, VisitFacts, counted_of, is_mark
from sync.server.export import queries
from sync.server.export.lookfors import DICTIONARY_COLUMNS
from sync.server.export.queries import (N_ID, N_LOOKFOR_ID, N_TEXT, N_UPDATED_AT, R_LOOKFOR_ID, R_RUBRIC_ID,
                                        R_RUBRIC_VERSION, STORED_CELLS, V_NOTE, V_RUBRIC_ID, V_RUBRIC_VERSION,
                                        V_SCHOOL_ID, V_UPDATED_AT, V_VISIT_ID, V_VISIT_NO, V_WALK_DATE, V_WALK_ID)
from sync.server.export.rows import (LONG_COLUMNS, NOTE_COLUMNS, TALLY_COLUMNS, VISIT_COLUMNS, iso_date, iso_time,
                                     long_values, visit_values)
from sync.server.export.sink import ChunkSink
from sync.server.export.source import ExportSource
from sync.server.export.xlsx_stream import XlsxStream
from sync.server.ingest.cells import decode


def _visit_rows(src: ExportSource):
    for v, _, _ in src.visits_with(ratings=False):
        yield visit_values(v, src.visit_extra(v))


def _rating_rows(src: ExportSource):
    info = src.catalog.info
    for v, group, notes in src.rated_visits():
        school_name, observer_no = src.visit_extra(v)
        for r in group:
            yield long_values(r, info(r[R_RUBRIC_ID], r[R_RUBRIC_VERSION], r[R_LOOKFOR_ID]),
                              (school_name, observer_no, notes.get(r[R_LOOKFOR_ID], "")))


def _note_rows(src: ExportSource):
    """Every live evidence note of every visit (note id order), then the visit's own note when it has one."""
    info = src.catalog.info
    for v, _, notes in src.visits_with(ratings=False, notes=True, report=False):
        school_name, observer_no = src.visit_extra(v)
        head = [v[V_WALK_ID], v[V_VISIT_ID], v[V_VISIT_NO], observer_no, v[V_SCHOOL_ID], school_name,
                iso_date(v[V_WALK_DATE])]
        for n in notes:
            lookfor = n[N_LOOKFOR_ID] or ""
            label = info(v[V_RUBRIC_ID], v[V_RUBRIC_VERSION], lookfor).label if lookfor else ""
            yield head + [lookfor, label, n[N_ID], n[N_TEXT], iso_time(n[N_UPDATED_AT])]
        if v[V_NOTE]:
            yield head + ["", "", "", v[V_NOTE], iso_time(v[V_UPDATED_AT])]


def _walk_counts(src: ExportSource):
    """(walk columns, the walk's TallyRules, counted visits by (subject, grade), {lookfor_id: {"values": {value: n},
    "not_observed": n}}) per walk, from the walk's counted visits (sync.protocol.tally.counted_of) and the live
    cells in their look-fors' base, in one ordered pass (one walk's visits in memory at a time)."""
    known: dict[tuple[str, int], TallyRules] = {}
    for (_, *rubric), rows in groupby(src.rows(queries.walk_cells), key=queries.T_WALK_RUBRIC):
        key = (rubric[0], rubric[1])
        rules = known.get(key) or known.setdefault(key, TallyRules.of(src.catalog.rubrics.get(key)))
        visits, facts = [], []
        for r in rows:
            devices, cells = STORED_CELLS(r)
            # stored cells without their writers (not cells.rows): counting needs none, and this runs per rating
            live = [] if cells is None else list(live_ratings(decode(devices, cells)[1]))
            visits.append((r, live))
            facts.append(VisitFacts(r[queries.T_OBSERVER], r[queries.T_CODE], True,
                                    any(is_mark(v, no) for _, v, no in live)))
        kinds: dict[Kind, int] = {}
        per: dict[str, dict] = {}
        by_grade = rules.by_grade  # without grade-limited look-fors a grade changes no base: kinds stay per subject
        for (r, live), counted in zip(visits, counted_of(facts)):
            if not counted:
                continue
            kind = (r[queries.T_SUBJECT], r[queries.T_GRADE] if by_grade else None)
            kinds[kind] = kinds.get(kind, 0) + 1
            outside = rules.outside_base(*kind)  # look-fors this visit is not in the base of: usually none
            for lookfor_id, value, not_observed in live:
                if outside and lookfor_id in outside:
                    continue
                cell = per.get(lookfor_id)
                if cell is None:
                    cell = per[lookfor_id] = {"values": {}, "not_observed": 0}
                if not_observed:
                    cell["not_observed"] += 1
                elif value:
                    cell["values"][value] = cell["values"].get(value, 0) + 1
        if kinds:
            yield queries.T_WALK(visits[0][0]), rules, kinds, per


def tally_rows(src: ExportSource):
    """Per walk and look-for: visits (the look-for's base), rated, not observed, evident, and the count of each
    scale value, counted by the definition the device's debrief uses (sync.protocol.tally)."""
    for walk, rules, kinds, per in _walk_counts(src):
        walk_id, walk_date, school_id, cycle, phase, rubric_id, version = walk
        for lookfor_id in list(rules.lookfors) + sorted(set(per) - set(rules.lookfors)):
            rule = rules.rule(lookfor_id)
            cell = per.get(lookfor_id, {"values": {}, "not_observed": 0})
            c = rule.count(rule.base(kinds), cell["values"], cell["not_observed"])
            yield [walk_id, iso_date(walk_date), school_id, cycle, phase, rubric_id, version, lookfor_id,
                   src.catalog.info(rubric_id, version, lookfor_id).label, c.visits, c.rated, c.not_observed,
                   c.evident, "; ".join(f"{v}={n}" for v, n in c.counts.items()), *_share(c.evident, c.share_base),
                   src.school_name(school_id)]


def _share(evident: int, of: int) -> list:
    """of, evident share and its 95% Wilson interval (sync.protocol.intervals), fractions to 4 places; blanks
    when nothing was rated."""
    iv = wilson(evident, of)
    if iv is None:
        return [of, None, None, None]
    return [of, round(evident / of, 4), round(iv[0], 4), round(iv[1], 4)]


def xlsx(src: ExportSource) -> Iterator[bytes]:
    sink = ChunkSink()
    book = XlsxStream(sink)
    for name, header, rows in (("Visits", VISIT_COLUMNS, _visit_rows(src)),
                               ("Ratings", LONG_COLUMNS, _rating_rows(src)),
                               ("Look-fors", DICTIONARY_COLUMNS, src.catalog.dictionary_rows()),
                               ("Tallies", TALLY_COLUMNS, tally_rows(src)),
                               ("Notes", NOTE_COLUMNS, _note_rows(src))):  # added later: last, so sheet order holds
        for _ in book.sheet(name, header, rows):
            chunk = sink.drain()
            if chunk:
                yield chunk
    book.close()
    yield sink.drain()
