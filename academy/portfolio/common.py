"""Reading a learner's portfolio: the queries every portfolio page, view and export shares.

Every function here takes the learner and only ever returns that learner's rows; views never
look an entry up by id alone.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from academy.accounts.models import User
from academy.extensions import db
from academy.portfolio.models import LearningRecordEntry


def entries_for(user: User, *, include_withdrawn: bool = True) -> list[LearningRecordEntry]:
    """The learner's entries, newest first, with their evidence loaded (two queries in all).

    Withdrawn verified entries are included unless ``include_withdrawn`` is false; they are
    shown (struck through) but never counted.
    """
    query = (
        select(LearningRecordEntry)
        .where(LearningRecordEntry.user_id == user.id)
        .options(selectinload(LearningRecordEntry.evidence))
        .order_by(LearningRecordEntry.completed_at.desc(), LearningRecordEntry.id.desc())
    )
    if not include_withdrawn:
        query = query.where(LearningRecordEntry.withdrawn_at.is_(None))
    return db.session.scalars(query).all()


def get_own_entry(user: User, entry_id: int) -> LearningRecordEntry:
    """The learner's entry ``entry_id``, or a 404 (the same answer whether it belongs to
    someone else or does not exist, so ids reveal nothing)."""
    entry = db.session.scalar(
        select(LearningRecordEntry).where(
            LearningRecordEntry.id == entry_id, LearningRecordEntry.user_id == user.id
        )
    )
    if entry is None:
        abort(404)
    return entry
