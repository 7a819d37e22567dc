"""Browsing the catalogue: parse filters from a URL, find the matching courses, count facets.

``parse_filters`` never raises: odd input is dropped with a notice the page shows. ``browse``
runs a fixed number of SQL queries whatever the page size (the page's courses are loaded with
``selectinload``; each facet is one grouped query).
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from markupsafe import Markup
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
from sqlalchemy.orm import joinedload, selectinload

from academy.catalogue.models import (
    Cohort,
    Course,
    Programme,
    ProgrammeModule,
    course_professions,
    course_sectors,
)
from academy.catalogue.visibility import cohort_starts, is_public, next_starts
from academy.db_types import utcnow
from academy.extensions import db
from academy.providers.models import Provider
from academy.search import TextMatch, get_store, highlight, match_text
from academy.search.cache import result_cache, stamp
from academy.taxonomy.models import DeliveryMode, Profession, Region, Sector, Step

PER_PAGE_CHOICES = (10, 20, 50)
WEEKS_CHOICES = (4, 8, 12, 26, 52)
SORTS = {
    "relevance": "Best match",
    "start": "Soonest start",
    "title": "Title (A to Z)",
    "newest": "Newest",
}
MAX_PAGE = 10_000
MAX_QUERY_LENGTH = 200
MAX_QUERY_WORDS = 8
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,119}$")

# facet name -> (URL parameter, model, label)
TERM_FACETS: dict[str, tuple[type, str]] = {
    "step": (Step, "Escalator step"),
    "sector": (Sector, "Sector"),
    "profession": (Profession, "Profession"),
    "mode": (DeliveryMode, "Delivery"),
    "region": (Region, "Region"),
    "programme": (Programme, "Programme"),
}


def clean_text(value: str, limit: int) -> str:
    """Return ``value`` without control or zero-width characters, spaces collapsed, cut to
    ``limit`` characters. Safe to put in any query (PostgreSQL refuses NUL bytes)."""
    kept = "".join(
        ch for ch in unicodedata.normalize("NFC", value) if unicodedata.category(ch)[0] != "C"
    )
    return " ".join(kept.split())[:limit]


@dataclass(frozen=True)
class Filters:
    """What the learner asked for. Term filters hold slugs already checked to exist."""

    q: str = ""
    step: str | None = None
    sector: str | None = None
    profession: str | None = None
    mode: str | None = None
    region: str | None = None
    programme: str | None = None
    provider: str | None = None
    free: bool = False
    weeks: int | None = None
    sort: str = "start"
    page: int = 1
    per_page: int = 20

    def to_args(self, **changes: Any) -> dict[str, Any]:
        """URL parameters for these filters (defaults left out), with ``changes`` applied."""
        merged = replace(self, **changes)
        args: dict[str, Any] = {}
        for name in ("q", *TERM_FACETS, "provider"):
            if value := getattr(merged, name):
                args[name] = value
        if merged.free:
            args["free"] = "1"
        if merged.weeks:
            args["weeks"] = merged.weeks
        if merged.sort != ("relevance" if merged.q else "start"):
            args["sort"] = merged.sort
        if merged.per_page != Filters.per_page:
            args["per_page"] = merged.per_page
        if merged.page != 1:
            args["page"] = merged.page
        return args

    def page_args(self, page: int) -> dict[str, Any]:
        """URL parameters for page ``page`` of these same filters."""
        return self.to_args(page=page)

    @property
    def active(self) -> bool:
        return any(
            (self.q, self.step, self.sector, self.profession, self.mode, self.region,
             self.programme, self.provider, self.free, self.weeks)
        )  # fmt: skip


@dataclass
class Terms:
    """Every taxonomy term, programme and (if filtered) the provider, loaded once per request."""

    by_facet: dict[str, list[Any]]
    provider: Provider | None = None

    def find(self, facet: str, slug: str) -> Any | None:
        return next((t for t in self.by_facet[facet] if t.slug == slug), None)


def load_terms(provider_slug: str | None = None) -> Terms:
    """Load the terms every facet offers (one query per facet)."""
    by_facet: dict[str, list[Any]] = {}
    for facet, (model, _label) in TERM_FACETS.items():
        order = model.name if model is Programme else model.position
        by_facet[facet] = list(db.session.scalars(select(model).order_by(order)))
    provider = None
    if provider_slug:
        provider = db.session.scalar(select(Provider).where(Provider.slug == provider_slug))
    return Terms(by_facet=by_facet, provider=provider)


def _int(value: str | None, minimum: int, maximum: int) -> int | None:
    if value is None:
        return None
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 9:
        return None
    number = int(value)
    return number if minimum <= number <= maximum else None


def parse_filters(
    args: Mapping[str, str], default_per_page: int = 20
) -> tuple[Filters, list[str], dict[str, str]]:
    """Read filters from URL parameters (the first of a repeated parameter wins).

    Returns the filters, notices about values that were ignored, and the raw slugs needing a
    database check (``resolve_filters`` does that). Never raises.
    """
    notices: list[str] = []
    slugs: dict[str, str] = {}
    for name in (*TERM_FACETS, "provider"):
        raw = clean_text(args.get(name, ""), 120)
        if not raw:
            continue
        if _SLUG.match(raw):
            slugs[name] = raw
        else:
            notices.append(f"The {name} “{raw[:40]}” is not one we know, so it was ignored.")
    weeks_raw = args.get("weeks", "").strip()
    weeks = _int(weeks_raw, 1, 520) if weeks_raw else None
    if weeks_raw and weeks is None:
        notices.append("“Starting within” must be a number of weeks from 1 to 520; ignored.")
    q = clean_text(args.get("q", ""), MAX_QUERY_LENGTH)
    sort = args.get("sort", "")
    if sort not in SORTS or (sort == "relevance" and not q):
        sort = "relevance" if q else "start"
    per_page = _int(args.get("per_page"), 1, 100)
    if per_page not in PER_PAGE_CHOICES:
        per_page = default_per_page
    page_raw = args.get("page")
    page = _int(page_raw, 1, MAX_PAGE) if page_raw is not None else 1
    filters = Filters(
        q=q,
        free=args.get("free", "") in ("1", "on", "true", "yes"),
        weeks=weeks,
        sort=sort,
        page=page if page is not None else -1,
        per_page=per_page,
    )
    return filters, notices, slugs


def resolve_filters(
    filters: Filters, slugs: dict[str, str], terms: Terms, notices: list[str]
) -> Filters:
    """Keep only slugs that name a real term (or the loaded provider); note the rest."""
    kept: dict[str, str] = {}
    for name, slug in slugs.items():
        if name == "provider":
            found = terms.provider is not None and terms.provider.slug == slug
        else:
            found = terms.find(name, slug) is not None
        if found:
            kept[name] = slug
        else:
            notices.append(f"The {name} “{slug[:40]}” is not one we know, so it was ignored.")
    return replace(filters, **kept)


def _tag_clause(table, column: str, term_id: int) -> ColumnElement[bool]:
    """Tagged with ``term_id``, or not tagged at all (open to everyone)."""
    tagged = exists().where(table.c.course_id == Course.id, getattr(table.c, column) == term_id)
    untagged = ~exists().where(table.c.course_id == Course.id)
    return or_(tagged, untagged)


def _clauses(
    filters: Filters, terms: Terms, now: datetime, match: TextMatch | None = None
) -> dict[str, ColumnElement[bool]]:
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
        found["q"] = id_in(match.ranked_ids)
    return found


def id_in(ids: list[int], column=None, name: str = "matched_ids") -> ColumnElement[bool]:
    """``column`` (``Course.id`` by default) is one of ``ids``, as one bound value named
    ``name`` whatever its length (two in one statement need two names).

    PostgreSQL takes an array; SQLite a JSON list read with ``json_each``. Either way the statement
    stays the same size (and cacheable) for ten ids or a hundred thousand.
    """
    column = Course.id if column is None else column
    if not ids:
        return false()
    if db.engine.dialect.name == "postgresql":
        return column == any_(bindparam(name, ids, type_=ARRAY(Integer)))
    each = func.json_each(bindparam(name, json.dumps(ids))).table_valued("value")
    return column.in_(select(each.c.value))


def _where(clauses: Mapping[str, ColumnElement[bool]], leave_out: str | None = None):
    return and_(is_public(), *(c for name, c in clauses.items() if name != leave_out))


@dataclass
class FacetValue:
    term: Any
    count: int
    selected: bool


@dataclass
class Facet:
    name: str
    label: str
    values: list[FacetValue]


@dataclass
class BrowseResult:
    """One page of results with everything the page shows."""

    filters: Filters
    courses: list[Course]
    next_start: dict[int, datetime]
    total: int
    facets: list[Facet]
    free_count: int
    weeks_counts: dict[int, int]
    notices: list[str] = field(default_factory=list)
    match: TextMatch | None = None
    highlights: dict[int, tuple[Markup, Markup]] = field(default_factory=dict)
    #: facet counts as computed (term id -> count, "open" for untagged), kept for the cache
    raw_counts: dict[str, dict[Any, int]] = field(default_factory=dict, repr=False)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.filters.per_page))


def _count_by(column, clauses, facet: str, join_table=None) -> dict[int, int]:
    statement = select(column, func.count(func.distinct(Course.id)))
    if join_table is not None:
        statement = statement.select_from(Course).join(
            join_table, join_table.c.course_id == Course.id
        )
    statement = statement.where(_where(clauses, facet)).group_by(column)
    return {key: count for key, count in db.session.execute(statement) if key is not None}


def _count(clauses, leave_out: str | None, *extra) -> int:
    statement = select(func.count(Course.id)).where(_where(clauses, leave_out), *extra)
    return db.session.scalar(statement) or 0


def _facet_counts(clauses, now: datetime) -> dict[str, dict[int, int]]:
    counts = {
        "step": _count_by(Course.step_id, clauses, "step"),
        "mode": _count_by(Course.delivery_mode_id, clauses, "mode"),
        "region": _count_by(Course.region_id, clauses, "region"),
        "programme": _count_by(
            ProgrammeModule.programme_id,
            clauses,
            "programme",
            join_table=ProgrammeModule.__table__,
        ),
    }
    for facet, table, column in (
        ("sector", course_sectors, course_sectors.c.sector_id),
        ("profession", course_professions, course_professions.c.profession_id),
    ):
        tagged = _count_by(column, clauses, facet, join_table=table)
        open_to_all = _count(clauses, facet, not_(exists().where(table.c.course_id == Course.id)))
        counts[facet] = {"open": open_to_all, **tagged}
    return counts


def _weeks_counts(clauses, now: datetime) -> dict[int, int]:
    upcoming = next_starts(now)
    columns = [
        func.count(Course.id).filter(upcoming.c.next_start <= now + timedelta(weeks=weeks))
        for weeks in WEEKS_CHOICES
    ]
    statement = (
        select(*columns)
        .select_from(Course)
        .join(upcoming, upcoming.c.course_id == Course.id)
        .where(_where(clauses, "weeks"))
    )
    row = db.session.execute(statement).one()
    return dict(zip(WEEKS_CHOICES, row, strict=True))


class PageOutOfRange(LookupError):
    """The requested page is past the last page of results (or not a page number at all)."""


@dataclass(frozen=True)
class _Cached:
    """What a result cache entry keeps: ids and counts, never a course (see search/cache.py)."""

    page_ids: tuple[int, ...]
    total: int
    raw_counts: dict[str, dict[Any, int]]
    free_count: int
    weeks_counts: dict[int, int]
    match: TextMatch | None
    highlights: dict[int, tuple[Markup, Markup]]


def browse(filters: Filters, terms: Terms, now: datetime | None = None) -> BrowseResult:
    """Return the page of public courses matching ``filters``, with facet counts.

    Which courses match and the counts may come from this process's result cache
    (``search/cache.py``): they are kept only while no searchable row has changed and the index
    has applied nothing new. The page's courses are always read again from the database through
    the visibility rules, so a course hidden since can never show. A caller passing ``now``
    (tests, to fix the clock) bypasses the cache.

    :raise PageOutOfRange: when ``filters.page`` is beyond the last page.
    """
    cache = result_cache() if now is None else None
    if cache is None:
        return _browse(filters, terms, now or utcnow())
    provider_id = terms.provider.id if terms.provider is not None else None
    key = (stamp(get_store(), db.session), filters, provider_id)
    entry: _Cached | None = cache.get(key)
    if entry is not None:
        return _from_cache(entry, filters, terms, utcnow())
    result = _browse(filters, terms, utcnow())
    cache.put(key, _entry(result))
    return result


def _entry(result: BrowseResult) -> _Cached:
    return _Cached(
        page_ids=tuple(course.id for course in result.courses),
        total=result.total,
        raw_counts=result.raw_counts,
        free_count=result.free_count,
        weeks_counts=result.weeks_counts,
        match=result.match,
        highlights=dict(result.highlights),
    )


def _page_query(now: datetime, ids: list[int] | None = None):
    """Courses with their next start; with ``ids``, the starts are worked out for those only
    (the planner would otherwise aggregate every cohort of the catalogue first)."""
    if ids is None:
        upcoming = next_starts(now)
    else:
        starts = cohort_starts().where(id_in(ids, Cohort.course_id, "page_ids")).subquery()
        upcoming = (
            select(starts.c.course_id, func.min(starts.c.starts_at).label("next_start"))
            .where(starts.c.starts_at > now)
            .group_by(starts.c.course_id)
            .subquery("next_starts")
        )
    statement = (
        select(Course, upcoming.c.next_start)
        .outerjoin(upcoming, upcoming.c.course_id == Course.id)
        .options(
            joinedload(Course.provider, innerjoin=True),
            joinedload(Course.step, innerjoin=True),
            joinedload(Course.delivery_mode),
            joinedload(Course.region),
            selectinload(Course.sectors),
        )
    )
    return statement, upcoming


def _from_cache(entry: _Cached, filters: Filters, terms: Terms, now: datetime) -> BrowseResult:
    """A result from a cache entry: the page's courses re-read, public ones only, in order."""
    wanted = list(entry.page_ids)
    page_query, _upcoming = _page_query(now, wanted)
    statement = page_query.where(is_public(), id_in(wanted, Course.id, "page_course_ids"))
    found = {course.id: (course, start) for course, start in db.session.execute(statement)}
    rows = [found[course_id] for course_id in wanted if course_id in found]
    return BrowseResult(
        filters=filters,
        courses=[course for course, _start in rows],
        next_start={course.id: start for course, start in rows if start is not None},
        total=entry.total,
        facets=_facets(entry.raw_counts, filters, terms),
        free_count=entry.free_count,
        weeks_counts=entry.weeks_counts,
        match=entry.match,
        highlights={course.id: entry.highlights[course.id] for course, _s in rows
                    if course.id in entry.highlights},
        raw_counts=entry.raw_counts,
    )  # fmt: skip


def _facets(raw_counts: dict[str, dict[Any, int]], filters: Filters, terms: Terms) -> list[Facet]:
    facets = []
    for name, (_model, label) in TERM_FACETS.items():
        counts = raw_counts[name]
        selected = getattr(filters, name)
        values = [
            FacetValue(term, counts.get(term.id, 0) + counts.get("open", 0), term.slug == selected)
            for term in terms.by_facet[name]
        ]
        facets.append(Facet(name, label, values))
    return facets


def _browse(filters: Filters, terms: Terms, now: datetime) -> BrowseResult:
    """``browse`` without the cache: everything from the index and the database."""
    match = match_text(get_store(), filters.q) if filters.q else None
    clauses = _clauses(filters, terms, now, match)
    page_query, upcoming = _page_query(now)
    offset = (filters.page - 1) * filters.per_page
    if match is not None and filters.sort == "relevance":
        visible = set(db.session.scalars(select(Course.id).where(_where(clauses))))
        ranked = [course_id for course_id in match.ranked_ids if course_id in visible]
        total = len(ranked)
        _check_page(filters, total)
        wanted = ranked[offset : offset + filters.per_page]
        page_query, _upcoming = _page_query(now, wanted)
        statement = page_query.where(_where(clauses), id_in(wanted, Course.id, "page_course_ids"))
        found = {course.id: (course, start) for course, start in db.session.execute(statement)}
        rows = [found[course_id] for course_id in wanted if course_id in found]
    else:
        total = _count(clauses, None)
        _check_page(filters, total)
        statement = page_query.where(_where(clauses))
        if filters.sort == "title":
            statement = statement.order_by(func.lower(Course.title), Course.id)
        elif filters.sort == "newest":
            statement = statement.order_by(
                Course.published_at.desc().nulls_last(), Course.id.desc()
            )
        else:
            statement = statement.order_by(
                upcoming.c.next_start.asc().nulls_last(), func.lower(Course.title), Course.id
            )
        rows = db.session.execute(statement.limit(filters.per_page).offset(offset)).all()

    raw_counts = _facet_counts(clauses, now)
    return BrowseResult(
        filters=filters,
        courses=[course for course, _start in rows],
        next_start={course.id: start for course, start in rows if start is not None},
        total=total,
        facets=_facets(raw_counts, filters, terms),
        free_count=_count(clauses, "free", Course.cost_type == "free"),
        weeks_counts=_weeks_counts(clauses, now),
        match=match,
        highlights={
            course.id: (
                highlight(course.title, match.terms, whole=True),
                highlight(course.summary, match.terms),
            )
            for course, _start in rows
        }
        if match is not None
        else {},
        raw_counts=raw_counts,
    )


def _check_page(filters: Filters, total: int) -> None:
    pages = max(1, math.ceil(total / filters.per_page))
    if filters.page < 1 or filters.page > pages:
        raise PageOutOfRange(filters.page)


def browse_args(args: Mapping[str, str], default_per_page: int = 20) -> tuple[BrowseResult, Terms]:
    """Browse with filters read from URL parameters (the page and the API share this).

    Odd values become notices on the result; never raises for any input except
    :raise PageOutOfRange: when the page asked for is past the last.
    """
    filters, notices, slugs = parse_filters(args, default_per_page)
    cache = result_cache()
    if cache is None:
        terms = load_terms(slugs.get("provider"))
        filters = resolve_filters(filters, slugs, terms, notices)
        result = browse(filters, terms)
        result.notices = notices
        return result, terms
    # The whole page is kept under the stamp and the filters as typed: the terms (detached from
    # the session, so no commit can expire them), the filters as resolved, and the result.
    key = ("page", stamp(get_store(), db.session), filters, tuple(sorted(slugs.items())))
    hit = cache.get(key)
    if hit is not None:
        terms, resolved, resolution_notices, entry = hit
        result = _from_cache(entry, resolved, terms, utcnow())
        result.notices = [*notices, *resolution_notices]
        return result, terms
    terms = load_terms(slugs.get("provider"))
    resolution_notices: list[str] = []
    resolved = resolve_filters(filters, slugs, terms, resolution_notices)
    result = _browse(resolved, terms, utcnow())
    for term in (*(t for each in terms.by_facet.values() for t in each), terms.provider):
        if term is not None:
            db.session.expunge(term)
    cache.put(key, (terms, resolved, resolution_notices, _entry(result)))
    result.notices = [*notices, *resolution_notices]
    return result, terms
