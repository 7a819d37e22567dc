"""Curators' operations: the review queue, approving and rejecting listings, unpublishing,
verifying providers, editing the taxonomy, and reading the audit log.

Only curators may call these (``require_curator``); each writes an audit entry and flushes.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import case, func, insert, or_, select
from sqlalchemy.orm import selectinload

from academy import audit
from academy.accounts.models import User
from academy.audit import AuditEntry
from academy.catalogue import approval, retagging, states
from academy.catalogue.approval import waiting_since
from academy.catalogue.models import (
    Course,
)
from academy.db_types import utcnow
from academy.extensions import db
from academy.imports.text import match_key
from academy.providers import notify
from academy.providers.courses import (
    encoded,
    pending,
)
from academy.providers.models import Provider
from academy.search import outbox as search_outbox
from academy.taxonomy.models import TERM_MODELS, TermMixin
from academy.unit_of_work import DomainError


class CurationError(DomainError):
    """A refusal with a message fit to show; nothing has been changed."""


class NotCurator(CurationError):
    pass


def require_curator(user: User) -> None:
    if not (user.is_authenticated and user.is_curator):
        raise NotCurator("Only the Academy's curators can do that.")


# ---------------------------------------------------------------------------- review


KINDS = {
    "new": "New listing",
    "edit": "Edit of a published course",
    "resubmission": "Sent again after a rejection",
}
#: how many days a listing has waited, for the queue's age filter
AGES = {"1": "More than a day", "7": "More than a week", "30": "More than 30 days"}
PER_PAGE = 50


def waiting() -> object:
    """The condition a course in the curators' queue meets."""
    return or_(Course.status == "submitted", Course.review_requested_at.is_not(None))


def kind_of() -> object:
    """The queue kind of a waiting course, as SQL: a resubmission still carries the reason it
    was last rejected for; otherwise an edit if the course is published, else new."""
    return case(
        (Course.rejection_reason != "", "resubmission"),
        (Course.status == "published", "edit"),
        else_="new",
    )


def kind_of_course(course: Course) -> str:
    if course.rejection_reason:
        return "resubmission"
    return "edit" if course.status == "published" else "new"


@dataclass
class QueueFilter:
    provider_id: int | None = None
    kind: str | None = None
    older_than_days: int | None = None

    def where(self, *, with_kind: bool = True) -> list:
        conditions = [waiting()]
        if self.provider_id:
            conditions.append(Course.provider_id == self.provider_id)
        if with_kind and self.kind in KINDS:
            conditions.append(kind_of() == self.kind)
        if self.older_than_days:
            conditions.append(waiting_since() < utcnow() - timedelta(days=self.older_than_days))
        return conditions


def review_queue(filters: QueueFilter | None = None, page: int = 1, per_page: int = PER_PAGE):
    """Courses waiting for a curator, oldest first, filtered; a ``db.paginate`` page whose
    items have their provider and step loaded (a fixed number of queries at any length)."""
    filters = filters or QueueFilter()
    query = (
        select(Course)
        .where(*filters.where())
        .options(selectinload(Course.provider), selectinload(Course.step))
        .order_by(waiting_since(), Course.id)
    )
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def queue_counts(filters: QueueFilter | None = None) -> dict[str, int]:
    """``{kind: number waiting}`` under the filter's organisation and age (one query)."""
    filters = filters or QueueFilter()
    kind = kind_of().label("kind")
    rows = db.session.execute(
        select(kind, func.count()).where(*filters.where(with_kind=False)).group_by(kind)
    ).all()
    counts = {key: 0 for key in KINDS}
    counts.update({key: n for key, n in rows})
    return counts


def queue_providers() -> list[tuple[int, str]]:
    """``(id, name)`` of the organisations with something waiting, for the filter."""
    return list(
        db.session.execute(
            select(Provider.id, Provider.name)
            .where(Provider.id.in_(select(Course.provider_id).where(waiting())))
            .order_by(Provider.name)
        ).all()
    )


def oldest_waiting() -> datetime | None:
    return db.session.scalar(select(func.min(waiting_since())).where(waiting()))


def send_digest() -> int:
    """Mail the curators who want it what waits for review; the number of messages."""
    return notify.digest(queue_counts(), oldest_waiting())


def last_approval(course: Course) -> AuditEntry | None:
    """The audit entry of the course's latest approval (who and when), if it was ever approved."""
    return db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.course_id == course.id, AuditEntry.action == "course.approved")
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(1)
    )


def earlier_rejections(course: Course) -> list[AuditEntry]:
    """The course's earlier rejections and unpublishings, newest first (with their reasons)."""
    return db.session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.course_id == course.id,
            AuditEntry.action.in_(("course.rejected", "course.unpublished")),
        )
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(20)
    ).all()


def review_token(course: Course) -> str:
    """A short fingerprint of what a curator reviews: it changes whenever the provider changes
    the course or its edit, so a decision taken on a stale page is refused."""
    seen = "|".join(
        str(part)
        for part in (
            course.state,
            course.pending_edit,
            course.review_requested_at,
            course.updated_at,
        )
    )
    return hashlib.sha256(seen.encode()).hexdigest()[:16]


def _check_fresh(course: Course, token: str | None) -> None:
    if token is not None and token != review_token(course):
        raise CurationError(
            "The provider changed this course after you opened it, so nothing was done."
            " Read the review again, then decide."
        )


def _version_under_review(course: Course) -> dict:
    """The listing a curator decides on, encoded: the pending edit over the live version."""
    return {**encoded(course), **(pending(course) or {})}


def rejected_version(course: Course) -> tuple[AuditEntry, dict] | None:
    """The latest rejection of ``course`` with the version it refused (encoded), if kept."""
    entry = db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.course_id == course.id, AuditEntry.action == "course.rejected")
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(1)
    )
    if entry is None or not entry.detail:
        return None
    version = json.loads(entry.detail).get("version")
    return (entry, version) if isinstance(version, dict) else None


def approve(curator: User, course: Course, token: str | None = None) -> Course:
    """Publish the course, or make a published course's pending edit live (the search index
    follows through its outbox); remember this version and tell the provider's staff.

    :raise CurationError: nothing waits for review, the provider is not verified, or the
        course changed since the curator read it (``token``, from :func:`review_token`).
    """
    require_curator(curator)
    if not states.allowed(course, "approve"):
        raise CurationError(states.REFUSALS["approve"])
    _check_fresh(course, token)
    if not course.provider.is_verified:
        raise CurationError(
            f"{course.provider.name} is not verified yet, so its courses cannot be published."
            " Verify the organisation first."
        )
    changes, outcome = approval.approve_one(course, utcnow())
    db.session.flush()
    audit.record(
        curator, "course.approved", f"Approved {course.title}", course=course, detail=changes
    )
    notify.course_decided(course, outcome)
    return course


def reject(curator: User, course: Course, reason: str, token: str | None = None) -> Course:
    """Send what waits back to its provider with ``reason`` (shown and mailed to them). A first
    submission stays unpublished; a published course's edit is refused and the approved
    version stays live.

    :raise CurationError: no reason, nothing waits for review, or a stale review (``token``).
    """
    require_curator(curator)
    if not reason.strip():
        raise CurationError("Say why, so the provider knows what to change.")
    if not states.allowed(course, "reject"):
        raise CurationError(states.REFUSALS["reject"])
    _check_fresh(course, token)
    version = _version_under_review(course)
    outcome = approval.reject_one(course, reason.strip())
    db.session.flush()
    audit.record(
        curator,
        "course.rejected",
        f"Rejected {course.title}: {reason.strip()}",
        course=course,
        detail={"reason": reason.strip(), "outcome": outcome, "version": version},
    )
    notify.course_decided(course, outcome, reason.strip())
    return course


def unpublish(curator: User, course: Course, reason: str) -> Course:
    """Take a published course out of the catalogue; the provider sees ``reason``. A pending
    edit becomes the course's text (it is no longer public, so it is edited in place).

    :raise CurationError: the course is not published or no reason is given.
    """
    require_curator(curator)
    if not states.allowed(course, "unpublish"):
        raise CurationError(states.REFUSALS["unpublish"])
    if not reason.strip():
        raise CurationError("Say why, so the provider knows what to change.")
    approval.unpublish_one(course, reason.strip())
    db.session.flush()
    audit.record(
        curator,
        "course.unpublished",
        f"Unpublished {course.title}: {reason.strip()}",
        course=course,
        detail={"reason": reason.strip()},
    )
    notify.course_decided(course, "unpublished", reason.strip())
    return course


@dataclass
class BulkResult:
    done: int
    skipped: int


def _chosen_where(course_ids: Sequence[int] | None, filters: QueueFilter | None) -> list:
    if course_ids is not None:
        return [waiting(), Course.id.in_(list(course_ids))]
    return (filters or QueueFilter()).where()


def chosen_preview(
    course_ids: Sequence[int] | None, filters: QueueFilter | None, limit: int = 100
) -> tuple[int, list[Course]]:
    """How many waiting courses a bulk action would touch, and the oldest ``limit`` of them
    with their providers (three queries, whatever the number)."""
    where = _chosen_where(course_ids, filters)
    count = db.session.scalar(select(func.count(Course.id)).where(*where)) or 0
    sample = db.session.scalars(
        select(Course)
        .where(*where)
        .options(selectinload(Course.provider))
        .order_by(waiting_since(), Course.id)
        .limit(limit)
    ).all()
    return count, list(sample)


def _review_loads() -> tuple:
    """What deciding a course reads: its provider and every term its review shows."""
    return tuple(
        selectinload(relation)
        for relation in (
            Course.provider,
            Course.sectors,
            Course.professions,
            Course.principles,
            Course.prerequisites,
            Course.step,
            Course.delivery_mode,
            Course.region,
        )
    )


def course_for_review(course_id: int) -> Course | None:
    """The course with ``course_id`` (any status) loaded for a curator's review, or None."""
    return db.session.scalar(select(Course).where(Course.id == course_id).options(*_review_loads()))


def chosen_courses(course_ids: Sequence[int] | None, filters: QueueFilter | None) -> list[Course]:
    """The waiting courses a bulk action is for: those of ``course_ids`` still waiting, or
    (``course_ids`` None) every course matching ``filters``; oldest first."""
    query = (
        select(Course)
        .where(waiting())
        .options(*_review_loads())
        .order_by(waiting_since(), Course.id)
    )
    if course_ids is not None:
        query = query.where(Course.id.in_(list(course_ids)))
    else:
        query = query.where(*(filters or QueueFilter()).where())
    return db.session.scalars(query).all()


def bulk_decide(
    curator: User,
    action: str,
    course_ids: Sequence[int] | None,
    filters: QueueFilter | None = None,
    reason: str = "",
) -> BulkResult:
    """Approve or reject many waiting courses as one action: one reason for all, one audit
    entry per course (written in one statement), one search-outbox entry per course, one
    message per organisation's staff member. Courses no longer waiting, whose state allows no
    such move (``states``), or (to approve) of an unverified organisation are skipped, as is
    a course another curator decides meanwhile. Approval is set-based (``approval``): a fixed
    number of statements per 500 courses.

    :raise CurationError: an unknown action, nothing chosen, no reason to reject, or none of
        the chosen courses can be decided.
    """
    require_curator(curator)
    reason = _check_bulk_request(action, course_ids, reason)
    if action == "approve":
        courses = approval.waiting_rows(_chosen_where(course_ids, filters))
        chosen = [c for c in courses if c.verified and approval.approvable(c)]
    else:
        courses = chosen_courses(course_ids, filters)
        chosen = [c for c in courses if states.allowed(c, "reject")]
    skipped = (len(course_ids) if course_ids is not None else len(courses)) - len(chosen)
    if not chosen:
        raise CurationError(
            "None of the chosen courses can be "
            + (
                "approved: their organisations are not verified yet."
                if courses and action == "approve"
                else "decided: they are no longer waiting for review."
            )
        )
    now = utcnow()
    if action == "approve":
        decided = [
            (c, c.outcome, ("course.approved", f"Approved {c.title}", c.changes))
            for c in approval.approve(chosen, now)
        ]
    else:
        decided = [(c, *_decide_one(c, action, reason, now)) for c in chosen]
        db.session.flush()
    _record_bulk(curator, decided, now, reason)
    return BulkResult(done=len(decided), skipped=max(skipped + len(chosen) - len(decided), 0))


def _record_bulk(curator: User, decided: list, now: datetime, reason: str) -> None:
    """The audit entries (one statement) and the mail (one message per organisation's staff
    member and outcome) of a bulk decision: ``decided`` holds ``(course, outcome, (action,
    summary, detail))``, where a course needs only ``id``, ``provider_id`` and ``title``."""
    if not decided:
        return
    db.session.execute(
        insert(AuditEntry.__table__),
        [_audit_row(curator, course, now, *entry) for course, _, entry in decided],
    )
    by_provider: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for course, outcome, _ in decided:
        by_provider[course.provider_id][outcome].append(course)
    for provider_id, outcomes in by_provider.items():
        provider = db.session.get(Provider, provider_id)
        for outcome, those in outcomes.items():
            notify.courses_decided(provider, those, outcome, reason)


def _check_bulk_request(action: str, course_ids: Sequence[int] | None, reason: str) -> str:
    """The reason, stripped, once the request makes sense. :raise CurationError: if not."""
    if action not in ("approve", "reject"):
        raise CurationError("Choose approve or reject.")
    if course_ids is not None and not course_ids:
        raise CurationError("Choose at least one course.")
    reason = reason.strip()
    if action == "reject" and not reason:
        raise CurationError("Say why, so the providers know what to change.")
    return reason


def _decide_one(course: Course, action: str, reason: str, now) -> tuple[str, tuple]:
    """Approve or reject one course of a bulk decision: its outcome, and its audit action,
    summary and detail."""
    if action == "approve":
        changes, outcome = approval.approve_one(course, now)
        return outcome, ("course.approved", f"Approved {course.title}", changes)
    version = _version_under_review(course)
    outcome = approval.reject_one(course, reason)
    detail = {"reason": reason, "outcome": outcome, "bulk": True, "version": version}
    return outcome, ("course.rejected", f"Rejected {course.title}: {reason}", detail)


def _audit_row(curator: User, course: Course, now, action: str, summary: str, detail) -> dict:
    """One audit entry as a row for a bulk insert (thousands at once)."""
    return {
        "at": now,
        "actor_id": curator.id,
        "actor_name": curator.name,
        "action": action,
        "provider_id": course.provider_id,
        "course_id": course.id,
        "summary": summary,
        "detail": json.dumps(detail, ensure_ascii=False, default=str),
    }


def verify_provider(curator: User, provider: Provider) -> Provider:
    """:raise CurationError: already verified."""
    require_curator(curator)
    if provider.is_verified:
        raise CurationError(f"{provider.name} is already verified.")
    provider.verified_at = utcnow()
    db.session.flush()
    audit.record(curator, "provider.verified", f"Verified {provider.name}", provider=provider)
    notify.provider_verified(provider)
    return provider


def providers_for_curators() -> list[tuple[Provider, int]]:
    """Every provider with its number of courses, unverified first."""
    counts = (
        select(Course.provider_id, func.count(Course.id).label("n"))
        .group_by(Course.provider_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Provider, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.provider_id == Provider.id)
        .order_by(Provider.verified_at.is_not(None), Provider.name)
    ).all()
    return [(provider, count) for provider, count in rows]


# ---------------------------------------------------------------------------- taxonomy

KIND_NAMES = {
    "steps": "Escalator steps",
    "sectors": "Sectors",
    "professions": "Professions",
    "principles": "Charter principles",
    "delivery_modes": "Delivery modes",
    "regions": "Regions",
}
#: steps are a fixed ladder numbered 0 to 4: they may be renamed but not added or retired
FIXED_KINDS = frozenset({"steps"})


def name_key(name: str) -> str:
    """A name as compared for sameness: case, accents, punctuation, spacing, "&" and "and"
    ignored ("Santé & publique!" and "sante and publique" are the same name). It is the key the
    import matches names on, so no two values of a list can be told apart only by an import."""
    return match_key(name)


def _check_name_free(model: type[TermMixin], name: str, except_id: int | None = None) -> None:
    """:raise CurationError: another value of the list has the same name (:func:`name_key`)."""
    key = name_key(name)
    if not key:
        raise CurationError("Enter a name with letters or numbers in it.")
    for term_id, other in db.session.execute(select(model.id, model.name)).all():
        if term_id != except_id and name_key(other) == key:
            raise CurationError(
                f'"{name}" is already in the list as "{other}". Choose another name, or merge'
                " the two."
            )


def _model(kind: str) -> type[TermMixin]:
    if kind not in TERM_MODELS:
        raise CurationError("There is no such list.")
    return TERM_MODELS[kind]


def add_term(curator: User, kind: str, name: str) -> TermMixin:
    """Add a value; its slug is made from the name once and never changes.

    :raise CurationError: a fixed list, an empty name or one already used.
    """
    from academy.catalogue.slugs import make_unique_slug

    require_curator(curator)
    model = _model(kind)
    if kind in FIXED_KINDS:
        raise CurationError("The escalator has five fixed steps; rename them instead.")
    name = name.strip()
    if not name:
        raise CurationError("Enter a name.")
    _check_name_free(model, name)
    taken = set(db.session.scalars(select(model.slug)))
    position = (db.session.scalar(select(func.max(model.position))) or 0) + 1
    term = model(
        slug=make_unique_slug(name, taken, fallback="term")[:80], name=name, position=position
    )
    db.session.add(term)
    db.session.flush()
    audit.record(
        curator,
        "taxonomy.added",
        f"Added {name} to {KIND_NAMES[kind].lower()}",
        detail={"kind": kind, "slug": term.slug},
    )
    return term


def _term(kind: str, term_id: int) -> TermMixin:
    term = db.session.get(_model(kind), term_id)
    if term is None:
        raise CurationError("There is no such value.")
    return term


def rename_term(curator: User, kind: str, term_id: int, name: str) -> TermMixin:
    """Change the shown name; the slug (in links and imports) stays. Courses are not edited,
    so no provider's course shows the rename as a change of theirs.

    :raise CurationError: no such value, an empty name, or a name already in the list.
    """
    require_curator(curator)
    term = _term(kind, term_id)
    name = name.strip()
    if not name:
        raise CurationError("Enter a name.")
    _check_name_free(type(term), name, except_id=term.id)
    old = term.name
    term.name = name
    db.session.flush()
    audit.record(
        curator,
        "taxonomy.renamed",
        f'Renamed "{old}" to "{name}"',
        detail={"kind": kind, "slug": term.slug, "name": [old, name]},
    )
    return term


def retire_term(curator: User, kind: str, term_id: int, retired: bool = True) -> TermMixin:
    """Retire a value (it stays on courses that have it, but cannot be chosen again), or bring
    it back. :raise CurationError: a fixed list."""
    require_curator(curator)
    if kind in FIXED_KINDS:
        raise CurationError("The escalator's steps cannot be retired.")
    term = _term(kind, term_id)
    term.retired_at = utcnow() if retired else None
    db.session.flush()
    audit.record(
        curator,
        "taxonomy.retired" if retired else "taxonomy.restored",
        f'{"Retired" if retired else "Restored"} "{term.name}"',
        detail={"kind": kind, "slug": term.slug},
    )
    return term


def merge_term(curator: User, kind: str, term_id: int, into_id: int) -> TermMixin:
    """Move every course with ``term_id`` (and every pending edit naming it) to ``into_id``,
    then retire ``term_id``: it stays for the records that name it (learners' choices,
    portfolio entries) but is no longer offered. Writes one audit entry.

    :raise CurationError: the steps (a fixed ladder), no such value, or the same value.
    """
    require_curator(curator)
    if kind in FIXED_KINDS:
        raise CurationError("The escalator's steps cannot be merged.")
    term, into = _term(kind, term_id), _term(kind, into_id)
    if term.id == into.id:
        raise CurationError("Choose another value to merge into.")
    if into.is_retired:
        raise CurationError(f'"{into.name}" is retired; restore it first, or choose another.')
    moved = retagging.move_term(kind, term.id, into.id)
    term.retired_at = utcnow()
    db.session.flush()
    search_outbox.queue(db.session, {("course", cid) for cid in moved})
    audit.record(
        curator,
        "taxonomy.merged",
        f'Merged "{term.name}" into "{into.name}" ({len(moved)} courses moved)',
        detail={"kind": kind, "slug": term.slug, "into": into.slug, "courses": sorted(moved)},
    )
    return into


# ---------------------------------------------------------------------------- audit log


@dataclass
class AuditFilter:
    actor_id: int | None = None
    provider_id: int | None = None
    course_id: int | None = None
    since: date | None = None
    until: date | None = None


def audit_names(filters: AuditFilter, entries) -> tuple[list, list, dict[int, str]]:
    """What the audit log's filters and rows name: the people who acted, every organisation
    and the titles of the courses on this page (and the one filtered by), in three queries."""
    actors = db.session.execute(
        select(User.id, User.name)
        .where(User.id.in_(select(AuditEntry.actor_id).distinct()))
        .order_by(User.name)
    ).all()
    providers = db.session.execute(select(Provider.id, Provider.name).order_by(Provider.name)).all()
    course_ids = {e.course_id for e in entries if e.course_id}
    if filters.course_id:
        course_ids.add(filters.course_id)
    titles: dict[int, str] = {}
    if course_ids:
        titles = dict(
            db.session.execute(
                select(Course.id, Course.title).where(Course.id.in_(course_ids))
            ).all()
        )
    return list(actors), list(providers), titles


def audit_entries(filters: AuditFilter, page: int = 1, per_page: int = 50):
    """The log, newest first, filtered; a ``db.paginate`` page (a fixed number of queries)."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if filters.actor_id:
        query = query.where(AuditEntry.actor_id == filters.actor_id)
    if filters.provider_id:
        query = query.where(AuditEntry.provider_id == filters.provider_id)
    if filters.course_id:
        query = query.where(AuditEntry.course_id == filters.course_id)
    if filters.since:
        query = query.where(AuditEntry.at >= _utc(filters.since))
    if filters.until:
        query = query.where(AuditEntry.at < _utc(filters.until) + timedelta(days=1))
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def _utc(day: date) -> datetime:
    from datetime import UTC

    return datetime.combine(day, time(), tzinfo=UTC)
