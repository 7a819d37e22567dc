"""Browsing the catalogue: parse filters from a URL, find the matching courses, count facets.

``parse_filters`` never raises: odd input is dropped with a notice the page shows. Which courses
match, their order and every facet count come from this process's catalogue snapshot
(``catalogue/snapshot.py``, numpy arrays read from the database and kept until a searchable row
changes); the database is asked for the stamp and the page's courses, so ``browse`` runs a fixed
number of SQL queries whatever the page size or the catalogue's.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import ARRAY, ColumnElement, Integer, any_, bindparam, false, func, select

from academy.catalogue.course_page import Label
from academy.catalogue.models import Course
from academy.catalogue.snapshot import (
    FACET_MODELS,
    CatalogueSnapshot,
    catalogue_snapshot,
    shareable,
)
from academy.catalogue.visibility import is_public
from academy.db_types import utcnow
from academy.extensions import db
from academy.providers.models import Provider
from academy.search import TextMatch, get_store, highlight, match_text
from academy.search.cache import result_cache, stamp
from academy.text import clean_parameter

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

FACET_LABELS = {
    "step": "Escalator step",
    "sector": "Sector",
    "profession": "Profession",
    "mode": "Delivery",
    "region": "Region",
    "programme": "Programme",
}
# facet name (its URL parameter) -> (model, label)
TERM_FACETS: dict[str, tuple[type, str]] = {
    name: (model, FACET_LABELS[name]) for name, model in FACET_MODELS.items()
}


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
    #: with a region: only courses in it, not the UK-wide and online ones as well
    region_only: bool = False
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
        if merged.region_only and merged.region:
            args["region_only"] = "1"
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
    """Every taxonomy term and programme (the snapshot's: shared and detached, so read-only) and,
    if filtered, the provider (loaded for this request)."""

    by_facet: dict[str, list[Any]]
    provider: Provider | None = None

    def find(self, facet: str, slug: str) -> Any | None:
        return next((t for t in self.by_facet[facet] if t.slug == slug), None)


def load_terms(provider_slug: str | None = None) -> Terms:
    """The terms every facet offers (from the catalogue snapshot, read again only after a
    change) and the provider named by ``provider_slug`` (one query), if any."""
    return _terms(catalogue_snapshot(stamp(get_store(), db.session)), provider_slug)


def _terms(snapshot: CatalogueSnapshot, provider_slug: str | None) -> Terms:
    # a list of its own per request; the terms in it are the snapshot's (shared, detached)
    by_facet = {facet: list(terms) for facet, terms in snapshot.terms.items()}
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
        raw = clean_parameter(args.get(name, ""), 120)
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
    q = clean_parameter(args.get("q", ""), MAX_QUERY_LENGTH)
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
        region_only=args.get("region_only", "") in ("1", "on", "true", "yes"),
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
    kept: dict[str, Any] = {}
    for name, slug in slugs.items():
        if name == "provider":
            found = terms.provider is not None and terms.provider.slug == slug
        else:
            found = terms.find(name, slug) is not None
        if found:
            kept[name] = slug
        else:
            notices.append(f"The {name} “{slug[:40]}” is not one we know, so it was ignored.")
    if "region" not in kept:
        kept["region_only"] = False  # "only in the region" means nothing without one
    return replace(filters, **kept)


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
    #: per value, its <option> tag's escaped text before and after the selected/disabled flag
    #: (``_option_pieces``: made once per snapshot); empty: ``options`` is empty
    pieces: tuple[tuple[str, str], ...] = field(default=(), repr=False, compare=False)

    @property
    def options(self) -> Markup:
        """The <option> tags of ``values`` as ``_macros/facets.html`` lays them out: a value
        selected, or else disabled when it has no results, then its name and count. Every term's
        slug and name were escaped when its pieces were made; counts are integers."""
        parts = []
        for (before, after), value in zip(self.pieces, self.values, strict=True):
            flag = " selected" if value.selected else " disabled" if value.count == 0 else ""
            parts.append(f"{before}{flag}{after}{int(value.count)})</option>\n    ")
        return Markup("".join(parts))  # nosec B704  # escaped pieces and integers


@dataclass(frozen=True)
class Listing:
    """A course as a page of results shows it (the course cards and the API list), with the
    same attribute names as ``Course``. Its own columns are read from the database; its terms
    (step, delivery mode, region, sectors, professions) are the snapshot's, at the same stamp."""

    id: int
    slug: str
    title: str
    summary: str
    cost_type: str
    fee_pence: int | None
    step: Any
    delivery_mode: Any
    region: Any
    provider: Label
    sectors: list[Any]
    professions: list[Any]


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
    #: when nothing fits the words: the escalator step of the courses that come closest
    closest_step: Any | None = None

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.filters.per_page))

    @property
    def partial_ids(self) -> frozenset[int]:
        """Courses among the results that match only some of the words (they follow those
        matching every word: ``search.match_text``)."""
        if self.match is None:
            return frozenset()
        return frozenset(self.match.ranked_ids[self.match.full_count :])


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

    Which courses match and the counts come from the catalogue snapshot at the current stamp,
    and may come from this process's result cache (``search/cache.py``): they are kept only
    while no searchable row has changed and the index has applied nothing new. The page's
    courses are always read again from the database through the visibility rules, so a course
    hidden since can never show. A caller passing ``now`` (tests, to fix the clock) bypasses the
    result cache.

    :raise PageOutOfRange: when ``filters.page`` is beyond the last page.
    """
    current = stamp(get_store(), db.session)
    cache = result_cache() if now is None and shareable(db.session) else None
    if cache is None:
        return _browse(filters, terms, now or utcnow(), catalogue_snapshot(current))
    provider_id = terms.provider.id if terms.provider is not None else None
    key = (current, filters, provider_id)
    entry: _Cached | None = cache.get(key)
    if entry is not None:
        return _from_cache(entry, filters, terms, utcnow(), catalogue_snapshot(current))
    result = _browse(filters, terms, utcnow(), catalogue_snapshot(current))
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


def _read_page(
    ids: list[int], now: datetime, snapshot: CatalogueSnapshot
) -> tuple[list[Listing], dict[int, datetime]]:
    """The public courses among ``ids``, in that order, and their next starts, in one query;
    a course hidden since the ids were chosen is left out (as is one changed under terms newer
    than ``snapshot``, for the moment until the next request sees the change)."""
    if not ids:
        return [], {}
    statement = (
        select(
            Course.id, Course.slug, Course.title, Course.summary, Course.cost_type,
            Course.fee_pence, Course.step_id, Course.delivery_mode_id, Course.region_id,
            Provider.slug, Provider.name,
        )
        .join(Provider, Provider.id == Course.provider_id)
        .where(is_public(), id_in(ids, Course.id, "page_course_ids"))
    )  # fmt: skip
    steps, modes, regions = (snapshot.terms_by_id(name) for name in ("step", "mode", "region"))
    sectors = snapshot.tags_of("sector", ids)
    professions = snapshot.tags_of("profession", ids)
    found: dict[int, Listing] = {}
    # on the session's connection (its transaction): plain rows need none of the ORM's handling
    for row in db.session.connection().execute(statement):
        (course_id, slug, title, summary, cost_type, fee_pence, step_id, mode_id, region_id,
         provider_slug, provider_name) = row  # fmt: skip
        known = (
            step_id in steps
            and (mode_id is None or mode_id in modes)
            and (region_id is None or region_id in regions)
        )
        if not known:
            continue
        found[course_id] = Listing(
            id=course_id, slug=slug, title=title, summary=summary, cost_type=cost_type,
            fee_pence=fee_pence, step=steps[step_id], delivery_mode=modes.get(mode_id),
            region=regions.get(region_id), provider=Label(provider_slug, provider_name),
            sectors=sectors.get(course_id, []), professions=professions.get(course_id, []),
        )  # fmt: skip
    listings = [found[course_id] for course_id in ids if course_id in found]
    return listings, snapshot.next_starts_of([course.id for course in listings], now)


def _from_cache(
    entry: _Cached, filters: Filters, terms: Terms, now: datetime, snapshot: CatalogueSnapshot
) -> BrowseResult:
    """A result from a cache entry: the page's courses re-read, public ones only, in order."""

    def kept_highlights(courses: list[Listing]) -> dict[int, tuple[str, str]]:
        return {c.id: entry.highlights[c.id] for c in courses if c.id in entry.highlights}

    return _result(
        filters, terms, now, snapshot, list(entry.page_ids), entry, entry.match, kept_highlights
    )


def _result(
    filters: Filters,
    terms: Terms,
    now: datetime,
    snapshot: CatalogueSnapshot,
    page_ids: list[int],
    counted: Any,
    match: TextMatch | None,
    highlights_of: Callable[[list[Listing]], dict[int, tuple[str, str]]],
) -> BrowseResult:
    """The result for one page: ``page_ids`` read from the database (public ones only, in
    order), the totals and facet counts of ``counted`` (a selection or a cache entry: its
    ``total``, ``raw_counts``, ``free_count`` and ``weeks_counts``)."""
    courses, next_start = _read_page(page_ids, now, snapshot)
    return BrowseResult(
        filters=filters,
        courses=courses,
        next_start=next_start,
        total=counted.total,
        facets=_facets(counted.raw_counts, filters, terms, snapshot),
        free_count=counted.free_count,
        weeks_counts=counted.weeks_counts,
        match=match,
        highlights=highlights_of(courses),
        raw_counts=counted.raw_counts,
        closest_step=_closest_step(match, snapshot, now),
    )


def _closest_step(match: TextMatch | None, snapshot: CatalogueSnapshot, now: datetime) -> Any:
    """When nothing fits the words: the escalator step most of the courses that come closest
    are on (the lower step on a tie), or ``None``."""
    if match is None or not match.nothing_fits or not match.near_ids:
        return None
    near = snapshot.select(now=now, ranked_ids=match.near_ids, sort="relevance")
    steps = snapshot.terms_by_id("step")
    counts = {steps[key]: n for key, n in near.raw_counts["step"].items() if key in steps and n}
    if not counts:
        return None
    return max(counts, key=lambda step: (counts[step], -step.number))


def _facets(
    raw_counts: dict[str, dict[Any, int]],
    filters: Filters,
    terms: Terms,
    snapshot: CatalogueSnapshot,
) -> list[Facet]:
    facets = []
    for name, (_model, label) in TERM_FACETS.items():
        counts = raw_counts[name]
        selected = getattr(filters, name)
        offered = terms.by_facet[name]
        values = [
            FacetValue(term, counts.get(term.id, 0) + counts.get("open", 0), term.slug == selected)
            for term in offered
        ]
        facets.append(Facet(name, label, values, _option_pieces(snapshot, name, offered)))
    return facets


def _option_pieces(
    snapshot: CatalogueSnapshot, name: str, offered: list[Any]
) -> tuple[tuple[str, str], ...]:
    """For each term of ``offered`` (facet ``name``), its <option> tag's text before the
    selected/disabled flag (the slug escaped) and after it up to the count (the name escaped,
    a step's number first), as ``Facet.options`` joins them. Kept on ``snapshot`` while
    ``offered`` are the very terms (same objects, same order) they were made from; otherwise
    (a snapshot read again at the same stamp) made afresh, so they never show other terms."""

    def build() -> tuple[tuple[Any, ...], tuple[tuple[str, str], ...]]:
        pieces = []
        for term in offered:
            number = f"{escape(term.number)}. " if name == "step" else ""
            pieces.append(
                (f'\n      <option value="{escape(term.slug)}"', f">{number}{escape(term.name)} (")
            )
        return tuple(offered), tuple(pieces)

    made_from, pieces = snapshot.derived(("facet-options", name), build)
    same = len(made_from) == len(offered) and all(
        kept is term for kept, term in zip(made_from, offered, strict=True)
    )
    return pieces if same else build()[1]


def _browse(
    filters: Filters, terms: Terms, now: datetime, snapshot: CatalogueSnapshot
) -> BrowseResult:
    """``browse`` without the result cache: the text match from the index, everything else
    from ``snapshot``, and the page's courses from the database."""
    match = match_text(get_store(), filters.q) if filters.q else None
    chosen = {name: terms.find(name, getattr(filters, name)) for name in TERM_FACETS}
    selection = snapshot.select(
        now=now,
        term_ids={name: term.id for name, term in chosen.items() if term is not None},
        provider_id=terms.provider.id if filters.provider and terms.provider else None,
        free=filters.free,
        weeks=filters.weeks,
        ranked_ids=match.ranked_ids if match is not None else None,
        sort=filters.sort,
        weeks_choices=WEEKS_CHOICES,
        region_only=filters.region_only,
    )
    _check_page(filters, selection.total)
    offset = (filters.page - 1) * filters.per_page
    wanted = selection.ids[offset : offset + filters.per_page].tolist()

    def highlighted(courses: list[Listing]) -> dict[int, tuple[str, str]]:
        if match is None:
            return {}
        marked = match.terms  # worked out from the units on each use: once for the page
        return {
            c.id: (highlight(c.title, marked, whole=True), highlight(c.summary, marked))
            for c in courses
        }

    return _result(filters, terms, now, snapshot, wanted, selection, match, highlighted)


def _check_page(filters: Filters, total: int) -> None:
    pages = max(1, math.ceil(total / filters.per_page))
    if filters.page < 1 or filters.page > pages:
        raise PageOutOfRange(filters.page)


def browse_args(
    args: Mapping[str, str], default_per_page: int = 20, current: tuple | None = None
) -> tuple[BrowseResult, Terms]:
    """Browse with filters read from URL parameters (the page and the API share this).
    ``current`` is the stamp if the caller has just read it (``search.cache.stamp``).

    Odd values become notices on the result; never raises for any input except
    :raise PageOutOfRange: when the page asked for is past the last.
    """
    filters, notices, slugs = parse_filters(args, default_per_page)
    current = stamp(get_store(), db.session) if current is None else current
    cache = result_cache() if shareable(db.session) else None
    # The whole page is kept under the stamp and the filters as typed: the terms (detached from
    # the session, so no commit can expire them), the filters as resolved, and the result.
    key = ("page", current, filters, tuple(sorted(slugs.items())))
    hit = cache.get(key) if cache is not None else None
    if hit is not None:
        terms, resolved, resolution_notices, entry = hit
        result = _from_cache(entry, resolved, terms, utcnow(), catalogue_snapshot(current))
        result.notices = [*notices, *resolution_notices]
        return result, terms
    snapshot = catalogue_snapshot(current)
    terms = _terms(snapshot, slugs.get("provider"))
    resolution_notices: list[str] = []
    resolved = resolve_filters(filters, slugs, terms, resolution_notices)
    result = _browse(resolved, terms, utcnow(), snapshot)
    if cache is not None:
        if terms.provider is not None:  # the snapshot's terms are detached already
            db.session.expunge(terms.provider)
        cache.put(key, (terms, resolved, resolution_notices, _entry(result)))
    result.notices = [*notices, *resolution_notices]
    return result, terms
