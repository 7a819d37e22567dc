"""Share links: an unguessable, expiring, revocable address for some of a learner's entries.

The token is ``secrets.token_urlsafe(32)`` (256 random bits) and is shown to the learner once;
only its SHA-256 is stored, so a copy of the database cannot be used to read anyone's
portfolio. A link is looked up by that hash (an indexed equality, so there is no character-by-
character comparison to time). Each function here flushes and never commits.

A link shows the entries it was made with, as they are now: an entry deleted later simply
disappears from it (the join row goes with the entry), and a verified entry the provider has
since withdrawn is not shown as verified learning.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from academy.accounts.models import User
from academy.accounts.security import token_digest
from academy.db_types import utcnow
from academy.extensions import db
from academy.portfolio.models import (
    EvidenceFile,
    LearningRecordEntry,
    ShareLink,
    share_link_entries,
)
from academy.unit_of_work import DomainError

DEFAULT_DAYS = 30
MAX_DAYS = 365
#: tokens are 43 characters of the URL-safe base64 alphabet; anything else is not one of ours
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
#: ids past PostgreSQL's integer range would make the database raise, not just find nothing
_MAX_ID = 2**31 - 1


class ShareError(DomainError):
    """A refusal with a message fit to show the learner."""


class LinkUnavailable(Exception):
    """The token names no link (``gone`` false) or an expired or revoked one (``gone`` true)."""

    def __init__(self, gone: bool) -> None:
        super().__init__("This link is no longer available.")
        self.gone = gone


@dataclass
class LinkRow:
    """A learner's link as the management page lists it."""

    link: ShareLink
    entry_count: int
    status: str  # live, expired or revoked

    @property
    def last_moment(self) -> datetime:
        return last_moment(self.link)


@dataclass
class SharedPortfolio:
    """What a live link shows: the learner's name and the chosen entries with their evidence."""

    link: ShareLink
    learner_name: str
    entries: list[LearningRecordEntry]

    @property
    def last_moment(self) -> datetime:
        return last_moment(self.link)


def status_of(link: ShareLink, now: datetime | None = None) -> str:
    """``revoked``, ``expired`` or ``live`` (revocation wins over expiry)."""
    now = now or utcnow()
    if link.revoked_at is not None:
        return "revoked"
    if link.expires_at <= now:
        return "expired"
    return "live"


def today(now: datetime | None = None) -> date:
    """Today's date in the display time zone (UK)."""
    zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    return (now or utcnow()).astimezone(zone).date()


def expiry_bounds(now: datetime | None = None) -> tuple[date, date, date]:
    """``(earliest, default, latest)`` expiry dates a learner may choose."""
    start = today(now)
    return start, start + timedelta(days=DEFAULT_DAYS), start + timedelta(days=MAX_DAYS)


def end_of_day(day: date) -> datetime:
    """The first moment after ``day`` in UK time, as a UTC-aware datetime: a link that
    "expires on 3 March" works all of 3 March."""
    zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone).astimezone(
        ZoneInfo("UTC")
    )


def last_moment(link: ShareLink) -> datetime:
    """The last moment the link works, for display: its date is the day the learner chose."""
    return link.expires_at - timedelta(microseconds=1)


def shareable_entries(user: User) -> list[LearningRecordEntry]:
    """The learner's entries that may go in a link (all but withdrawn completions), newest
    first, in one query."""
    return db.session.scalars(
        select(LearningRecordEntry)
        .where(
            LearningRecordEntry.user_id == user.id,
            LearningRecordEntry.withdrawn_at.is_(None),
        )
        .order_by(LearningRecordEntry.completed_at.desc(), LearningRecordEntry.id.desc())
    ).all()


def links_for(user: User, now: datetime | None = None) -> list[LinkRow]:
    """The learner's links, newest first, each with its number of entries: one query."""
    now = now or utcnow()
    count = func.count(share_link_entries.c.entry_id)
    rows = db.session.execute(
        select(ShareLink, count)
        .outerjoin(share_link_entries, share_link_entries.c.share_link_id == ShareLink.id)
        .where(ShareLink.user_id == user.id)
        .group_by(ShareLink.id)
        .order_by(ShareLink.created_at.desc(), ShareLink.id.desc())
    ).all()
    return [LinkRow(link, entries, status_of(link, now)) for link, entries in rows]


def create_link(
    user: User,
    entry_ids: list[int],
    *,
    label: str,
    expires_on: date,
    now: datetime | None = None,
) -> tuple[ShareLink, str]:
    """Make a link to ``entry_ids`` (the learner's own, not withdrawn) working until the end of
    ``expires_on`` (UK time); returns the link and its token, which is never stored.

    :raise ShareError: no entries, an entry that is not the learner's, or an expiry date in
        the past or more than a year ahead.
    """
    now = now or utcnow()
    earliest, _, latest = expiry_bounds(now)
    if expires_on < earliest:
        raise ShareError("The expiry date must be today or later.")
    if expires_on > latest:
        raise ShareError("A link can last at most a year: choose an earlier expiry date.")
    wanted = set(entry_ids)
    if not wanted:
        raise ShareError("Choose at least one entry to share.")
    entries = db.session.scalars(
        select(LearningRecordEntry).where(
            LearningRecordEntry.id.in_(wanted),
            LearningRecordEntry.user_id == user.id,
            LearningRecordEntry.withdrawn_at.is_(None),
        )
    ).all()
    if len(entries) != len(wanted):
        raise ShareError("Choose entries from your own portfolio.")
    token = secrets.token_urlsafe(32)
    link = ShareLink(
        user_id=user.id,
        token_hash=token_digest(token),
        label=label,
        created_at=now,
        expires_at=end_of_day(expires_on),
        entries=entries,
    )
    db.session.add(link)
    db.session.flush()
    return link, token


def get_own_link(user: User, link_id: int) -> ShareLink | None:
    """The learner's link ``link_id``, or ``None`` (also for someone else's link)."""
    if not 0 < link_id <= _MAX_ID:
        return None
    return db.session.scalar(
        select(ShareLink).where(ShareLink.id == link_id, ShareLink.user_id == user.id)
    )


def revoke(link: ShareLink, now: datetime | None = None) -> bool:
    """Stop the link working at once; ``False`` if it was already revoked."""
    if link.revoked_at is not None:
        return False
    link.revoked_at = now or utcnow()
    db.session.flush()
    return True


def _live_link(token: str, now: datetime | None) -> tuple[ShareLink, str]:
    """The live link named by ``token`` and its learner's name (one query).

    :raise LinkUnavailable: unknown, malformed, expired or revoked.
    """
    if not isinstance(token, str) or not _TOKEN_SHAPE.match(token):
        raise LinkUnavailable(gone=False)
    row = db.session.execute(
        select(ShareLink, User.name)
        .join(User, User.id == ShareLink.user_id)
        .where(ShareLink.token_hash == token_digest(token), User.deleted_at.is_(None))
    ).first()
    if row is None:
        raise LinkUnavailable(gone=False)
    link, name = row
    if status_of(link, now) != "live":
        raise LinkUnavailable(gone=True)
    return link, name


def open_link(token: str, now: datetime | None = None) -> SharedPortfolio:
    """What a visitor with ``token`` may see: three queries whatever the number of entries.

    :raise LinkUnavailable: unknown, malformed, expired or revoked.
    """
    link, name = _live_link(token, now)
    entries = db.session.scalars(
        select(LearningRecordEntry)
        .join(share_link_entries, share_link_entries.c.entry_id == LearningRecordEntry.id)
        .where(
            share_link_entries.c.share_link_id == link.id,
            LearningRecordEntry.user_id == link.user_id,
            LearningRecordEntry.withdrawn_at.is_(None),
        )
        .options(selectinload(LearningRecordEntry.evidence))
        .order_by(LearningRecordEntry.completed_at.desc(), LearningRecordEntry.id.desc())
    ).all()
    return SharedPortfolio(link=link, learner_name=name, entries=entries)


def shared_evidence(token: str, evidence_id: int, now: datetime | None = None) -> EvidenceFile:
    """The evidence file ``evidence_id`` if it belongs to an entry in the live link ``token``.

    :raise LinkUnavailable: the link is not live (``gone`` as for ``open_link``), or the file
        is not part of it (``gone`` false).
    """
    link, _ = _live_link(token, now)
    if not 0 < evidence_id <= _MAX_ID:
        raise LinkUnavailable(gone=False)
    evidence = db.session.scalar(
        select(EvidenceFile)
        .join(LearningRecordEntry, LearningRecordEntry.id == EvidenceFile.entry_id)
        .join(share_link_entries, share_link_entries.c.entry_id == LearningRecordEntry.id)
        .where(
            EvidenceFile.id == evidence_id,
            share_link_entries.c.share_link_id == link.id,
            EvidenceFile.user_id == link.user_id,
            LearningRecordEntry.user_id == link.user_id,
            LearningRecordEntry.withdrawn_at.is_(None),
        )
    )
    if evidence is None:
        raise LinkUnavailable(gone=False)
    return evidence
