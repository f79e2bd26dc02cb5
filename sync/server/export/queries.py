"""The SELECTs behind every export, limited by the caller's Scope and the filters, in one shared order.

Every stream is ordered by (walk_date, walk_id, visit_no, visit_id) so visits, their ratings and their notes can
be merged in one pass without holding more than one visit in memory. A visit's rating cells are one visit_cells
row (sync.server.ingest.cells), selected next to the visit's columns and expanded in Python (source.py); the visit's
scope is the cells' scope, so they need no filter of their own. Tombstones (deleted rows) are left out.
"""
from __future__ import annotations

from operator import itemgetter

from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.sql import Select

from sync.protocol import tally
from sync.protocol.export import ExportFilters
from sync.server.models import EvidenceNote, School, Visit, VisitCells, Walk

VISIT_ORDER = (Walk.walk_date, Walk.id, Visit.visit_no, Visit.id)
CELLS = (VisitCells.devices, VisitCells.cells)  # always the last two columns of a query that reads cells
STORED_CELLS = itemgetter(-2, -1)  # (devices, cells) of a row of such a query: sync.server.ingest.cells reads them


def raw(column):
    """A time column read as the driver gives it (text on SQLite): rows.iso_time formats either kind."""
    return type_coerce(column, String).label(column.key)


def _walk_filters(f: ExportFilters) -> list:
    out = [Walk.deleted == False]  # noqa: E712 (SQL expression)
    if f.school_id:
        out.append(Walk.school_id == f.school_id)
    if f.date_from:
        out.append(Walk.walk_date >= f.date_from)
    if f.date_to:
        out.append(Walk.walk_date <= f.date_to)
    if f.walk_id:
        out.append(Walk.id == f.walk_id)
    if f.rubric_id:
        out.append(Walk.rubric_id == f.rubric_id)
    if f.rubric_version is not None:
        out.append(Walk.rubric_version == f.rubric_version)
    return out


def _visits_where(scope, f: ExportFilters) -> list:
    return [*scope.where(Walk), *scope.where(Visit), Visit.deleted == False, *_walk_filters(f)]  # noqa: E712


def walk_visit_join(*columns) -> Select:
    return select(*columns).select_from(Visit).join(Walk, Walk.id == Visit.walk_id)


def _with_cells(stmt: Select, outer: bool) -> Select:
    # the visit query is scoped already: joining on its id limits the cells to it (scope.where(VisitCells)
    # would repeat that as a subquery over every visit of the district)
    return stmt.join(VisitCells, VisitCells.visit_id == Visit.id, isouter=outer)


VISIT_COLUMNS_SQL = (Walk.id, Visit.id, Visit.visit_no, Walk.school_id, Walk.walk_date, Walk.cycle_label, Walk.phase,
                     Visit.grade, Visit.subject, Visit.class_type, Visit.student_count, Visit.observer_id,
                     Walk.rubric_id, Walk.rubric_version, raw(Visit.started_at), raw(Visit.ended_at),
                     raw(Visit.updated_at),
                     Visit.note, Visit.calibration_code)
# a visits() row by position: VISIT_COLUMNS_SQL in order (then CELLS, when asked for)
(V_WALK_ID, V_VISIT_ID, V_VISIT_NO, V_SCHOOL_ID, V_WALK_DATE, V_CYCLE_LABEL, V_PHASE, V_GRADE, V_SUBJECT, V_CLASS_TYPE,
 V_STUDENT_COUNT, V_OBSERVER_ID, V_RUBRIC_ID, V_RUBRIC_VERSION, V_STARTED_AT, V_ENDED_AT, V_UPDATED_AT, V_NOTE,
 V_CALIBRATION_CODE) = range(len(VISIT_COLUMNS_SQL))


def visits(scope, f: ExportFilters, cells: bool = False) -> Select:
    """Every visit in order; with cells=True also its stored cells (None, None for a visit without any)."""
    columns = VISIT_COLUMNS_SQL + CELLS if cells else VISIT_COLUMNS_SQL
    stmt = walk_visit_join(*columns)
    if cells:
        stmt = _with_cells(stmt, outer=True)
    return stmt.where(*_visits_where(scope, f)).order_by(*VISIT_ORDER)


LONG_COLUMNS_SQL = (Walk.id, Visit.id, Visit.visit_no, Walk.school_id, Walk.walk_date, Visit.grade, Visit.subject,
                    Walk.rubric_id, Walk.rubric_version, Walk.cycle_label, Walk.phase, Visit.class_type)
# A rating row, as source.py builds it for every writer from a ratings() row (or a visits() row, same columns):
# LONG_COLUMNS_SQL[:9] + the cell's (lookfor_id, value, not_observed) + LONG_COLUMNS_SQL[9:] + the cell's updated_at
(R_WALK_ID, R_VISIT_ID, R_VISIT_NO, R_SCHOOL_ID, R_WALK_DATE, R_GRADE, R_SUBJECT, R_RUBRIC_ID, R_RUBRIC_VERSION,
 R_LOOKFOR_ID, R_VALUE, R_NOT_OBSERVED, R_CYCLE_LABEL, R_PHASE, R_CLASS_TYPE,
 R_UPDATED_AT) = range(len(LONG_COLUMNS_SQL) + 4)
LONG_HEAD = itemgetter(*range(R_LOOKFOR_ID))  # of a ratings() row: the rating row's columns before the cell
LONG_TAIL = itemgetter(*range(R_LOOKFOR_ID, len(LONG_COLUMNS_SQL)))  # ... and between the cell and its time
VISIT_LONG_HEAD = itemgetter(V_WALK_ID, V_VISIT_ID, V_VISIT_NO, V_SCHOOL_ID, V_WALK_DATE, V_GRADE, V_SUBJECT,
                             V_RUBRIC_ID, V_RUBRIC_VERSION)  # the same columns of a visits() row
VISIT_LONG_TAIL = itemgetter(V_CYCLE_LABEL, V_PHASE, V_CLASS_TYPE)


def ratings(scope, f: ExportFilters) -> Select:
    """One row per visit that has stored cells: the long columns of its visit and walk, then its cells (the long
    CSV and the XLSX Ratings sheet expand them to one row per rating, source.ExportSource.rating_groups)."""
    return (_with_cells(walk_visit_join(*LONG_COLUMNS_SQL, *CELLS), outer=False)
            .where(*_visits_where(scope, f)).order_by(*VISIT_ORDER))


def cells(scope, f: ExportFilters) -> Select:
    """The stored cells of every exported visit, unordered (look-for ids and counts are read from them)."""
    return _with_cells(walk_visit_join(*CELLS), outer=False).where(*_visits_where(scope, f))


# a notes() row by position
N_VISIT_ID, N_ID, N_LOOKFOR_ID, N_TEXT, N_UPDATED_AT = range(5)


def notes(scope, f: ExportFilters) -> Select:
    return (walk_visit_join(Visit.id, EvidenceNote.id, EvidenceNote.lookfor_id, EvidenceNote.text,
                            raw(EvidenceNote.updated_at))
            .join(EvidenceNote, EvidenceNote.visit_id == Visit.id)
            .where(*_visits_where(scope, f), *scope.where(EvidenceNote), EvidenceNote.deleted == False)  # noqa: E712
            .order_by(*VISIT_ORDER, EvidenceNote.id))


def schools(scope) -> Select:
    """(id, name) of the district's schools: exports print a school's name beside its id."""
    return select(School.id, School.name).where(*scope.where(School))


def walk_observers(scope, f: ExportFilters) -> Select:
    """(walk id, observer id) of every live visit of the exported walks, whoever may see the visit: a walk's
    observer numbers (sync.protocol.observers) are the same in every caller's export and on the lead's tablet."""
    return (walk_visit_join(Walk.id, Visit.observer_id)
            .where(*scope.where(Walk), Visit.district_id == scope.district_id, Visit.deleted == False,  # noqa: E712
                   *_walk_filters(f)).distinct())


def rubric_keys(scope, f: ExportFilters) -> Select:
    return walk_visit_join(Walk.rubric_id, Walk.rubric_version).where(*_visits_where(scope, f)).distinct()


def count_visits(scope, f: ExportFilters) -> Select:
    return walk_visit_join(func.count()).where(*_visits_where(scope, f))


TALLY_WALK_SQL = (Walk.id, Walk.walk_date, Walk.school_id, Walk.cycle_label, Walk.phase, Walk.rubric_id,
                  Walk.rubric_version)
# a walk_cells() row: the walk's tally columns, the visit's subject, observer, calibration code, grade, then its
# stored cells (STORED_CELLS)
T_WALK = itemgetter(*range(len(TALLY_WALK_SQL)))
T_WALK_RUBRIC = itemgetter(0, 5, 6)  # walk id, rubric id, rubric version: one walk's rows are grouped by it
T_SUBJECT, T_OBSERVER, T_CODE, T_GRADE = range(len(TALLY_WALK_SQL), len(TALLY_WALK_SQL) + 4)


def walk_cells(scope, f: ExportFilters) -> Select:
    """Every finished live visit the caller may see, as its walk's tally columns, its subject, observer, code and
    grade (a grade-limited look-for's base needs it; one short column, read for every rubric) and its cells (None,
    None if it has none), walk by walk: the tallies pick the counted ones in Python
    (sync.protocol.tally.counted_of: a visit's marks are in its stored cells, a calibration partner is left out)
    and count visits and cells per walk in one pass (xlsx_out.tally_rows). Partners are looked for among these
    visits, as a device looks among the visits it holds."""
    return (_with_cells(walk_visit_join(*TALLY_WALK_SQL, Visit.subject, Visit.observer_id, Visit.calibration_code,
                                        Visit.grade, *CELLS), outer=True)
            .where(*_visits_where(scope, f), tally.finished(Visit))
            .order_by(Walk.walk_date, Walk.id))
