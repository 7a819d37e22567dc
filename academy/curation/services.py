"""Curators' operations: the review queue, approving and rejecting listings, unpublishing,
verifying providers, editing the taxonomy, and reading the audit log.

Only curators may call these (``require_curator``); each writes an audit entry and flushes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from academy import audit
from academy.accounts.models import User
from academy.audit import AuditEntry
from academy.catalogue.models import Course
from academy.db_types import utcnow
from academy.extensions import db
from academy.providers.courses import changes_since_approval, snapshot
from academy.providers.models import Provider
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


def review_queue() -> list[Course]:
    """Courses waiting for a curator, oldest first: submitted ones and edited published ones."""
    return list(
        db.session.scalars(
            select(Course)
            .where(or_(Course.status == "submitted", Course.review_requested_at.is_not(None)))
            .options(selectinload(Course.provider), selectinload(Course.step))
            .order_by(func.coalesce(Course.review_requested_at, Course.updated_at), Course.id)
        )
    )


def last_approval(course: Course) -> AuditEntry | None:
    """The audit entry of the course's latest approval (who and when), if it was ever approved."""
    return db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.course_id == course.id, AuditEntry.action == "course.approved")
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(1)
    )


def approve(curator: User, course: Course) -> Course:
    """Publish the course (or accept the edits to a published one) and remember this version.

    :raise CurationError: nothing waits for review, or the provider is not verified.
    """
    require_curator(curator)
    if not course.awaits_review or course.status not in ("submitted", "published"):
        raise CurationError("This course is not waiting for review.")
    if not course.provider.is_verified:
        raise CurationError(
            f"{course.provider.name} is not verified yet, so its courses cannot be published."
            " Verify the organisation first."
        )
    changes = changes_since_approval(course)
    now = utcnow()
    course.status = "published"
    course.published_at = course.published_at or now
    course.review_requested_at = None
    course.rejection_reason = ""
    course.approved_snapshot = json.dumps(snapshot(course), ensure_ascii=False, default=str)
    db.session.flush()
    audit.record(
        curator, "course.approved", f"Approved {course.title}", course=course, detail=changes
    )
    return course


def reject(curator: User, course: Course, reason: str) -> Course:
    """Send the course back to its provider with ``reason`` (shown to them); it is not public.

    :raise CurationError: no reason, or nothing waits for review.
    """
    require_curator(curator)
    if not reason.strip():
        raise CurationError("Say why, so the provider knows what to change.")
    if not course.awaits_review:
        raise CurationError("This course is not waiting for review.")
    course.status = "rejected"
    course.review_requested_at = None
    course.rejection_reason = reason.strip()
    db.session.flush()
    audit.record(
        curator,
        "course.rejected",
        f"Rejected {course.title}: {reason.strip()}",
        course=course,
        detail={"reason": reason.strip()},
    )
    return course


def unpublish(curator: User, course: Course, reason: str) -> Course:
    """Take a published course out of the catalogue; the provider sees ``reason``.

    :raise CurationError: the course is not published or no reason is given.
    """
    require_curator(curator)
    if course.status != "published":
        raise CurationError("Only a published course can be unpublished.")
    if not reason.strip():
        raise CurationError("Say why, so the provider knows what to change.")
    course.status = "rejected"
    course.review_requested_at = None
    course.rejection_reason = reason.strip()
    db.session.flush()
    audit.record(
        curator,
        "course.unpublished",
        f"Unpublished {course.title}: {reason.strip()}",
        course=course,
        detail={"reason": reason.strip()},
    )
    return course


def verify_provider(curator: User, provider: Provider) -> Provider:
    """:raise CurationError: already verified."""
    require_curator(curator)
    if provider.is_verified:
        raise CurationError(f"{provider.name} is already verified.")
    provider.verified_at = utcnow()
    db.session.flush()
    audit.record(curator, "provider.verified", f"Verified {provider.name}", provider=provider)
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
    if db.session.scalar(select(model).where(func.lower(model.name) == name.lower())):
        raise CurationError(f'"{name}" is already in the list.')
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
    """Change the shown name; the slug (in links and imports) stays."""
    require_curator(curator)
    term = _term(kind, term_id)
    name = name.strip()
    if not name:
        raise CurationError("Enter a name.")
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


# ---------------------------------------------------------------------------- audit log


@dataclass
class AuditFilter:
    actor_id: int | None = None
    provider_id: int | None = None
    course_id: int | None = None
    since: date | None = None
    until: date | None = None


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
