"""The catalogue snapshot: what browsing filters, counts and sorts on, as numpy arrays in memory.

The database stays the source of truth. A snapshot is read from it in a fixed number of queries
(five for the facts, one per facet for the taxonomy terms), whatever the size of the catalogue,
and kept per process under the *stamp* of ``search/cache.py``: the newest ``search_outbox`` id
(every committed change to a course, cohort, session, provider, programme or taxonomy term writes
one in the same transaction) and the live index's applied position. So a change is seen by the
next request, and a transaction that committed late under an older outbox id is seen as soon as
the index applies it (the newest id alone would not move for it).

With a snapshot, a browse or search page asks the database only for the stamp and the page's
courses (re-read through ``visibility.is_public()``, so a course hidden since the snapshot was
taken never shows): filtering, totals, the non-relevance orders and every facet count are array
operations (``CatalogueSnapshot.select``).

The facts are about public courses only: id, step, delivery mode, region, provider, free, their
orders by ``lower(title), id`` and by ``published_at DESC NULLS LAST, id DESC`` *as the database
sorts them* (so the collation is exactly the one the SQL sort used), their sectors, professions
and programmes, and the first session start of each scheduled cohort (the next start after
``now`` is worked out per request, so it is never stale).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from academy.catalogue.models import (
    Course,
    Programme,
    ProgrammeModule,
    course_professions,
    course_sectors,
)
from academy.catalogue.visibility import cohort_starts, is_public
from academy.extensions import db
from academy.search.outbox import holds_entries
from academy.taxonomy.models import DeliveryMode, Profession, Region, Sector, Step

EXTENSION = "academy.catalogue.snapshot"

#: the facets browsing offers, in the order the page shows them, with the model of their terms
FACET_MODELS: dict[str, type] = {
    "step": Step,
    "sector": Sector,
    "profession": Profession,
    "mode": DeliveryMode,
    "region": Region,
    "programme": Programme,
}
#: facets that are one column of the course (``NONE`` where it is empty)
_COLUMN_FACETS = {"step": Course.step_id, "mode": Course.delivery_mode_id,
                  "region": Course.region_id}  # fmt: skip
#: facets that are a link table (course, term); a course with no sectors (professions) is open
#: to all of them, so it matches every value of those two
_LINK_FACETS = {
    "sector": (course_sectors.c.course_id, course_sectors.c.sector_id, True),
    "profession": (course_professions.c.course_id, course_professions.c.profession_id, True),
    "programme": (ProgrammeModule.course_id, ProgrammeModule.programme_id, False),
}

NONE = -1  # a course with no delivery mode or region
#: "place means place": a region includes the courses anyone can take wherever they are, those
#: for the whole UK and those online, unless only courses in the region itself are asked for
WIDE_REGIONS = ("uk-wide",)
ONLINE_MODES = ("online-live", "online-self-paced")
NO_START = np.iinfo(np.int64).max  # a course with no upcoming cohort: sorts last, never "within"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_WEEK = timedelta(weeks=1) // _MICROSECOND


def micros(at: datetime) -> int:
    """``at`` (timezone-aware) as whole microseconds since 1970 UTC: exact, like the database."""
    return (at - _EPOCH) // _MICROSECOND


@dataclass(frozen=True)
class Selection:
    """The courses matching some filters, in the order asked for, and the facet counts."""

    ids: np.ndarray
    #: facet -> {term id: courses}; sector and profession also have ``"open"``: untagged courses
    raw_counts: dict[str, dict[Any, int]]
    free_count: int
    weeks_counts: dict[int, int]

    @property
    def total(self) -> int:
        return int(self.ids.size)


class CatalogueSnapshot:
    """The browsing facts about every public course at one stamp. Immutable once built, so one
    snapshot is shared by every thread of the process."""

    def __init__(
        self,
        stamp: Any,
        terms: dict[str, tuple[Any, ...]],
        ids: np.ndarray,
        columns: dict[str, np.ndarray],
        links: dict[str, tuple[np.ndarray, np.ndarray]],
        free: np.ndarray,
        by_title: np.ndarray,
        by_newest: np.ndarray,
        starts: tuple[np.ndarray, np.ndarray],
    ) -> None:
        self.stamp = stamp
        #: facet -> every term it offers, in display order (detached when the snapshot is shared)
        self.terms = terms
        self._by_id: dict[str, dict[int, Any]] = {}
        self._derived: dict[Any, Any] = {}
        self._ids = ids
        self._columns = columns  # step, mode, region, provider: one value per course
        self._links = links  # facet -> (course positions, term ids)
        self._open = {
            facet: _untagged(len(ids), links[facet][0])
            for facet, (_course, _term, open_to_all) in _LINK_FACETS.items()
            if open_to_all
        }
        self._free = free
        #: courses open to people in every region: UK-wide or online
        self._wide = np.isin(
            columns["region"], [t.id for t in terms["region"] if t.slug in WIDE_REGIONS]
        ) | np.isin(columns["mode"], [t.id for t in terms["mode"] if t.slug in ONLINE_MODES])
        self._by_title = by_title  # positions in the database's lower(title), id order
        self._by_newest = by_newest  # positions by published_at desc nulls last, id desc
        self._start_course, self._start_at = starts  # sorted by course, then start
        shared = [ids, free, by_title, by_newest, self._wide, *starts, *columns.values(),
                  *self._open.values()]  # fmt: skip
        for array in shared + [part for pair in links.values() for part in pair]:
            array.flags.writeable = False  # every thread reads them: none may change them

    def __len__(self) -> int:
        return int(self._ids.size)

    @classmethod
    def read(cls, session: Session, stamp: Any) -> CatalogueSnapshot:
        """Read a snapshot from ``session`` in eleven queries (five for the facts, one per facet
        for the terms), whatever the catalogue's size. ``stamp`` must have been read *before*,
        so the facts are never older than the stamp they are kept under."""
        # Long because: one pass that reads eleven result sets into aligned numpy arrays; split, its
        # parts would pass the same dozen arrays back and forth (tests/test_browse_snapshot.py).
        terms = {
            facet: tuple(session.scalars(select(model).order_by(_term_order(model))))
            for facet, model in FACET_MODELS.items()
        }
        # plain rows on the session's connection: no ORM entity, so no ORM row handling
        connection = session.connection()
        # Both orders come from the database, so they are exactly what its ORDER BY gives
        # (collation included): rows arrive in title order, each with its rank by newest.
        newest = func.row_number().over(
            order_by=(Course.published_at.desc().nulls_last(), Course.id.desc())
        )
        title_ids, step, mode, region, provider, free, newest_rank = _columns(
            connection,
            select(
                Course.id, Course.step_id, Course.delivery_mode_id, Course.region_id,
                Course.provider_id, Course.cost_type == "free", newest,
            )
            .where(is_public())
            .order_by(func.lower(Course.title), Course.id),
        )  # fmt: skip
        title_ids = np.array(title_ids, dtype=np.int64)
        by_id = np.argsort(title_ids, kind="stable")
        ids = title_ids[by_id]
        by_title = np.empty_like(by_id)
        by_title[by_id] = np.arange(by_id.size)
        by_newest = np.empty_like(by_id)
        by_newest[np.array(newest_rank, dtype=np.int64) - 1] = by_title
        columns = {
            facet: _integers(values)[by_id]
            for facet, values in (("step", step), ("mode", mode), ("region", region),
                                  ("provider", provider))
        }  # fmt: skip
        free = np.array(free, dtype=bool)[by_id]

        links = {}
        for facet, (course_column, term_column, _open) in _LINK_FACETS.items():
            course_ids, term_ids = _columns(
                connection,
                select(course_column, term_column)
                .join(Course, Course.id == course_column)
                .where(is_public()),
            )
            positions, kept = _positions(ids, course_ids)
            links[facet] = (positions, np.array(term_ids, dtype=np.int64)[kept])

        first = cohort_starts().subquery()
        course_ids, starts_at = _columns(
            connection,
            select(first.c.course_id, first.c.starts_at)
            .join(Course, Course.id == first.c.course_id)
            .where(is_public()),
        )
        start_course, kept = _positions(ids, course_ids)
        start_at = _micros(starts_at)[kept]
        order = np.lexsort((start_at, start_course))
        return cls(
            stamp, terms, ids, columns, links, free, by_title, by_newest,
            (start_course[order], start_at[order]),
        )  # fmt: skip

    def next_starts(self, now: datetime) -> np.ndarray:
        """Per course (in id order), the first session start of its soonest cohort starting
        after ``now`` in microseconds, or ``NO_START``. A cohort whose first session has begun
        is not upcoming (``visibility.next_starts``)."""
        found = np.full(self._ids.size, NO_START, dtype=np.int64)
        upcoming = np.flatnonzero(self._start_at > micros(now))
        if upcoming.size:
            # starts are sorted by course then time, so a course's first upcoming one is its soonest
            courses = self._start_course[upcoming]
            first = upcoming[np.concatenate(([True], courses[1:] != courses[:-1]))]
            found[self._start_course[first]] = self._start_at[first]
        return found

    def derived(self, key: Any, build: Callable[[], Any]) -> Any:
        """``build()``, made once per snapshot and kept under ``key``: for values that depend on
        this snapshot alone (its terms), so they can never outlive it. Threads racing on a new
        key may each build it; the first stored is the one every caller then gets."""
        found = self._derived.get(key)
        if found is None:
            found = self._derived.setdefault(key, build())
        return found

    def terms_by_id(self, facet: str) -> dict[int, Any]:
        """``facet``'s terms by id (made once per snapshot)."""
        found = self._by_id.get(facet)
        if found is None:
            found = self._by_id[facet] = {term.id: term for term in self.terms[facet]}
        return found

    def tags_of(self, facet: str, ids: Sequence[int]) -> dict[int, list[Any]]:
        """For each of ``ids`` (public courses), its terms in the link ``facet`` (sector,
        profession or programme), in display order; a course with none is left out."""
        page, _present = _positions(self._ids, ids)
        positions, term_ids = self._links[facet]
        keep = np.isin(positions, page)
        rank = {term.id: index for index, term in enumerate(self.terms[facet])}
        by_id = self.terms_by_id(facet)
        found: dict[int, list[Any]] = {}
        for position, term_id in zip(positions[keep].tolist(), term_ids[keep].tolist(),
                                     strict=True):  # fmt: skip
            found.setdefault(int(self._ids[position]), []).append(term_id)
        return {
            course_id: [by_id[term_id] for term_id in sorted(tags, key=rank.__getitem__)]
            for course_id, tags in found.items()
        }

    def next_starts_of(self, ids: Sequence[int], now: datetime) -> dict[int, datetime]:
        """The next start after ``now`` of each of ``ids`` that has one (see ``next_starts``)."""
        positions, _present = _positions(self._ids, ids)
        starts = self.next_starts(now)[positions]
        return {
            int(course_id): _EPOCH + int(at) * _MICROSECOND
            for course_id, at in zip(self._ids[positions].tolist(), starts.tolist(), strict=True)
            if at != NO_START
        }

    def select(
        self,
        *,
        now: datetime,
        term_ids: Mapping[str, int] | None = None,
        provider_id: int | None = None,
        free: bool = False,
        weeks: int | None = None,
        ranked_ids: Sequence[int] | np.ndarray | None = None,
        sort: str = "start",
        weeks_choices: Sequence[int] = (),
        region_only: bool = False,
    ) -> Selection:
        """The public courses matching every filter given, in ``sort`` order, and the counts.

        ``term_ids`` maps a facet of ``FACET_MODELS`` to the term chosen; ``ranked_ids`` (a text
        match, best first) keeps only those courses, and ``sort="relevance"`` keeps their order
        (any duplicate included). Other sorts: ``title`` (the database's ``lower(title), id``),
        ``newest`` (published_at descending, undated last, then id descending) and anything else
        soonest start (after ``now``; none last), then title. Each facet's counts leave out its
        own filter; ``weeks_counts`` counts courses starting within each number of weeks.

        A region matches the courses in it and, unless ``region_only``, every UK-wide and
        online course too; each region's count is the number of courses choosing it would show.
        """
        # Long because: filter, count, order and every facet share the masks built here; split, each
        # part would take and return the masks (the hot path of every browse and search).
        next_start = self.next_starts(now)
        now_at = micros(now)
        masks: dict[str, np.ndarray] = {
            facet: self._has(facet, term_id) for facet, term_id in (term_ids or {}).items()
        }
        if "region" in masks and not region_only:
            masks["region"] = masks["region"] | self._wide
        if provider_id is not None:
            masks["provider"] = self._columns["provider"] == provider_id
        if free:
            masks["free"] = self._free
        if weeks:
            masks["weeks"] = next_start <= now_at + weeks * _WEEK
        ranked = None
        if ranked_ids is not None:
            ranked, _kept = _positions(self._ids, ranked_ids)
            masks["q"] = np.zeros(self._ids.size, dtype=bool)
            masks["q"][ranked] = True
        matching = _all(self._ids.size, masks.values())

        def leaving_out(name: str) -> np.ndarray:
            if name not in masks:
                return matching
            return _all(self._ids.size, (mask for key, mask in masks.items() if key != name))

        raw_counts = {facet: self._counts(facet, leaving_out(facet)) for facet in FACET_MODELS}
        if not region_only:
            raw_counts["region"] = self._wide_region_counts(leaving_out("region"))
        within = next_start[leaving_out("weeks")]
        weeks_counts = {
            number: int(np.count_nonzero(within <= now_at + number * _WEEK))
            for number in weeks_choices
        }
        if sort == "relevance" and ranked is not None:
            order = ranked[matching[ranked]]
        elif sort == "newest":
            order = self._by_newest[matching[self._by_newest]]
        else:
            order = self._by_title[matching[self._by_title]]
            if sort != "title":
                order = order[np.argsort(next_start[order], kind="stable")]
        return Selection(
            ids=self._ids[order],
            raw_counts=raw_counts,
            free_count=int(np.count_nonzero(self._free & leaving_out("free"))),
            weeks_counts=weeks_counts,
        )

    def _has(self, facet: str, term_id: int) -> np.ndarray:
        """Courses with ``term_id`` in ``facet`` (or open to all of that facet's terms)."""
        if facet in _COLUMN_FACETS:
            return self._columns[facet] == term_id
        positions, term_ids = self._links[facet]
        found = np.zeros(self._ids.size, dtype=bool)
        found[positions[term_ids == term_id]] = True
        if facet in self._open:
            found |= self._open[facet]
        return found

    def _counts(self, facet: str, among: np.ndarray) -> dict[Any, int]:
        if facet in _COLUMN_FACETS:
            values = self._columns[facet][among]
            counts = _tally(values[values != NONE])
        else:
            positions, term_ids = self._links[facet]
            counts = _tally(term_ids[among[positions]])
        if facet in self._open:
            counts["open"] = int(np.count_nonzero(self._open[facet] & among))
        return counts

    def _wide_region_counts(self, among: np.ndarray) -> dict[Any, int]:
        """Per region, the courses among ``among`` that choosing it shows: those in it, and the
        UK-wide and online ones (each once). Regions with none are left out."""
        in_region = self._counts("region", among)
        wide = among & self._wide
        wide_total = int(np.count_nonzero(wide))
        wide_in = self._counts("region", wide)
        counts = {}
        for term in self.terms["region"]:
            count = in_region.get(term.id, 0) + wide_total - wide_in.get(term.id, 0)
            if count:
                counts[term.id] = count
        return counts


def _columns(connection, statement) -> list[list]:
    """The result of ``statement`` column by column."""
    rows = connection.execute(statement).all()
    # by index: iterating a Row (as zip(*rows) would) costs some twenty times more
    return [[row[index] for row in rows] for index in range(len(statement.selected_columns))]


def _integers(values: Sequence[int | None]) -> np.ndarray:
    return np.array([NONE if value is None else value for value in values], dtype=np.int64)


def _micros(values: Sequence[datetime]) -> np.ndarray:
    return np.array([(at - _EPOCH) // _MICROSECOND for at in values], dtype=np.int64)


def _term_order(model: type):
    return model.name if model is Programme else model.position


def _positions(
    ids: np.ndarray, wanted: Sequence[int] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Positions in ``ids`` (sorted) of the ``wanted`` ids present there, in ``wanted``'s order,
    and which of ``wanted`` were present (ids not public are dropped)."""
    wanted = np.asarray(wanted, dtype=np.int64).reshape(-1)
    if not ids.size:
        return np.zeros(0, dtype=np.int64), np.zeros(wanted.size, dtype=bool)
    positions = np.minimum(np.searchsorted(ids, wanted), ids.size - 1)
    present = ids[positions] == wanted
    return positions[present], present


def _untagged(size: int, tagged_positions: np.ndarray) -> np.ndarray:
    untagged = np.ones(size, dtype=bool)
    untagged[tagged_positions] = False
    return untagged


def _all(size: int, masks) -> np.ndarray:
    result = np.ones(size, dtype=bool)
    for mask in masks:
        result &= mask
    return result


def _tally(values: np.ndarray) -> dict[Any, int]:
    keys, counts = np.unique(values, return_counts=True)
    return dict(zip(keys.tolist(), counts.tolist(), strict=True))


class SnapshotHolder:
    """This process's latest snapshot, replaced when the stamp moves.

    Thread-safe: readers take the current snapshot without a lock (it is immutable, and it is
    published only once completely built); one thread at a time builds, and threads that wanted
    the same stamp meanwhile use its result instead of building again.
    """

    def __init__(self) -> None:
        self._current: CatalogueSnapshot | None = None
        self._lock = threading.Lock()
        #: how many snapshots this process has built (tests count rebuilds with it)
        self.builds = 0

    def get(self, stamp: Any, build: Callable[[], CatalogueSnapshot]) -> CatalogueSnapshot:
        """The snapshot at ``stamp``, built by ``build`` unless it is already here. One read
        with an older stamp than the current snapshot's (it started before the last change)
        gets the current one rather than replacing it."""
        current = self._current
        if current is not None and _usable(current.stamp, stamp):
            return current
        with self._lock:
            current = self._current
            if current is not None and _usable(current.stamp, stamp):
                return current
            snapshot = build()
            self._current = snapshot
            self.builds += 1
            return snapshot

    def clear(self) -> None:
        with self._lock:
            self._current = None


def _usable(have: Any, wanted: Any) -> bool:
    # the first part of a stamp is the newest outbox id: a snapshot of a later one is newer
    return have == wanted or have[0] > wanted[0]


def holder() -> SnapshotHolder:
    """The current app's snapshot holder (one per app and process)."""
    found = current_app.extensions.get(EXTENSION)
    if found is None:
        found = current_app.extensions.setdefault(EXTENSION, SnapshotHolder())
    return found


def shareable(session: Session) -> bool:
    """Whether what ``session`` reads may be shared with other requests: not while it holds
    searchable changes of its own that are not committed (they may yet be rolled back, and on
    SQLite the outbox id they took is then given again to another change)."""
    return not holds_entries(session)


def catalogue_snapshot(stamp: Any) -> CatalogueSnapshot:
    """The snapshot at ``stamp`` (from ``search.cache.stamp``, read by the caller first).

    Shared snapshots are read on a connection of their own, in one ``REPEATABLE READ``
    transaction on PostgreSQL so the five queries see one state, and their terms are detached
    from any session with every column loaded (templates read them; no commit can expire them).
    A session with uncommitted searchable changes gets a snapshot of its own that sees them.
    """
    if not shareable(db.session):
        return CatalogueSnapshot.read(db.session, stamp)
    return holder().get(stamp, lambda: _read_detached(stamp))


def _read_detached(stamp: Any) -> CatalogueSnapshot:
    engine = db.engine
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    with Session(engine) as session:  # closing detaches the terms without expiring them
        return CatalogueSnapshot.read(session, stamp)
