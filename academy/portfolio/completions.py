"""Verified completions: the portfolio entries a provider's completion mark writes, their
corrections, and the credentials they carry. The only writer of verified entries.

Providers call these after the enrolment services have changed the place's state, in the same
transaction: :func:`record` when a learner is marked completed, :func:`withdraw` when a
completion is corrected to "did not complete" or undone. A withdrawn entry keeps who withdrew it,
when and why, counts towards nothing, and every credential issued for it is revoked (its public
status page then says revoked). Marked completed again, the entry is reinstated; a new credential
is issued when the learner next asks for one.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from flask import Flask
from sqlalchemy import bindparam, select
from sqlalchemy.orm import load_only

from academy.accounts.models import User
from academy.catalogue.models import Cohort
from academy.credentials.openbadges import revoke_for_entry
from academy.db_types import utcnow
from academy.enrolment.models import Enrolment
from academy.extensions import db
from academy.mail import outbox
from academy.mail.preferences import wants
from academy.portfolio.models import LearningRecordEntry


def entry_for(enrolment: Enrolment) -> LearningRecordEntry | None:
    """The verified entry a completion of ``enrolment`` wrote, withdrawn or not."""
    return db.session.scalar(
        select(LearningRecordEntry).where(LearningRecordEntry.enrolment_id == enrolment.id)
    )


def record(
    confirmer: User, cohort: Cohort, enrolment: Enrolment, *, note: str = "", now=None
) -> LearningRecordEntry:
    """Write (or reinstate) the verified entry for a completion, naming the provider and
    ``confirmer``. A reinstated entry says who corrected it, when and why. Flushes."""
    now = now or utcnow()
    entry = entry_for(enrolment)
    if entry is None:
        course = cohort.course
        entry = LearningRecordEntry(
            user_id=enrolment.user_id,
            enrolment_id=enrolment.id,
            course_id=course.id,
            provider_id=course.provider_id,
            title=course.title,
            provider_name=course.provider.name,
            completed_at=now,
            hours=course.cpd_hours or course.duration_hours,
            # a cohort is learning with other people: NMC counts it as participatory
            participatory_hours=course.cpd_hours or course.duration_hours,
            method="course",
            verified=True,
            confirmed_by_id=confirmer.id,
            confirmed_by_name=confirmer.name,
        )
        db.session.add(entry)
    else:
        entry.withdrawn_at = None
        entry.completed_at = now
        _corrected(entry, confirmer, now, note or "Marked completed after all.")
    db.session.flush()
    _tell(enrolment, cohort, "completion_recorded")
    return entry


def withdraw(
    corrector: User,
    enrolment: Enrolment,
    *,
    note: str,
    now: datetime | None = None,
    notify: bool = True,
) -> LearningRecordEntry | None:
    """Withdraw the verified entry of ``enrolment`` (a completion corrected or undone) and revoke
    every credential it carried, with ``note`` as the reason; the learner is mailed unless
    ``notify`` is false (an undone mark has its own mail). Returns the entry, or None when there
    was none. Flushes."""
    now = now or utcnow()
    entry = entry_for(enrolment)
    if entry is None or entry.withdrawn_at is not None:
        return entry
    entry.withdrawn_at = now
    _corrected(entry, corrector, now, note)
    db.session.flush()
    revoke_for_entry(entry, f"Withdrawn by the provider: {note}")
    if notify:
        _tell(enrolment, enrolment.cohort, "completion_withdrawn")
    return entry


def _tell(enrolment: Enrolment, cohort: Cohort, kind: str) -> None:
    """Mail the learner that their completion was recorded or withdrawn, if they want it."""
    learner = enrolment.user
    if wants(learner, "completions"):
        outbox.queue(learner.email, kind, user=learner, course=cohort.course, credential_url=None)


def _corrected(entry: LearningRecordEntry, user: User, now: datetime, note: str) -> None:
    entry.corrected_at = now
    entry.corrected_by_name = user.name
    entry.correction_note = note


def verified_entries(user: User) -> list[LearningRecordEntry]:
    """A learner's verified entries, withdrawn ones too, newest first."""
    return db.session.scalars(
        select(LearningRecordEntry)
        .where(LearningRecordEntry.user_id == user.id, LearningRecordEntry.verified)
        .order_by(LearningRecordEntry.completed_at.desc())
    ).all()


def verified_record(user: User) -> list[LearningRecordEntry]:
    """:func:`verified_entries` with only what My learning's record shows loaded."""
    return db.session.scalars(_verified_record_statement(), {"user_id": user.id}).all()


@cache
def _verified_record_statement():
    """``verified_record``'s statement (built once: only its parameter, ``user_id``, changes)."""
    E = LearningRecordEntry  # noqa: N806 (a short name for the columns below)
    return (
        select(E)
        .where(E.user_id == bindparam("user_id"), E.verified)
        .order_by(E.completed_at.desc())
        .options(
            load_only(
                E.title,
                E.provider_name,
                E.completed_at,
                E.hours,
                E.withdrawn_at,
                E.confirmed_by_name,
                E.corrected_at,
                E.corrected_by_name,
                E.correction_note,
            )  # fmt: skip
        )
    )


def init_app(app: Flask) -> None:
    """``verified_records(user)`` for templates: My learning (enrolment, a layer below the
    portfolio) shows a learner's verified record without importing the portfolio."""
    app.add_template_global(verified_record, "verified_records")
