"""The public course page from plain rows, its unchanging part kept per catalogue stamp.

What ``pages.get_public_course`` builds from an ORM graph in about ten queries, this module
builds from plain rows (no ORM entity, so no identity map, no eager-loading machinery) and keeps
in two parts:

- **the course's listing** (its own columns, provider, taxonomy terms, charter principles, the
  public courses before and after it, its programme memberships): read on a miss in two plain
  queries and kept per process under ``(stamp, slug)``, where the stamp is the search cache's
  (``search/cache.py``): the newest ``search_outbox`` id and the live index's applied position.
  Every committed change to a course, provider, programme, programme module, cohort, session or
  taxonomy term writes an outbox row in its own transaction (``search/outbox.py``; bulk writers
  call ``outbox.queue`` themselves), so a change moves the stamp and the next request reads the
  listing again. The stamp is global: a change anywhere (a renamed sector, a new prerequisite
  of another course, which changes this one's "Next steps") makes every entry unusable.
- **dates and places**, read again on every request in one query: cohorts with their sessions.
  Places change without an outbox row (enrolment and a capacity change take seats with a
  conditional ``UPDATE``), so they are never cached; which cohorts are upcoming depends on the
  clock, so it is worked out per request.

A hit therefore costs two queries (the stamp, the cohorts), plus the viewer's own enrolment
state (``enrolment.views.course_panels``: none for a visitor). ``COURSE_PAGE_CACHE_SIZE``
(default 2048 listings per process; 0 turns the cache off) bounds the memory. A session holding
uncommitted searchable changes neither reads nor fills the cache (``snapshot.shareable``).

The objects have the attribute names of ``Course``, ``Cohort`` and ``ProgrammeModule`` that the
course template and the enrolment panels read, so ``catalogue/detail.html`` renders either; a
test renders every course of a varied catalogue both ways and compares the HTML
(``tests/test_course_page.py``), which holds this reader to the ORM one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from flask import abort, current_app
from sqlalchemy import Integer, String, bindparam, func, literal, select, union_all

from academy.catalogue.models import (
    Cohort,
    CohortFacts,
    CohortSession,
    Course,
    Programme,
    ProgrammeModule,
    course_prerequisites,
    course_principles,
    course_professions,
    course_sectors,
)
from academy.catalogue.snapshot import shareable
from academy.catalogue.visibility import is_public
from academy.db_types import utcnow
from academy.extensions import db
from academy.providers.models import Provider
from academy.search import get_store
from academy.search.cache import ResultCache, stamp
from academy.taxonomy.models import DeliveryMode, Principle, Profession, Region, Sector, Step

EXTENSION = "academy.catalogue.course_pages"


@dataclass(frozen=True)
class Label:
    """A provider, programme or taxonomy term as the page names it (``number``: a step's)."""

    slug: str
    name: str
    number: int | None = None


@dataclass(frozen=True)
class LinkedCourse:
    """A public course before or after this one on the escalator."""

    id: int
    slug: str
    title: str
    step: Label
    provider: Label
    is_published: bool = True


@dataclass(frozen=True)
class PublicCourse:
    """A public course's listing, with ``Course``'s attribute names. Immutable: shared by every
    thread of the process."""

    id: int
    slug: str
    title: str
    summary: str
    description: str
    who_its_for: str
    entry_requirements: str
    where_next: str
    reference: str
    external_url: str | None
    duration_hours: float | None
    cpd_hours: float | None
    credits: int | None
    credit_level: str | None
    cost_type: str
    fee_pence: int | None
    lived_experience_codelivery: bool
    status: str
    step: Label
    provider: Label
    delivery_mode: Label | None
    region: Label | None
    sectors: tuple[Label, ...]
    professions: tuple[Label, ...]
    principles: tuple[Label, ...]
    #: public courses only (``enrolment.services.missing_prerequisites`` reads them)
    prerequisites: tuple[LinkedCourse, ...]
    next_steps: tuple[LinkedCourse, ...]

    @property
    def is_published(self) -> bool:
        return self.status == "published"

    @property
    def fee_pounds(self) -> float | None:
        return None if self.fee_pence is None else self.fee_pence / 100


@dataclass(frozen=True)
class Membership:
    """The course is module ``position`` of ``programme`` (``ProgrammeModule``'s names)."""

    position: int
    programme: Label


@dataclass(frozen=True)
class Listing:
    """What is kept per stamp: the course and its programme memberships with module counts,
    and the course row's ``updated_at`` when it was read."""

    course: PublicCourse
    memberships: tuple[tuple[Membership, int], ...]
    updated_at: datetime | None = None


@dataclass(frozen=True)
class SessionTimes:
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class PublicCohort(CohortFacts):
    """A cohort as read for this request, with ``Cohort``'s attribute names."""

    id: int
    course: PublicCourse
    capacity: int
    seats_taken: int
    enrolment_closes_at: datetime | None
    is_online: bool
    location: str | None
    status: str
    sessions: tuple[SessionTimes, ...]


@dataclass
class CoursePage:
    """Everything the course page shows (the names of ``pages.CoursePage``)."""

    course: PublicCourse
    upcoming: list[PublicCohort]
    past_count: int
    prerequisites: list[LinkedCourse]
    next_steps: list[LinkedCourse]
    memberships: list[tuple[Membership, int]]
    #: everything a visitor's page depends on (see ``public_course_page``); hashable
    state: tuple = ()


_MISSING = object()  # a cached "no public course has this slug"


def public_course_page(slug: str, now: datetime | None = None) -> CoursePage:
    """The public course page of ``slug``: the listing as of the current stamp (from this
    process's cache when nothing searchable has changed since it was read), dates and places as
    they are now.

    Every request also checks, in the query that reads the cohorts, that the course is still
    public and that its row is the one the listing was read from (``updated_at``), so a course
    hidden or edited by a transaction the stamp has not yet seen (one that committed late under
    an older outbox id, until the index applies it) is never shown as it was.

    ``state`` on the result holds everything a visitor's page is a function of: the stamp, the
    slug, the listing's row version, the cohorts' rows, and how many of the cohorts' instants
    (session starts, enrolment deadlines) have passed, since every clock-dependent part of the
    page (upcoming or past, open or closed) changes only when ``now`` reaches one of them.

    :raise 404: if no public course has this slug.
    """
    if "\x00" in slug or len(slug) > 160:  # no such slug can exist; never send NUL to the database
        abort(404)
    current = stamp(get_store(), db.session)
    cache = page_cache() if shareable(db.session) else None
    listing = cache.get((current, slug)) if cache is not None else None
    if listing is None:
        listing = read_listing(slug) or _MISSING
        if cache is not None:
            cache.put((current, slug), listing)
    if listing is _MISSING:
        abort(404)
    live = read_live(listing.course.id)
    if live is not None and live[0] != listing.updated_at:
        listing = read_listing(slug)  # changed since: read it again (this request only)
        live = read_live(listing.course.id) if listing is not None else None
    if live is None:
        abort(404)
    rows = live[1]
    now = now or utcnow()
    page = _page(listing, _cohorts(listing.course, rows), now)
    passed = sum(1 for row in rows for at in (row[3], row[7]) if at is not None and at <= now)
    page.state = (current, slug, listing.updated_at, rows, passed)
    return page


def _page(listing: Listing, cohorts: list[PublicCohort], now: datetime) -> CoursePage:
    course = listing.course
    upcoming = sorted(
        (c for c in cohorts if c.starts_at and c.starts_at > now and not c.is_cancelled),
        key=lambda c: c.starts_at,
    )
    return CoursePage(
        course=course,
        upcoming=upcoming,
        past_count=sum(1 for c in cohorts if c.starts_at and c.starts_at <= now),
        prerequisites=list(course.prerequisites),
        next_steps=list(course.next_steps),
        memberships=list(listing.memberships),
    )


def page_cache() -> ResultCache | None:
    """This process's listing cache for the current app (``None`` when the size is 0). Entries
    never expire by age: only the stamp decides what is current."""
    size = int(current_app.config.get("COURSE_PAGE_CACHE_SIZE", 2048))
    if size <= 0:
        return None
    cache = current_app.extensions.get(EXTENSION)
    if cache is None:
        cache = current_app.extensions.setdefault(
            EXTENSION, ResultCache(size, seconds=float("inf"))
        )
    return cache


# ------------------------------------------------------------------------------------ reading


def read_listing(slug: str) -> Listing | None:
    """The listing of the public course ``slug`` from the database in two plain queries, or
    ``None`` if no public course has that slug."""
    execute = db.session.execute
    row = execute(_listing_statement(), {"slug": slug}).first()
    if row is None:
        return None
    course_id = row[0]
    tags: dict[str, list[Label]] = {"sector": [], "profession": [], "principle": []}
    linked: dict[str, list[LinkedCourse]] = {"before": [], "after": []}
    memberships: list[tuple[str, int, Membership, int]] = []
    for kind, _rank, item_id, item_slug, name, number, *more in execute(
        _related(), {"course_id": course_id}
    ):
        if kind in tags:
            tags[kind].append(Label(item_slug, name))
        elif kind in linked:
            step_slug, step_name, step_number, provider_slug, provider_name, _total = more
            linked[kind].append(
                LinkedCourse(item_id, item_slug, name, Label(step_slug, step_name, step_number),
                             Label(provider_slug, provider_name))
            )  # fmt: skip
        else:  # a programme: number is the module's position, total the programme's modules
            memberships.append(
                (name, item_id, Membership(number, Label(item_slug, name)), more[-1])
            )
    course = PublicCourse(
        *row[:18],
        step=Label(row[18], row[19], row[20]),
        provider=Label(row[21], row[22]),
        delivery_mode=Label(row[23], row[24]) if row[23] is not None else None,
        region=Label(row[25], row[26]) if row[25] is not None else None,
        sectors=tuple(tags["sector"]),
        professions=tuple(tags["profession"]),
        principles=tuple(tags["principle"]),
        prerequisites=tuple(linked["before"]),
        next_steps=tuple(linked["after"]),
    )
    # by programme name in Python, as pages.py orders them (the same order whatever the collation)
    memberships.sort(key=lambda found: found[:2])
    return Listing(
        course=course,
        memberships=tuple((membership, total) for *_key, membership, total in memberships),
        updated_at=row[27],
    )


@cache
def _listing_statement():
    """The course's own row with its provider and terms (built once: only its parameter,
    ``slug``, changes)."""
    return (
        select(
            Course.id, Course.slug, Course.title, Course.summary, Course.description,
            Course.who_its_for, Course.entry_requirements, Course.where_next, Course.reference,
            Course.external_url, Course.duration_hours, Course.cpd_hours, Course.credits,
            Course.credit_level, Course.cost_type, Course.fee_pence,
            Course.lived_experience_codelivery, Course.status,
            Step.slug, Step.name, Step.number, Provider.slug, Provider.name,
            DeliveryMode.slug, DeliveryMode.name, Region.slug, Region.name, Course.updated_at,
        )
        .join(Step, Step.id == Course.step_id)
        .join(Provider, Provider.id == Course.provider_id)
        .outerjoin(DeliveryMode, DeliveryMode.id == Course.delivery_mode_id)
        .outerjoin(Region, Region.id == Course.region_id)
        .where(Course.slug == bindparam("slug"), is_public())
    )  # fmt: skip


@cache
def _related():
    """Everything the listing names besides the course's own row, in one statement (built
    once: only its parameter, ``course_id``, changes; building it cost more than running it):
    ``(kind, rank, id, slug, name, number, step slug, step name, step number, provider slug,
    provider name, modules)`` where kind is

    - ``sector``, ``profession``, ``principle``: its terms, ranked in display order;
    - ``before``, ``after``: the public courses it requires and those requiring it, ranked by
      title as ``Course.prerequisites`` orders them (name is the title);
    - ``programme``: its programmes (ranked by name; ``read_listing`` sorts them again in
      Python), number the module's position, modules the programme's count of modules.
    """

    parts = [*_term_parts(), *_prerequisite_parts(), _programme_part()]
    related = union_all(*parts).subquery()
    columns = list(related.c)
    return select(*columns).order_by(columns[0], columns[1])


def _none_text():  # a new expression each time: a select keeps only one of a repeated one
    return literal(None, String)


def _none_int():
    return literal(None, Integer)


def _term_parts() -> list:
    """The course's sectors, professions and principles, ranked in display order."""
    parts = []
    for kind, model, link, column in (
        ("sector", Sector, course_sectors, "sector_id"),
        ("profession", Profession, course_professions, "profession_id"),
        ("principle", Principle, course_principles, "principle_id"),
    ):
        rank = func.row_number().over(order_by=(model.position, model.id))
        parts.append(
            select(
                literal(kind), rank, model.id, model.slug, model.name, _none_int(), _none_text(),
                _none_text(), _none_int(), _none_text(), _none_text(), _none_int(),
            )
            .join(link, getattr(link.c, column) == model.id)
            .where(link.c.course_id == bindparam("course_id"))
        )  # fmt: skip
    return parts


def _prerequisite_parts() -> list:
    """The public courses it requires (``before``) and those requiring it (``after``)."""
    parts = []
    link = course_prerequisites.c
    for kind, this, other in (("before", link.course_id, link.required_course_id),
                              ("after", link.required_course_id, link.course_id)):  # fmt: skip
        rank = func.row_number().over(order_by=(Course.title, Course.id))
        parts.append(
            select(
                literal(kind), rank, Course.id, Course.slug, Course.title, _none_int(), Step.slug,
                Step.name, Step.number, Provider.slug, Provider.name, _none_int(),
            )
            .join(course_prerequisites, other == Course.id)
            .join(Step, Step.id == Course.step_id)
            .join(Provider, Provider.id == Course.provider_id)
            .where(this == bindparam("course_id"), is_public())
        )  # fmt: skip
    return parts


def _programme_part():
    """Its programmes, with the module's position and the programme's count of modules."""
    modules = (
        select(ProgrammeModule.programme_id, func.count().label("modules"))
        .group_by(ProgrammeModule.programme_id)
        .subquery()
    )
    rank = func.row_number().over(order_by=(Programme.name, Programme.id))
    return (
        select(
            literal("programme"), rank, Programme.id, Programme.slug, Programme.name,
            ProgrammeModule.position, _none_text(), _none_text(), _none_int(), _none_text(),
            _none_text(), modules.c.modules,
        )
        .join(Programme, Programme.id == ProgrammeModule.programme_id)
        .join(modules, modules.c.programme_id == Programme.id)
        .where(ProgrammeModule.course_id == bindparam("course_id"))
    )  # fmt: skip


def read_live(course_id: int) -> tuple[datetime | None, tuple[tuple, ...]] | None:
    """What is read on every request, in one query: the course row's ``updated_at`` and its
    cohorts as they are now (places included), one row per session in order, as
    ``(cohort id, capacity, seats taken, enrolment closes, online, location, status, session
    start, session end)``; ``None`` if the course is no longer public."""
    rows = db.session.execute(_live_statement(), {"course_id": course_id}).all()
    if not rows:
        return None
    return rows[0][0], tuple(tuple(row[1:]) for row in rows if row[1] is not None)


def _cohorts(course: PublicCourse, rows: tuple[tuple, ...]) -> list[PublicCohort]:
    """The course's cohorts from ``read_live``'s rows, each with its sessions in order, in the
    order ``Course.cohorts`` has them (by id)."""
    cohorts: dict[int, tuple] = {}
    sessions: dict[int, list[SessionTimes]] = {}
    for cohort_id, *fields, starts, ends in rows:
        if cohort_id not in cohorts:
            cohorts[cohort_id] = tuple(fields)
            sessions[cohort_id] = []
        if starts is not None:
            sessions[cohort_id].append(SessionTimes(starts, ends))
    return [
        PublicCohort(cohort_id, course, *fields, sessions=tuple(sessions[cohort_id]))
        for cohort_id, fields in cohorts.items()
    ]


@cache
def _live_statement():
    """``read_live``'s statement, built once (its parameter: ``course_id``)."""
    return (
        select(
            Course.updated_at, Cohort.id, Cohort.capacity, Cohort.seats_taken,
            Cohort.enrolment_closes_at, Cohort.is_online, Cohort.location, Cohort.status,
            CohortSession.starts_at, CohortSession.ends_at,
        )
        .outerjoin(Cohort, Cohort.course_id == Course.id)
        .outerjoin(CohortSession, CohortSession.cohort_id == Cohort.id)
        .where(Course.id == bindparam("course_id"), is_public())
        .order_by(Cohort.id, CohortSession.starts_at, CohortSession.id)
    )  # fmt: skip
