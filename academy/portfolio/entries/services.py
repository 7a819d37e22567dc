"""Portfolio entries: the list with its filters, and adding, annotating and deleting entries.

A self-recorded entry is the learner's own: every field may change and it may be deleted. A
verified entry (from a provider's completion) may only be annotated: ``ANNOTATION_FIELDS``;
anything else sent for it is ignored, and it cannot be deleted.

Reflections must hold nothing that identifies a person. Whenever an entry has reflection text
or is marked as a written reflective account, the learner confirms that; the time is kept in
``reflection_confirmed_at`` while the text stays the same, and asked for again when it changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, current_app
from sqlalchemy import func, select

from academy import params
from academy.accounts.models import User
from academy.db_types import utcnow
from academy.extensions import db
from academy.portfolio import evidence_store
from academy.portfolio.models import EvidenceFile, LearningRecordEntry
from academy.unit_of_work import DomainError

ENTRIES_PER_PAGE = 20
#: the free-text answers to the reflection prompts (the peer discussion notes are one)
REFLECTION_FIELDS = ("relevance", "learnt", "change_to_practice", "impact", "peer_reflection")
#: what the learner may set on a verified entry
ANNOTATION_FIELDS = (
    "learner_note",
    *REFLECTION_FIELDS,
    "peer_name",
    "peer_role",
    "themes",
    "principles",
    "clinical",
    "is_reflective_account",
)
#: what only a self-recorded entry may set as well
RECORD_FIELDS = (
    "title",
    "provider_name",
    "method",
    "started_on",
    "completed_on",
    "hours",
    "participatory_hours",
)
KINDS = {"verified": "Verified by a provider", "self": "Self-recorded"}
_YEAR_RANGE = (1950, 2100)
_MAX_PAGE = 100_000


class EntryError(DomainError):
    """A rule refused the change; ``message`` is for the learner, ``field`` names the form
    field it belongs to (or ``None``)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ReflectionNotConfirmed(EntryError):
    def __init__(self) -> None:
        super().__init__(
            "Confirm that the reflection contains no information that could identify a person.",
            "reflection_confirmed",
        )


class VerifiedEntryLocked(EntryError):
    def __init__(self) -> None:
        super().__init__(
            "A verified entry is the provider's record of your completion, so it cannot be"
            " deleted. You can add notes, reflections and evidence to it instead."
        )


class PageOutOfRange(Exception):
    pass


# --- the list ---------------------------------------------------------------------------------


@dataclass
class EntryFilters:
    """The list's filters as read from the URL; odd values are dropped with a notice."""

    year: int | None = None
    kind: str | None = None
    page: int = 1
    notices: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.year is not None or self.kind is not None

    def to_args(self, **changes: Any) -> dict[str, Any]:
        """URL arguments for these filters with ``changes`` applied (``None`` drops one)."""
        args: dict[str, Any] = {"year": self.year, "kind": self.kind, "page": self.page}
        args.update(changes)
        if args.get("page") == 1:
            args["page"] = None
        return {key: value for key, value in args.items() if value is not None}

    def page_args(self, page: int) -> dict[str, Any]:
        return self.to_args(page=page)


def parse_filters(args: Mapping[str, str]) -> EntryFilters:
    """Read ``year``, ``kind`` and ``page`` from the query string; never raises."""
    filters = EntryFilters()
    year = (args.get("year") or "").strip()
    if year:
        if number := params.int_or_none(year, minimum=_YEAR_RANGE[0], maximum=_YEAR_RANGE[1]):
            filters.year = number
        else:
            filters.notices.append("That year is not one we can show, so all years are shown.")
    kind = (args.get("kind") or "").strip()
    if kind:
        if kind in KINDS:
            filters.kind = kind
        else:
            filters.notices.append("Choose verified or self-recorded entries; showing both.")
    page = (args.get("page") or "").strip()
    if (number := params.int_or_none(page, minimum=1, maximum=_MAX_PAGE)) is not None:
        filters.page = number
    elif page:
        filters.notices.append("That page number is not one we can show, so page 1 is shown.")
    return filters


@dataclass
class EntryRow:
    entry: LearningRecordEntry
    evidence_count: int

    @property
    def has_reflection(self) -> bool:
        return has_reflection(self.entry)


@dataclass
class EntryPage:
    rows: list[EntryRow]
    total: int
    page: int
    pages: int
    years: list[int]
    #: whether the learner has any entry at all (the empty state differs from "no matches")
    any_entries: bool


def list_entries(user: User, filters: EntryFilters, per_page: int = ENTRIES_PER_PAGE) -> EntryPage:
    """One page of the learner's entries, newest first, with each entry's evidence count.

    Three queries whatever the page size: the learner's first and last dates (for the year
    filter), the count, and the page with the evidence counts.

    :raise PageOutOfRange: a page past the last.
    """
    first, last = db.session.execute(
        select(
            func.min(LearningRecordEntry.completed_at), func.max(LearningRecordEntry.completed_at)
        ).where(LearningRecordEntry.user_id == user.id)
    ).one()
    years = list(range(last.year, first.year - 1, -1)) if first and last else []

    conditions = [LearningRecordEntry.user_id == user.id]
    if filters.year is not None:
        conditions += [
            LearningRecordEntry.completed_at >= datetime(filters.year, 1, 1, tzinfo=UTC),
            LearningRecordEntry.completed_at < datetime(filters.year + 1, 1, 1, tzinfo=UTC),
        ]
    if filters.kind is not None:
        conditions.append(LearningRecordEntry.verified.is_(filters.kind == "verified"))
    total = db.session.scalar(select(func.count(LearningRecordEntry.id)).where(*conditions))
    pages = max(1, -(-total // per_page))
    if filters.page > pages:
        raise PageOutOfRange
    evidence_count = (
        select(func.count(EvidenceFile.id))
        .where(EvidenceFile.entry_id == LearningRecordEntry.id)
        .correlate(LearningRecordEntry)
        .scalar_subquery()
    )
    result = db.session.execute(
        select(LearningRecordEntry, evidence_count)
        .where(*conditions)
        .order_by(LearningRecordEntry.completed_at.desc(), LearningRecordEntry.id.desc())
        .limit(per_page)
        .offset((filters.page - 1) * per_page)
    ).all()
    return EntryPage(
        rows=[EntryRow(entry, count) for entry, count in result],
        total=total,
        page=filters.page,
        pages=pages,
        years=years,
        any_entries=bool(years),
    )


# --- one entry --------------------------------------------------------------------------------


def has_reflection(entry: LearningRecordEntry) -> bool:
    """Whether the entry has reflection text or is a written reflective account."""
    return entry.is_reflective_account or any(
        (getattr(entry, name) or "").strip() for name in REFLECTION_FIELDS
    )


def reflection_text(entry: LearningRecordEntry) -> tuple[str, ...]:
    """The entry's reflection answers, as the confirmation compares them."""
    return _reflection_text(entry)


def _reflection_text(source: Mapping[str, Any] | LearningRecordEntry) -> tuple[str, ...]:
    if isinstance(source, LearningRecordEntry):
        return tuple((getattr(source, name) or "").strip() for name in REFLECTION_FIELDS)
    return tuple((source.get(name) or "").strip() for name in REFLECTION_FIELDS)


def _apply(entry: LearningRecordEntry, values: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    """Set the allowed fields; ``completed_on`` (a date) becomes ``completed_at``, midnight UTC."""
    for name in allowed:
        if name not in values:
            continue
        value = values[name]
        if name == "completed_on":
            entry.completed_at = datetime(value.year, value.month, value.day, tzinfo=UTC)
        elif name in ("themes", "principles"):
            setattr(entry, name, list(dict.fromkeys(value or [])))
        elif name in ("hours", "participatory_hours"):
            setattr(entry, name, None if value is None else round(float(value), 2))
        elif isinstance(value, str):
            setattr(entry, name, value.strip())
        else:
            setattr(entry, name, value)


def _confirm_reflection(
    entry: LearningRecordEntry | None,
    values: Mapping[str, Any],
    confirmed: bool,
    now: datetime,
) -> datetime | None | bool:
    """The new ``reflection_confirmed_at`` (``False``: keep the old one).

    :raise ReflectionNotConfirmed: there is new or changed reflection and no confirmation.
    """
    text = _reflection_text(values)
    if not (values.get("is_reflective_account") or any(text)):
        return None  # nothing to confirm
    if (
        entry is not None
        and entry.reflection_confirmed_at is not None
        and text == _reflection_text(entry)
    ):
        return False  # the confirmed text is unchanged
    if not confirmed:
        raise ReflectionNotConfirmed
    return now


def create_entry(
    user: User,
    values: Mapping[str, Any],
    *,
    reflection_confirmed: bool,
    now: datetime | None = None,
) -> LearningRecordEntry:
    """Add a self-recorded entry (flushed, not committed).

    ``values`` holds the fields of ``RECORD_FIELDS`` and ``ANNOTATION_FIELDS``; ``completed_on``
    is required.

    :raise ReflectionNotConfirmed: reflection given without the confirmation.
    """
    now = now or utcnow()
    confirmed_at = _confirm_reflection(None, values, reflection_confirmed, now)
    entry = LearningRecordEntry(user_id=user.id, verified=False, themes=[], principles=[])
    _apply(entry, values, RECORD_FIELDS + ANNOTATION_FIELDS)
    entry.reflection_confirmed_at = confirmed_at or None
    db.session.add(entry)
    db.session.flush()
    return entry


def update_entry(
    user: User,
    entry: LearningRecordEntry,
    values: Mapping[str, Any],
    *,
    reflection_confirmed: bool,
    now: datetime | None = None,
) -> LearningRecordEntry:
    """Change the learner's entry (flushed, not committed). For a verified entry only
    ``ANNOTATION_FIELDS`` are taken; anything else in ``values`` is ignored.

    :raise ReflectionNotConfirmed: new or changed reflection without the confirmation (nothing
        is changed).
    """
    if entry.user_id != user.id:
        abort(404)
    now = now or utcnow()
    allowed = ANNOTATION_FIELDS if entry.verified else RECORD_FIELDS + ANNOTATION_FIELDS
    values = {name: value for name, value in values.items() if name in allowed}
    confirmed_at = _confirm_reflection(entry, values, reflection_confirmed, now)
    _apply(entry, values, allowed)
    if confirmed_at is not False:
        entry.reflection_confirmed_at = confirmed_at
    db.session.flush()
    return entry


def delete_entry(user: User, entry: LearningRecordEntry) -> list[str]:
    """Delete a self-recorded entry and its evidence rows (flushed, not committed); returns the
    stored names of its files, which are removed once the deletion is committed.

    :raise VerifiedEntryLocked: the entry is verified (nothing changes).
    """
    if entry.user_id != user.id:
        abort(404)
    if entry.verified:
        raise VerifiedEntryLocked
    stored_names = [item.stored_name for item in entry.evidence]
    db.session.delete(entry)
    db.session.flush()
    evidence_store.remove_after_commit(stored_names)
    return stored_names


def today_on_the_calendar(now: datetime | None = None) -> date:
    """Today's date in the display time zone (UK time), for "not in the future"."""
    now = now or utcnow()
    return now.astimezone(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])).date()
