"""The SELECTs behind every export, limited by the caller's Scope and the filters, in one shared order.

Every stream is ordered by (walk_date, walk_id, visit_no, visit_id) so visits, their ratings and their notes can
be merged in one pass without holding more than one visit in memory. Tombstones (deleted rows) are left out.
"""
from __future__ import annotations

from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.sql import Select

from sync.server.export.filters import ExportFilters
from sync.server.models import EvidenceNote, Rating, Visit, Walk

VISIT_ORDER = (Walk.walk_date, Walk.id, Visit.visit_no, Visit.id)


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


def _part_where(scope, f: ExportFilters, part) -> list:
    # a rating's scope is its visit's (sync.server.scope): the join on Visit, limited above, is that scope;
    # scope.where(Rating) would only repeat it as a subquery over every visit of the district
    own = [] if part is Rating else scope.where(part)
    return [*_visits_where(scope, f), *own, part.deleted == False]  # noqa: E712


def walk_visit_join(*columns) -> Select:
    return select(*columns).select_from(Visit).join(Walk, Walk.id == Visit.walk_id)


VISIT_COLUMNS_SQL = (Walk.id, Visit.id, Visit.visit_no, Walk.school_id, Walk.walk_date, Walk.cycle_label, Walk.phase,
                     Visit.grade, Visit.subject, Visit.class_type, Visit.student_count, Visit.observer_id,
                     Walk.rubric_id, Walk.rubric_version, raw(Visit.started_at), raw(Visit.ended_at),
                     raw(Visit.updated_at),
                     Visit.note, Visit.calibration_code)


def visits(scope, f: ExportFilters) -> Select:
    return walk_visit_join(*VISIT_COLUMNS_SQL).where(*_visits_where(scope, f)).order_by(*VISIT_ORDER)


LONG_COLUMNS_SQL = (Walk.id, Visit.id, Visit.visit_no, Walk.school_id, Walk.walk_date, Visit.grade, Visit.subject,
                    Walk.rubric_id, Walk.rubric_version, Rating.lookfor_id, Rating.value, Rating.not_observed,
                    Walk.cycle_label, Walk.phase, Visit.class_type, raw(Rating.updated_at))


def ratings(scope, f: ExportFilters) -> Select:
    """One row per rating with its visit's and walk's columns (the long CSV and the XLSX Ratings sheet)."""
    return (walk_visit_join(*LONG_COLUMNS_SQL).join(Rating, Rating.visit_id == Visit.id)
            .where(*_part_where(scope, f, Rating)).order_by(*VISIT_ORDER))


def notes(scope, f: ExportFilters) -> Select:
    return (walk_visit_join(Visit.id, EvidenceNote.id, EvidenceNote.lookfor_id, EvidenceNote.text,
                            raw(EvidenceNote.updated_at))
            .join(EvidenceNote, EvidenceNote.visit_id == Visit.id)
            .where(*_part_where(scope, f, EvidenceNote)).order_by(*VISIT_ORDER, EvidenceNote.id))


def rubric_keys(scope, f: ExportFilters) -> Select:
    return walk_visit_join(Walk.rubric_id, Walk.rubric_version).where(*_visits_where(scope, f)).distinct()


def lookfor_ids(scope, f: ExportFilters) -> Select:
    return (walk_visit_join(Rating.lookfor_id).join(Rating, Rating.visit_id == Visit.id)
            .where(*_part_where(scope, f, Rating)).distinct())


def count_visits(scope, f: ExportFilters) -> Select:
    return walk_visit_join(func.count()).where(*_visits_where(scope, f))


def count_ratings(scope, f: ExportFilters) -> Select:
    return walk_visit_join(func.count()).join(Rating, Rating.visit_id == Visit.id).where(*_part_where(scope, f, Rating))


TALLY_WALK_SQL = (Walk.id, Walk.walk_date, Walk.school_id, Walk.cycle_label, Walk.phase, Walk.rubric_id,
                  Walk.rubric_version)


def walk_visit_counts(scope, f: ExportFilters) -> Select:
    return (walk_visit_join(*TALLY_WALK_SQL, func.count(Visit.id)).where(*_visits_where(scope, f))
            .group_by(*TALLY_WALK_SQL).order_by(Walk.walk_date, Walk.id))


def walk_rating_counts(scope, f: ExportFilters) -> Select:
    """Ratings counted per (walk, look-for, value, not observed): the tallies, aggregated by the database."""
    keys = (Walk.walk_date, Walk.id, Rating.lookfor_id, Rating.value, Rating.not_observed)
    return (walk_visit_join(*keys, func.count()).join(Rating, Rating.visit_id == Visit.id)
            .where(*_part_where(scope, f, Rating)).group_by(*keys).order_by(Walk.walk_date, Walk.id))
