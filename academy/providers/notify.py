"""Mail about publishing: who is told what, through the outbox and their mail choices.

Each function queues its messages in the caller's transaction (``academy.mail.outbox``), so
the mail exists only if the change it announces is committed, and asks
``academy.mail.preferences`` first, so nobody receives optional mail they turned off. Every
message carries a link to the screen where the reader can act.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from academy.accounts.models import ProviderMembership, User
from academy.extensions import db
from academy.mail import outbox
from academy.mail.preferences import wanting


def staff(provider_id: int) -> list[User]:
    """The organisation's staff, in one query."""
    return db.session.scalars(
        select(User)
        .join(ProviderMembership, ProviderMembership.user_id == User.id)
        .where(ProviderMembership.provider_id == provider_id, User.deleted_at.is_(None))
        .order_by(User.id)
    ).all()


def curators() -> list[User]:
    return db.session.scalars(
        select(User).where(User.is_curator.is_(True), User.deleted_at.is_(None)).order_by(User.id)
    ).all()


def _send(users: Sequence[User], kind: str, template: str, **context) -> int:
    chosen = wanting(users, kind)
    for user in chosen:
        outbox.queue(user.email, template, user=user, **context)
    return len(chosen)


def organisation_created(provider) -> int:
    """Tell the curators who want it that ``provider`` waits to be verified."""
    return _send(curators(), "new_organisations", "new_organisation", provider=provider)


def provider_verified(provider) -> int:
    """Tell the organisation's staff that its courses can now be published."""
    return _send(staff(provider.id), "provider_updates", "provider_verified", provider=provider)


def submission_waiting(course) -> int:
    """Tell the curators who chose immediate mail that ``course`` joined the queue."""
    return _send(curators(), "submission_each", "submission_waiting", course=course)


#: what a decision on one course is called in a message's subject
OUTCOMES = {
    "approved": "published",
    "edit_approved": "edit published",
    "rejected": "sent back",
    "edit_rejected": "edit not approved",
    "unpublished": "unpublished",
}


def course_decided(course, outcome: str, reason: str = "") -> int:
    """Tell ``course``'s organisation's staff what a curator decided, with the reason."""
    return courses_decided(course.provider, [course], outcome, reason)


def courses_decided(provider, courses: Sequence, outcome: str, reason: str = "") -> int:
    """One message to each of ``provider``'s staff for one decision on several courses."""
    return _send(
        staff(provider.id),
        "provider_updates",
        "course_decided",
        provider=provider,
        courses=list(courses),
        outcome=outcome,
        outcome_words=OUTCOMES[outcome],
        reason=reason,
    )


def digest(counts: dict[str, int], oldest) -> int:
    """Mail the curators who want it a summary of what waits for review (nothing when empty)."""
    if not sum(counts.values()):
        return 0
    return _send(curators(), "submission_digest", "curation_digest", counts=counts, oldest=oldest)
