"""Keep an index in step with the database: apply the outbox, rebuild, prune, report status.

Every function takes an ``IndexStore`` and a SQLAlchemy ``Engine`` and uses its own session, so it
can run after a request's commit, in a CLI command or in a worker thread.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine, delete, func, or_, select
from sqlalchemy.orm import Session, selectinload
from whoosh import index as whoosh_index

from academy.catalogue.models import (
    Cohort,
    Course,
    ProgrammeModule,
    course_principles,
    course_professions,
    course_sectors,
)
from academy.catalogue.visibility import is_public
from academy.db_types import utcnow
from academy.search.bulk import BulkSegmentWriter
from academy.search.documents import Terms, load_documents
from academy.search.models import SearchIndexPosition, SearchOutbox
from academy.search.schema import SCHEMA_VERSION, writer_fields
from academy.search.store import IndexState, IndexStore

log = logging.getLogger(__name__)

BATCH = 2000
LOAD_CHUNK = 500
PARALLEL_MIN = 2000  # fewer courses than this are rebuilt in one process
GAP_SECONDS = 600.0  # how long an unseen outbox id is waited for (its transaction may be open)
PRUNE_AFTER = timedelta(hours=24)  # keep applied entries at least this long
POSITION_STALE_AFTER = timedelta(days=7)  # an index silent this long no longer holds back pruning
PRUNED = "(pruned)"  # the positions row recording the highest outbox id ever pruned


@dataclass
class SyncReport:
    applied: int = 0  # outbox entries applied
    indexed: int = 0  # documents added or replaced
    removed: int = 0  # documents deleted
    busy: bool = False  # another writer held the index
    rebuilt: bool = False
    last_id: int = 0
    details: list[str] = field(default_factory=list)


def _course_options():
    return (
        selectinload(Course.provider),
        selectinload(Course.step),
        selectinload(Course.sectors),
        selectinload(Course.professions),
        selectinload(Course.principles),
        selectinload(Course.delivery_mode),
        selectinload(Course.region),
        selectinload(Course.cohorts),
        selectinload(Course.programme_modules).selectinload(ProgrammeModule.programme),
    )


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def affected_course_ids(session: Session, entries: Iterable[tuple[str, int]]) -> set[int]:
    """Expand outbox entries to the ids of the courses whose documents they change."""
    by_entity: dict[str, set[int]] = defaultdict(set)
    for entity, entity_id in entries:
        by_entity[entity].add(entity_id)
    courses = set(by_entity.pop("course", set()))
    lookups = {
        "provider": lambda ids: select(Course.id).where(Course.provider_id.in_(ids)),
        "step": lambda ids: select(Course.id).where(Course.step_id.in_(ids)),
        "delivery_mode": lambda ids: select(Course.id).where(Course.delivery_mode_id.in_(ids)),
        "region": lambda ids: select(Course.id).where(Course.region_id.in_(ids)),
        "sector": lambda ids: select(course_sectors.c.course_id).where(
            course_sectors.c.sector_id.in_(ids)
        ),
        "profession": lambda ids: select(course_professions.c.course_id).where(
            course_professions.c.profession_id.in_(ids)
        ),
        "principle": lambda ids: select(course_principles.c.course_id).where(
            course_principles.c.principle_id.in_(ids)
        ),
        "programme": lambda ids: select(ProgrammeModule.course_id).where(
            ProgrammeModule.programme_id.in_(ids)
        ),
        "cohort": lambda ids: select(Cohort.course_id).where(Cohort.id.in_(ids)),
    }
    for entity, ids in by_entity.items():
        lookup = lookups.get(entity)
        if lookup is None:
            log.warning("search outbox: unknown entity %r ignored", entity)
            continue
        for chunk in _chunks(sorted(ids), LOAD_CHUNK):
            courses.update(session.scalars(lookup(chunk)))
    return courses


def _public_courses(session: Session, ids: list[int]) -> dict[int, Course]:
    """The public courses among ``ids`` with everything ``course_document`` reads loaded (the
    ORM path; indexing reads plain rows through ``_public_documents``)."""
    found: dict[int, Course] = {}
    for chunk in _chunks(ids, LOAD_CHUNK):
        statement = (
            select(Course).where(Course.id.in_(chunk), is_public()).options(*_course_options())
        )
        found.update((course.id, course) for course in session.scalars(statement))
    return found


def _public_documents(connection: Connection, ids: list[int]) -> dict[int, dict[str, str]]:
    """The search documents of the public courses among ``ids``, by id, from plain rows."""
    terms = Terms(connection)
    found: dict[int, dict[str, str]] = {}
    for chunk in _chunks(ids, LOAD_CHUNK):
        found.update(load_documents(connection, chunk, terms))
    return found


def _record_position(session: Session, index_id: str, last_id: int) -> None:
    position = session.get(SearchIndexPosition, index_id)
    if position is None:
        session.add(SearchIndexPosition(index_id=index_id, last_id=last_id))
    else:
        position.last_id = last_id
        position.updated_at = utcnow()


def sync(store: IndexStore, engine: Engine, batch: int = BATCH) -> SyncReport:
    """Apply every visible outbox entry this index has not applied yet.

    Builds the index first if there is none, and rebuilds it if entries it never applied were
    pruned. Returns at once (``busy``) if another writer holds the index: it will apply them.
    """
    report = SyncReport()
    generation = store.current_generation()
    if generation is None:
        return rebuild(store, engine)
    while True:
        with Session(engine) as session, store.writer(generation) as writer:
            if writer is None:
                report.busy = True
                return report
            state = store.read_state(generation)
            report.last_id = state.last_id
            pruned = session.get(SearchIndexPosition, PRUNED)
            behind = pruned is not None and pruned.last_id > state.last_id
            if behind or state.schema != SCHEMA_VERSION:
                writer.cancel()
                break  # missed pruned entries, or an older schema: rebuild (below, unlocked)
            gap_ids = [int(g) for g in state.gaps]
            condition = SearchOutbox.id > state.last_id
            if gap_ids:
                condition = or_(condition, SearchOutbox.id.in_(gap_ids))
            rows = session.execute(
                select(SearchOutbox.id, SearchOutbox.entity, SearchOutbox.entity_id)
                .where(condition)
                .order_by(SearchOutbox.id)
                .limit(batch)
            ).all()
            new_state = _advance(state, [row.id for row in rows])
            new_state.schema = state.schema
            if not rows:
                writer.cancel()
                if new_state.gaps != state.gaps:
                    store.write_state(generation, new_state)
                return report
            ids = sorted(affected_course_ids(session, [(r.entity, r.entity_id) for r in rows]))
            documents = _public_documents(session.connection(), ids)
            for course_id in ids:
                if course_id in documents:
                    writer.update_document(**writer_fields(documents[course_id]))
                    report.indexed += 1
                else:
                    writer.delete_by_term("id", str(course_id))
                    report.removed += 1
            writer.commit()
            store.write_state(generation, new_state)
            _record_position(session, store.index_id, new_state.last_id)
            session.commit()
            report.applied += len(rows)
            report.last_id = new_state.last_id
            if len(rows) < batch:
                return report
    log.warning("search index %s is behind pruning or of an old schema; rebuilding", store.root)
    return rebuild(store, engine)


def _advance(state: IndexState, seen_ids: list[int], now: float | None = None) -> IndexState:
    """The state after applying ``seen_ids`` (sorted): ids skipped below the newest become gaps."""
    now = time.time() if now is None else now
    seen = set(seen_ids)
    gaps = {
        gap: noticed
        for gap, noticed in state.gaps.items()
        if int(gap) not in seen and now - noticed < GAP_SECONDS
    }
    newest = max(seen_ids, default=state.last_id)
    for missing in range(state.last_id + 1, newest):
        if missing not in seen:
            gaps.setdefault(str(missing), now)
    return IndexState(last_id=max(newest, state.last_id), gaps=gaps)


def rebuild(store: IndexStore, engine: Engine, procs: int = 1) -> SyncReport:
    """Build a fresh index from the database beside the live one, then swap it in.

    Searches keep using the old generation until the swap. Entries written during the build are
    applied by the ``sync`` that follows. With ``procs`` above 1 the courses are split by id
    among that many processes, each reading its share and writing one segment.
    """
    report = SyncReport(rebuilt=True)
    with store.rebuild_lock():
        with Session(engine) as session:
            newest, gaps = _outbox_mark(session)
            ids = list(session.scalars(select(Course.id).where(is_public()).order_by(Course.id)))
        generation = store.new_generation()
        report.indexed = _build(generation, engine, ids, procs)
        store.write_state(generation, IndexState(last_id=newest, gaps=gaps, schema=SCHEMA_VERSION))
        store.make_live(generation)
        with Session(engine) as session:
            _record_position(session, store.index_id, newest)
            session.commit()
    report.last_id = newest
    follow_up = sync(store, engine)
    report.applied = follow_up.applied
    report.indexed += follow_up.indexed
    report.removed += follow_up.removed
    report.last_id = max(report.last_id, follow_up.last_id)
    return report


def _outbox_mark(session: Session) -> tuple[int, dict[str, float]]:
    """The newest outbox id a rebuild starting now covers (read before any course), and the
    ids below it not yet visible (their transactions may still commit): its gaps."""
    newest = session.scalar(select(func.max(SearchOutbox.id))) or 0
    pruned = session.get(SearchIndexPosition, PRUNED)
    newest = max(newest, pruned.last_id if pruned else 0)
    recent = set(session.scalars(select(SearchOutbox.id).where(SearchOutbox.id > newest - 1000)))
    now = time.time()
    gaps = {str(i): now for i in range(max(1, newest - 999), newest + 1) if i not in recent}
    return newest, gaps


def _build(generation: Path, engine: Engine, ids: list[int], procs: int) -> int:
    """Index the public courses among ``ids`` (ascending) into the empty ``generation``, in
    ``procs`` processes; return how many documents it holds. Segments are committed as
    written, without merging them into one; each is written by a ``BulkSegmentWriter``."""
    ix = whoosh_index.open_dir(str(generation))
    if procs <= 1 or len(ids) < PARALLEL_MIN:
        writer = BulkSegmentWriter(ix)
        try:
            count = _add_documents(writer, engine, ids)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return count
    writer = ix.writer()  # holds the generation's lock throughout; writes nothing itself
    try:
        shares = [ids[n * len(ids) // procs : (n + 1) * len(ids) // procs] for n in range(procs)]
        segments = _segments_in_processes(generation, engine, shares)
        writer._close_segment()  # its own segment stays empty: the TOC lists the workers'
    except BaseException:
        writer.cancel()
        raise
    writer._commit_toc(segments)
    writer._finish()
    return sum(segment.doc_count() for segment in segments)


def _add_documents(writer, engine: Engine, ids: list[int]) -> int:
    """Add the documents of the public courses among ``ids`` to ``writer`` in id order;
    return how many."""
    count = 0
    with engine.connect() as connection:
        terms = Terms(connection)
        for chunk in _chunks(ids, LOAD_CHUNK):
            documents = load_documents(connection, chunk, terms)
            for course_id in chunk:
                if course_id in documents:
                    writer.add_document(**writer_fields(documents[course_id]))
                    count += 1
    return count


def _segments_in_processes(generation: Path, engine: Engine, shares: list[list[int]]) -> list:
    """One new segment per share of ids, each written by a forked process; in share order.

    :raise RuntimeError: a process failed (its error is in the message).
    """
    context = multiprocessing.get_context("fork")
    workers = []
    for share in shares:
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_segment_worker, args=(generation, engine, share, sender))
        process.start()
        sender.close()
        workers.append((process, receiver))
    results = []
    for process, receiver in workers:
        try:
            results.append(receiver.recv())
        except EOFError:
            results.append(("error", f"indexing process {process.pid} ended without a segment"))
        process.join()
    failures = [detail for outcome, detail in results if outcome != "ok"]
    if failures:
        raise RuntimeError("; ".join(failures))
    return [segment for _outcome, segment in results]


def _segment_worker(generation: Path, engine: Engine, ids: list[int], sender) -> None:
    """In a forked process: write the documents of ``ids`` as one segment of ``generation``
    (without the index lock, which the parent holds) and send ``("ok", segment)`` or
    ``("error", why)``."""
    engine.dispose(close=False)  # the parent's pooled connections are not this process's
    try:
        ix = whoosh_index.open_dir(str(generation))
        writer = BulkSegmentWriter(ix, _lk=False)
        try:
            _add_documents(writer, engine, ids)
            # closes the segment's files; not _finish(): the temporary folder is shared with the
            # other processes and the parent removes it
            segment = writer._finalize_segment()
        except BaseException:
            writer.cancel()
            raise
        sender.send(("ok", segment))
    except Exception as error:  # reported to the parent, which raises
        sender.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        sender.close()


def prune(engine: Engine) -> int:
    """Delete outbox entries every live index has applied and that are old enough; return how
    many. An index silent for ``POSITION_STALE_AFTER`` stops holding entries back (it rebuilds
    itself when it returns)."""
    now = utcnow()
    with Session(engine) as session:
        floor = session.scalar(
            select(func.min(SearchIndexPosition.last_id)).where(
                SearchIndexPosition.updated_at > now - POSITION_STALE_AFTER,
                SearchIndexPosition.index_id != PRUNED,
            )
        )
        if floor is None:
            return 0
        doomed = SearchOutbox.id <= floor, SearchOutbox.created_at < now - PRUNE_AFTER
        highest = session.scalar(select(func.max(SearchOutbox.id)).where(*doomed))
        if highest is None:
            return 0
        result = session.execute(delete(SearchOutbox).where(*doomed))
        # Remember how far entries are gone, so an index behind that point knows to rebuild.
        pruned = session.get(SearchIndexPosition, PRUNED)
        if pruned is None:
            session.add(SearchIndexPosition(index_id=PRUNED, last_id=highest))
        else:
            pruned.last_id = max(pruned.last_id, highest)
        session.commit()
        return result.rowcount or 0


@dataclass
class Status:
    database_courses: int
    indexed_documents: int | None
    last_applied: int | None
    newest_entry: int
    pending: int | None
    positions: list[tuple[str, int, str]]


def status(store: IndexStore, engine: Engine) -> Status:
    """Counts in the database and the index, the lag, and every index's recorded position."""
    with Session(engine) as session:
        public = session.scalar(select(func.count(Course.id)).where(is_public())) or 0
        newest = session.scalar(select(func.max(SearchOutbox.id))) or 0
        generation = store.current_generation()
        documents = last_applied = pending = None
        if generation is not None:
            state = store.read_state(generation)
            last_applied = state.last_id
            gap_ids = [int(g) for g in state.gaps]
            condition = SearchOutbox.id > state.last_id
            if gap_ids:
                condition = or_(condition, SearchOutbox.id.in_(gap_ids))
            pending = session.scalar(select(func.count(SearchOutbox.id)).where(condition)) or 0
            searcher = store.searcher()
            documents = searcher.doc_count() if searcher else None
        positions = [
            (p.index_id, p.last_id, p.updated_at.isoformat())
            for p in session.scalars(
                select(SearchIndexPosition)
                .where(SearchIndexPosition.index_id != PRUNED)
                .order_by(SearchIndexPosition.index_id)
            )
        ]
    return Status(public, documents, last_applied, newest, pending, positions)
