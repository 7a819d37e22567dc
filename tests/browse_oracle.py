"""The SQL browse the catalogue snapshot replaced, kept as a test oracle.

Until the snapshot, ``academy/catalogue/browse.py`` decided which courses match, their order and
every facet count with one SQL condition per filter and a dozen grouped queries over the matched
set. That code is here, unchanged in what it computes, so ``tests/test_browse_snapshot.py`` can
hold the snapshot to exactly the same answers on SQLite and on PostgreSQL. Since "place means
place" (issue 16) a region also matches UK-wide and online courses unless ``region_only``; that
is written here as SQL too, independently of the snapshot's arrays. It is slow on purpose
(no pagination: every matching id in order) and used by tests only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    and_,
    any_,
    bindparam,
    exists,
    false,
    func,
    not_,
    or_,
    select,
)

from academy.catalogue.models import Course, ProgrammeModule, course_professions, course_sectors
from academy.catalogue.visibility import is_public, next_starts
from academy.extensions import db
from academy.search import TextMatch

WEEKS_CHOICES = (4, 8, 12, 26, 52)
WIDE_REGIONS = ("uk-wide",)
ONLINE_MODES = ("online-live", "online-self-paced")
TERM_FACETS = ("step", "sector", "profession", "mode", "region", "programme")


@dataclass
class OracleResult:
    """Every matching id in order, and the counts, as the SQL computed them."""

    ids: list[int]
    raw_counts: dict[str, dict[Any, int]]
    free_count: int
    weeks_counts: dict[int, int]

    @property
    def total(self) -> int:
        return len(self.ids)


def id_in(ids: list[int], column=None, name: str = "matched_ids") -> ColumnElement[bool]:
    column = Course.id if column is None else column
    if not ids:
        return false()
    if db.engine.dialect.name == "postgresql":
        return column == any_(bindparam(name, ids, type_=ARRAY(Integer)))
    each = func.json_each(bindparam(name, json.dumps(ids))).table_valued("value")
    return column.in_(select(each.c.value))


def _tag_clause(table, column: str, term_id: int) -> ColumnElement[bool]:
    """Tagged with ``term_id``, or not tagged at all (open to everyone)."""
    tagged = exists().where(table.c.course_id == Course.id, getattr(table.c, column) == term_id)
    untagged = ~exists().where(table.c.course_id == Course.id)
    return or_(tagged, untagged)


def clauses(filters, terms, now: datetime, match: TextMatch | None = None):
    """One condition per active filter, keyed by facet name, so facets can leave their own out."""
    found: dict[str, ColumnElement[bool]] = {}
    term = {name: terms.find(name, getattr(filters, name)) for name in TERM_FACETS}
    if term["step"]:
        found["step"] = Course.step_id == term["step"].id
    if term["sector"]:
        found["sector"] = _tag_clause(course_sectors, "sector_id", term["sector"].id)
    if term["profession"]:
        profession_id = term["profession"].id
        found["profession"] = _tag_clause(course_professions, "profession_id", profession_id)
    if term["mode"]:
        found["mode"] = Course.delivery_mode_id == term["mode"].id
    if term["region"]:
        found["region"] = Course.region_id == term["region"].id
        if not getattr(filters, "region_only", False):
            found["region"] = or_(found["region"], wide_clause(terms))
    if term["programme"]:
        found["programme"] = exists().where(
            ProgrammeModule.course_id == Course.id,
            ProgrammeModule.programme_id == term["programme"].id,
        )
    if filters.provider and terms.provider:
        found["provider"] = Course.provider_id == terms.provider.id
    if filters.free:
        found["free"] = Course.cost_type == "free"
    if filters.weeks:
        upcoming = next_starts(now)
        found["weeks"] = Course.id.in_(
            select(upcoming.c.course_id).where(
                upcoming.c.next_start <= now + timedelta(weeks=filters.weeks)
            )
        )
    if match is not None:
        found["q"] = id_in(list(match.ranked_ids))
    return found


def wide_clause(terms) -> ColumnElement[bool]:
    """UK-wide or online: open to people in every region."""
    wide = [t.id for t in terms.by_facet["region"] if t.slug in WIDE_REGIONS]
    online = [t.id for t in terms.by_facet["mode"] if t.slug in ONLINE_MODES]
    return or_(Course.region_id.in_(wide), Course.delivery_mode_id.in_(online))


def _where(found: Mapping[str, ColumnElement[bool]], leave_out: str | None = None):
    return and_(is_public(), *(c for name, c in found.items() if name != leave_out))


def _count_by(column, found, facet: str, join_table=None) -> dict[int, int]:
    statement = select(column, func.count(func.distinct(Course.id)))
    if join_table is not None:
        statement = statement.select_from(Course).join(
            join_table, join_table.c.course_id == Course.id
        )
    statement = statement.where(_where(found, facet)).group_by(column)
    return {key: count for key, count in db.session.execute(statement) if key is not None}


def _count(found, leave_out: str | None, *extra) -> int:
    statement = select(func.count(Course.id)).where(_where(found, leave_out), *extra)
    return db.session.scalar(statement) or 0


def wide_region_counts(found, terms) -> dict[int, int]:
    """Per region, how many courses choosing it (with UK-wide and online ones) would show."""
    counts = {}
    for term in terms.by_facet["region"]:
        count = _count(found, "region", or_(Course.region_id == term.id, wide_clause(terms)))
        if count:
            counts[term.id] = count
    return counts


def facet_counts(found, filters=None, terms=None) -> dict[str, dict[Any, int]]:
    counts: dict[str, dict[Any, int]] = {
        "step": _count_by(Course.step_id, found, "step"),
        "mode": _count_by(Course.delivery_mode_id, found, "mode"),
        "region": _count_by(Course.region_id, found, "region"),
        "programme": _count_by(
            ProgrammeModule.programme_id, found, "programme", join_table=ProgrammeModule.__table__
        ),
    }
    for facet, table, column in (
        ("sector", course_sectors, course_sectors.c.sector_id),
        ("profession", course_professions, course_professions.c.profession_id),
    ):
        tagged = _count_by(column, found, facet, join_table=table)
        open_to_all = _count(found, facet, not_(exists().where(table.c.course_id == Course.id)))
        counts[facet] = {"open": open_to_all, **tagged}
    if terms is not None and not getattr(filters, "region_only", False):
        counts["region"] = wide_region_counts(found, terms)
    return counts


def weeks_counts(found, now: datetime) -> dict[int, int]:
    upcoming = next_starts(now)
    columns = [
        func.count(Course.id).filter(upcoming.c.next_start <= now + timedelta(weeks=weeks))
        for weeks in WEEKS_CHOICES
    ]
    statement = (
        select(*columns)
        .select_from(Course)
        .join(upcoming, upcoming.c.course_id == Course.id)
        .where(_where(found, "weeks"))
    )
    row = db.session.execute(statement).one()
    return dict(zip(WEEKS_CHOICES, row, strict=True))


def ordered_ids(filters, found, now: datetime, match: TextMatch | None) -> list[int]:
    """Every matching id in the order of ``filters.sort``, as the SQL browse listed them."""
    if match is not None and filters.sort == "relevance":
        visible = set(db.session.scalars(select(Course.id).where(_where(found))))
        return [course_id for course_id in match.ranked_ids if course_id in visible]
    upcoming = next_starts(now)
    statement = (
        select(Course.id)
        .outerjoin(upcoming, upcoming.c.course_id == Course.id)
        .where(_where(found))
    )
    if filters.sort == "title":
        statement = statement.order_by(func.lower(Course.title), Course.id)
    elif filters.sort == "newest":
        statement = statement.order_by(Course.published_at.desc().nulls_last(), Course.id.desc())
    else:
        statement = statement.order_by(
            upcoming.c.next_start.asc().nulls_last(), func.lower(Course.title), Course.id
        )
    return list(db.session.scalars(statement))


def sql_browse(filters, terms, now: datetime, match: TextMatch | None) -> OracleResult:
    """What the SQL browse computed for ``filters``: every id in order, and the counts."""
    found = clauses(filters, terms, now, match)
    return OracleResult(
        ids=ordered_ids(filters, found, now, match),
        raw_counts=facet_counts(found, filters, terms),
        free_count=_count(found, "free", Course.cost_type == "free"),
        weeks_counts=weeks_counts(found, now),
    )
