"""Capture changes to searchable rows as outbox entries, in the same transaction as the change.

A listener on every SQLAlchemy session looks at what each flush wrote and inserts one
``search_outbox`` row per changed entity. A rollback discards them with the change itself. After a
commit that wrote any, ``on_commit`` callbacks run (the app uses one to wake the index syncer).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain

from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from academy.catalogue.models import Cohort, CohortSession, Course, Programme, ProgrammeModule
from academy.providers.models import Provider
from academy.search.models import SearchOutbox
from academy.taxonomy.models import DeliveryMode, Principle, Profession, Region, Sector, Step

ENTITY_NAMES: dict[type, str] = {
    Course: "course",
    Provider: "provider",
    Programme: "programme",
    Step: "step",
    Sector: "sector",
    Profession: "profession",
    Principle: "principle",
    DeliveryMode: "delivery_mode",
    Region: "region",
}

_commit_callbacks: list[Callable[[], None]] = []
_FLAG = "search_outbox_written"


def _entity_of(obj) -> tuple[str, int | None] | None:
    if isinstance(obj, Cohort):
        return ("course", obj.course_id)
    if isinstance(obj, CohortSession):
        return ("cohort", obj.cohort_id)
    if isinstance(obj, ProgrammeModule):
        return ("course", obj.course_id)
    name = ENTITY_NAMES.get(type(obj))
    return (name, obj.id) if name else None


def changed_entities(session: Session) -> set[tuple[str, int]]:
    """The searchable entities this flush inserts, changes or deletes."""
    found: set[tuple[str, int]] = set()
    dirty = session.dirty  # built anew at each access: read it once, not once per object
    for obj in chain(session.new, dirty, session.deleted):
        if obj in dirty and not session.is_modified(obj):
            continue
        entity = _entity_of(obj)
        if entity and entity[1] is not None:
            found.add(entity)
    return found


def queue(session: Session, entities: set[tuple[str, int]]) -> None:
    """Write outbox entries for ``entities`` in the session's transaction.

    The flush listener does this for ORM changes; code that writes with bulk statements (which
    bypass it) calls this itself. The entries are applied after the transaction commits.
    """
    if not entities:
        return
    session.connection().execute(
        insert(SearchOutbox.__table__),
        [{"entity": name, "entity_id": entity_id} for name, entity_id in sorted(entities)],
    )
    session.info[_FLAG] = True


def holds_entries(session: Session) -> bool:
    """Whether ``session``'s transaction has written outbox entries not yet committed (what it
    reads then includes changes that may still be rolled back)."""
    return bool(session.info.get(_FLAG, False))


def _after_flush(session: Session, flush_context) -> None:
    queue(session, changed_entities(session))


def _after_commit(session: Session) -> None:
    if session.info.pop(_FLAG, False):
        for callback in list(_commit_callbacks):
            callback()


def _after_rollback(session: Session) -> None:
    session.info.pop(_FLAG, None)


def install() -> None:
    """Listen on every session (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", lambda s, t: _after_rollback(s))


def on_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` after each commit that wrote outbox entries (idempotent per callback)."""
    if callback not in _commit_callbacks:
        _commit_callbacks.append(callback)
