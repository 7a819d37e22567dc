"""What a curator's decision does to a course's rows. Catalogue owns the rows, so curation
(which checks who decides, records the audit entry and tells the provider) calls these.

One course at a time: :func:`approve_one`, :func:`reject_one`, :func:`unpublish_one` change a
loaded ``Course`` and flush nothing.

Many waiting courses at once, set-based: :func:`approve`, what ``curation.services.bulk_decide``
does to approve. The outcome is the one of approving each course alone (the live columns, the
pending edit made live, the remembered version, one audit entry and one search-outbox entry per
course) in a fixed number of statements per 500 courses: rows are read as plain values, never
as ORM objects, and written with UPDATEs that take a course only if it is still in the state it
was read in, so two curators deciding the same course never both approve it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, func, insert, select, update

from academy.catalogue import states
from academy.catalogue.models import (
    TAG_TABLES,
    Course,
    course_prerequisites,
)
from academy.catalogue.versions import (
    EDITABLE,
    LIST_FIELDS,
    TERM_FIELDS,
    TERM_MODELS,
    changes_since_approval,
    decode,
    diff,
    encoded,
    named,
    pending,
)
from academy.extensions import db
from academy.providers.models import Provider
from academy.search import outbox as search_outbox

CHUNK = 500
COURSES = Course.__table__
_SCALARS = tuple(name for name in EDITABLE if name not in TERM_FIELDS and name not in LIST_FIELDS)
_TERM_COLUMNS = {name: f"{name}_id" for name in TERM_FIELDS}
_LIST_TABLES = {**TAG_TABLES, "prerequisites": (course_prerequisites, "required_course_id")}
#: the taxonomy model of each term or list field (prerequisites are courses, read apart)
_TERM_MODELS = {name: model for name, model in TERM_MODELS.items() if name != "prerequisites"}
#: each state a course can be approved from, as SQL: the condition that takes the course
CLAIMS = {
    "submitted": COURSES.c.status == "submitted",
    "edit_pending": and_(
        COURSES.c.status == "published",
        COURSES.c.pending_edit.is_not(None),
        COURSES.c.review_requested_at.is_not(None),
    ),
}
_READ = (
    COURSES.c.id,
    COURSES.c.provider_id,
    COURSES.c.status,
    COURSES.c.pending_edit,
    COURSES.c.review_requested_at,
    COURSES.c.approved_snapshot,
    *(COURSES.c[name] for name in _SCALARS),
    *(COURSES.c[column] for column in _TERM_COLUMNS.values()),
)


def waiting_since():
    """When a waiting course started waiting, as SQL (the queue's order: oldest first)."""
    return func.coalesce(Course.review_requested_at, Course.updated_at)


def approve_one(course: Course, now: datetime) -> tuple[dict, str]:
    """Make the reviewed version of ``course`` live: a first submission is published, a
    pending edit replaces the live listing; remember the version approved. Returns ``(what
    changed, outcome)``; flushes nothing."""
    changes = changes_since_approval(course)
    edit = pending(course)
    if edit is not None:
        values = decode(edit)
        for name, value in values.items():
            setattr(course, name, value)
        if course.cost_type != "fee":
            course.fee_pence = None
        course.pending_edit = None
        outcome = "edit_approved"
    else:
        course.status = "published"
        course.published_at = course.published_at or now
        outcome = "approved"
    course.review_requested_at = None
    course.rejection_reason = ""
    course.approved_snapshot = json.dumps(encoded(course), sort_keys=True)
    return changes, outcome


def reject_one(course: Course, reason: str) -> str:
    """Send what waits back with ``reason``: a first submission becomes rejected, a published
    course's edit is refused and its live listing stays. Returns the outcome; flushes nothing."""
    outcome = "edit_rejected" if course.status == "published" else "rejected"
    if course.status != "published":
        course.status = "rejected"
    course.review_requested_at = None
    course.rejection_reason = reason
    return outcome


def unpublish_one(course: Course, reason: str) -> None:
    """Take a published course out of the catalogue with ``reason``; a pending edit becomes
    its text (it is no longer public, so it is edited in place). Flushes nothing."""
    edit = pending(course)
    if edit is not None:
        for name, value in decode(edit).items():
            setattr(course, name, value)
        course.pending_edit = None
    course.status = "rejected"
    course.review_requested_at = None
    course.rejection_reason = reason


def chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    """``ids`` in lists of at most :data:`CHUNK`, in order (each one statement's IN list)."""
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


def waiting_rows(where: list) -> list[SimpleNamespace]:
    """The courses matching ``where`` as plain values (oldest first), each with ``verified``
    (its organisation is verified): one query."""
    query = (
        select(*_READ, Provider.verified_at.is_not(None).label("verified"))
        .join(Provider, Provider.id == COURSES.c.provider_id)
        .where(*where)
        .order_by(waiting_since(), COURSES.c.id)
    )
    return [SimpleNamespace(**row._mapping) for row in db.session.execute(query)]


def approvable(row: SimpleNamespace) -> bool:
    """Whether the table of moves lets ``row`` be approved, into a published course."""
    return states.next_state(row, "approve") == "published"


def claim(rows: list[SimpleNamespace], now: datetime) -> list[SimpleNamespace]:
    """Take the courses still in the state they were read in out of the queue (a first
    submission becomes published) and return them, each with its pending edit as it is now;
    a course another curator decided meanwhile is left out. One UPDATE per state and chunk."""
    by_state: dict[str, list[SimpleNamespace]] = {}
    for row in rows:
        by_state.setdefault(states.state_of(row), []).append(row)
    taken: dict[int, str | None] = {}
    for state, those in by_state.items():
        values: dict[str, Any] = {"review_requested_at": None, "rejection_reason": ""}
        if state == "submitted":
            values.update(
                status="published", published_at=func.coalesce(COURSES.c.published_at, now)
            )
        for ids in chunks([row.id for row in those]):
            statement = (
                update(COURSES)
                .where(COURSES.c.id.in_(ids), CLAIMS[state])
                .values(values)
                .returning(COURSES.c.id, COURSES.c.pending_edit)
            )
            taken.update(tuple(row) for row in db.session.execute(statement))
    won = [row for row in rows if row.id in taken]
    for row in won:
        row.pending_edit = taken[row.id]
    return won


def _lists(ids: list[int]) -> dict[int, dict[str, list[int]]]:
    """Each course's term lists and prerequisites, as sorted ids."""
    found: dict[int, dict[str, list[int]]] = {i: {name: [] for name in LIST_FIELDS} for i in ids}
    for name, (table, column) in _LIST_TABLES.items():
        for part in chunks(ids):
            rows = db.session.execute(
                select(table.c.course_id, table.c[column]).where(table.c.course_id.in_(part))
            )
            for course_id, item in rows:
                found[course_id][name].append(item)
    for lists in found.values():
        for items in lists.values():
            items.sort()
    return found


def _names(course_ids: set[int]) -> dict[str, dict[int, Any]]:
    """Every term by kind and id (the lists are short), and the courses ``course_ids``."""
    rows: dict[str, dict[int, Any]] = {
        name: {row.id: row for row in db.session.execute(select(model.id, model.name))}
        for name, model in _TERM_MODELS.items()
    }
    rows["prerequisites"] = {}
    for part in chunks(sorted(course_ids)):
        found = db.session.execute(
            select(COURSES.c.id, COURSES.c.title).where(COURSES.c.id.in_(part))
        )
        rows["prerequisites"].update({row.id: row for row in found})
    return rows


def _encoded(values: dict[str, Any]) -> dict[str, Any]:
    """Plain column values (ids for terms) in the encoded form (``versions.encode``)."""
    out = {name: values[name] for name in EDITABLE}
    for name in LIST_FIELDS:
        out[name] = sorted(out[name])
    if out.get("cost_type", "fee") != "fee":
        out["fee_pence"] = None
    return out


def _applied(live: dict[str, Any], edit: dict[str, Any], rows: dict) -> dict[str, Any]:
    """``live`` with ``edit`` made live, as ``versions.decode`` and the editor apply it: a term
    that no longer exists is left as it was, a listed one that no longer exists left out."""
    values = dict(live)
    for name in EDITABLE:
        if name not in edit:
            continue
        value = edit[name]
        if name in TERM_FIELDS:
            if value is None or value in rows[name]:
                values[name] = value
            continue
        if name in LIST_FIELDS:
            value = [item for item in value if item in rows[name]]
        values[name] = value
    if values["cost_type"] != "fee":
        values["fee_pence"] = None
    return values


def _decided(row: SimpleNamespace, lists: dict[str, list[int]], rows: dict) -> SimpleNamespace:
    """One claimed course's approval, worked out as ``approve_one`` does: what
    changed, the outcome, its values once approved and the version remembered."""
    live = {name: getattr(row, name) for name in _SCALARS}
    live.update({name: getattr(row, column) for name, column in _TERM_COLUMNS.items()})
    live.update(lists)
    edit = json.loads(row.pending_edit) if row.pending_edit else None
    if edit is not None:
        changes = diff(named(live, rows), named({**_encoded(live), **edit}, rows))
        values, outcome = _applied(live, edit, rows), "edit_approved"
    else:
        last = json.loads(row.approved_snapshot) if row.approved_snapshot else None
        changes = diff(named(last, rows) if last is not None else None, named(live, rows))
        values, outcome = live, "approved"
    return SimpleNamespace(
        id=row.id,
        provider_id=row.provider_id,
        title=values["title"],
        outcome=outcome,
        changes=changes,
        edit=edit,
        values=values,
        snapshot=json.dumps(_encoded(values), sort_keys=True),
    )


def approve(rows: list[SimpleNamespace], now: datetime) -> list[SimpleNamespace]:
    """Approve the courses of ``rows`` (from :func:`waiting_rows`, each :func:`approvable`)
    that are still waiting as read: a first submission is published, a pending edit is made
    live, and the approved version is remembered; each gets a search-outbox entry. Returns
    them as :func:`_decided` gives them (``outcome``, ``changes``, ``title``), oldest first.
    Flushes nothing of the session's own; a loaded course it approves is expired."""
    won = claim(rows, now)
    if not won:
        return []
    lists = _lists([row.id for row in won])
    wanted = {i for row in won for i in lists[row.id]["prerequisites"]}
    for row in won:
        for text in (row.pending_edit, row.approved_snapshot):
            version = json.loads(text) if text else {}
            wanted.update(i for i in version.get("prerequisites") or [] if isinstance(i, int))
    rows_by_kind = _names(wanted)
    decided = [_decided(row, lists[row.id], rows_by_kind) for row in won]
    _write(decided)
    search_outbox.queue(db.session, {("course", course.id) for course in decided})
    ids = {course.id for course in decided}
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Course) and obj.id in ids:
            db.session.expire(obj)
    return decided


def _write(decided: list[SimpleNamespace]) -> None:
    """Write the remembered versions, and each approved edit's values and lists."""
    new = [course for course in decided if course.edit is None]
    for start in range(0, len(new), CHUNK):
        part = {course.id: course.snapshot for course in new[start : start + CHUNK]}
        db.session.execute(  # one statement per chunk: an executemany is a round trip a row
            update(COURSES)
            .where(COURSES.c.id.in_(list(part)))
            .values(approved_snapshot=case(part, value=COURSES.c.id))
        )
    snapshot = update(COURSES).where(COURSES.c.id == bindparam("b_id"))
    edits = [course for course in decided if course.edit is not None]
    if not edits:
        return
    columns = {name: name for name in _SCALARS} | _TERM_COLUMNS
    db.session.execute(
        snapshot.values(
            approved_snapshot=bindparam("b_snapshot"),
            pending_edit=None,
            **{column: bindparam(f"b_{column}") for column in columns.values()},
        ),
        [
            {
                "b_id": c.id,
                "b_snapshot": c.snapshot,
                **{f"b_{column}": c.values[name] for name, column in columns.items()},
            }
            for c in edits
        ],
    )
    for name, (table, column) in _LIST_TABLES.items():
        changed = [c for c in edits if name in c.edit]
        for part in chunks([c.id for c in changed]):
            db.session.execute(delete(table).where(table.c.course_id.in_(part)))
        pairs = [
            {"course_id": c.id, column: i} for c in changed for i in sorted(set(c.values[name]))
        ]
        if pairs:
            db.session.execute(insert(table), pairs)
