"""Cohorts for the provider: adding and changing them, cancelling, deciding requests, and
running them (the enrolment list, attendance, completions that become verified records)."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from academy import audit
from academy.accounts.models import User
from academy.catalogue.models import Cohort, CohortSession, Course
from academy.credentials.openbadges import revoke_for_entry
from academy.db_types import utcnow
from academy.enrolment import services as enrolment_services
from academy.enrolment.models import Enrolment
from academy.extensions import db
from academy.formatting import format_date
from academy.portfolio.models import LearningRecordEntry
from academy.providers import joining
from academy.providers.models import Provider
from academy.providers.services import ProviderError, require_staff

MARKS = ("attended", "completed", "not_completed")


def get_cohort(user: User, provider: Provider, cohort_id: int) -> Cohort:
    """One of ``provider``'s cohorts, for its staff. :raise NotMember: not staff.
    :raise ProviderError: no such cohort of this provider."""
    require_staff(user, provider)
    cohort = db.session.scalar(
        select(Cohort)
        .join(Course, Course.id == Cohort.course_id)
        .where(Cohort.id == cohort_id, Course.provider_id == provider.id)
        .options(selectinload(Cohort.sessions), selectinload(Cohort.course))
    )
    if cohort is None:
        raise ProviderError("This organisation has no such cohort.")
    return cohort


def create_cohort(
    user: User,
    course: Course,
    *,
    capacity: int,
    is_online: bool,
    location: str | None,
    enrolment_closes_at: datetime | None,
    starts_at: datetime,
    ends_at: datetime,
    joining_link: str | None = None,
) -> Cohort:
    """Add a cohort with its first session, and its joining link if online (the form has
    checked the link). :raise ProviderError: archived course."""
    require_staff(user, course.provider)
    if course.status == "archived":
        raise ProviderError("This course is archived, so it cannot have new cohorts.")
    cohort = Cohort(
        course=course,
        capacity=capacity,
        is_online=is_online,
        location=location or None,
        enrolment_closes_at=enrolment_closes_at,
        sessions=[CohortSession(starts_at=starts_at, ends_at=ends_at)],
    )
    db.session.add(cohort)
    db.session.flush()
    joining.set_link(cohort, joining_link if is_online else None)
    audit.record(
        user,
        "cohort.created",
        f"Added a cohort of {course.title} starting {starts_at:%d %b %Y}",
        course=course,
        detail={"cohort": cohort.id, "capacity": capacity},
    )
    return cohort


def update_cohort(
    user: User,
    cohort: Cohort,
    *,
    capacity: int,
    is_online: bool,
    location: str | None,
    enrolment_closes_at: datetime | None,
    joining_link: str | None = None,
) -> list[Enrolment]:
    """Change places, place and joining link. Capacity never goes below the places taken;
    raising it gives the new places to the waitlist at once. Returns the learners promoted.

    :raise ProviderError: capacity below places taken, or a cancelled cohort.
    """
    require_staff(user, cohort.course.provider)
    if cohort.is_cancelled:
        raise ProviderError("This cohort is cancelled.")
    previous_capacity = cohort.capacity
    # The conditional update is the check: a learner taking a seat meanwhile cannot slip past.
    result = db.session.execute(
        update(Cohort)
        .where(Cohort.id == cohort.id, Cohort.seats_taken <= capacity)
        .values(capacity=capacity)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(cohort, ["capacity", "seats_taken"])
    if result.rowcount != 1:
        raise ProviderError(
            f"{cohort.seats_taken} places are already taken, so the capacity cannot be less"
            f" than {cohort.seats_taken}."
        )
    before = {
        "capacity": previous_capacity,
        "is_online": cohort.is_online,
        "location": cohort.location,
        "enrolment_closes_at": cohort.enrolment_closes_at,
        "joining_link": joining.link_of(cohort),
    }
    cohort.is_online = is_online
    cohort.location = location or None
    cohort.enrolment_closes_at = enrolment_closes_at
    joining_link = (joining_link or None) if is_online else None
    joining.set_link(cohort, joining_link)
    db.session.flush()
    promoted = enrolment_services.promote_waitlisted(cohort)
    after = {
        "capacity": capacity,
        "is_online": is_online,
        "location": location or None,
        "enrolment_closes_at": enrolment_closes_at,
        "joining_link": joining_link,
    }
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if not changes:
        return promoted
    audit.record(
        user,
        "cohort.edited",
        f"Edited the cohort {cohort.id} of {cohort.course.title}",
        course=cohort.course,
        detail={"cohort": cohort.id, "changes": changes, "promoted": len(promoted)},
    )
    return promoted


def add_session(user: User, cohort: Cohort, starts_at: datetime, ends_at: datetime) -> None:
    """Add a dated session to the cohort (its learners' calendars gain an event)."""
    require_staff(user, cohort.course.provider)
    cohort.sessions.append(CohortSession(starts_at=starts_at, ends_at=ends_at))
    db.session.flush()
    audit.record(
        user,
        "cohort.session_added",
        f"Added a session on {starts_at:%d %b %Y}",
        course=cohort.course,
        detail={"cohort": cohort.id},
    )


def move_session(
    user: User, cohort: Cohort, session_id: int, starts_at: datetime, ends_at: datetime
) -> list[Enrolment]:
    """Change a session's times: its calendar SEQUENCE rises and learners are emailed.

    :raise ProviderError: no such session in this cohort.
    """
    require_staff(user, cohort.course.provider)
    session = next((s for s in cohort.sessions if s.id == session_id), None)
    if session is None:
        raise ProviderError("This cohort has no such session.")
    before = [session.starts_at.isoformat(), session.ends_at.isoformat()]
    if (session.starts_at, session.ends_at) == (starts_at, ends_at):
        return []
    told = enrolment_services.reschedule_session(session, starts_at, ends_at)
    audit.record(
        user,
        "cohort.session_moved",
        f"Moved a session of {cohort.course.title}",
        course=cohort.course,
        detail={
            "cohort": cohort.id,
            "session": session_id,
            "times": [before, [starts_at.isoformat(), ends_at.isoformat()]],
        },
    )
    return told


def session_removal_problem(cohort: Cohort, session: CohortSession) -> str | None:
    """Why ``session`` may not be removed from ``cohort``, in words fit to show; None if it may.

    A cancelled cohort stays as it was; a session that has begun is part of what learners
    attended; and a cohort always keeps one session, since its dates are what it is.
    """
    if cohort.is_cancelled:
        return "This cohort is cancelled, so its sessions stay as they were."
    if session.starts_at <= utcnow():
        return (
            "This session has already begun or taken place, so it stays on the cohort: it is"
            " part of what the learners attended."
        )
    if len(cohort.sessions) <= 1:
        return (
            "This is the cohort's only session, and a cohort needs at least one. Change its"
            " date instead, or cancel the cohort."
        )
    return None


def remove_session(user: User, cohort: Cohort, session_id: int) -> list[Enrolment]:
    """Remove one of the cohort's sessions that is still to come. The other sessions' calendar
    SEQUENCE rises and everyone with a place or on the waitlist is emailed, as when a session
    moves. Returns the enrolments told.

    :raise ProviderError: no such session in this cohort, or :func:`session_removal_problem`.
    """
    require_staff(user, cohort.course.provider)
    session = next((s for s in cohort.sessions if s.id == session_id), None)
    if session is None:
        raise ProviderError("This cohort has no such session.")
    problem = session_removal_problem(cohort, session)
    if problem:
        raise ProviderError(problem)
    times = [session.starts_at.isoformat(), session.ends_at.isoformat()]
    when = format_date(session.starts_at)
    told = enrolment_services.remove_session(session)
    audit.record(
        user,
        "cohort.session_removed",
        f"Removed the session on {when} from a cohort of {cohort.course.title}",
        course=cohort.course,
        detail={"cohort": cohort.id, "session": session_id, "times": times, "told": len(told)},
    )
    return told


def cancel_cohort(user: User, cohort: Cohort, message: str = "") -> list[Enrolment]:
    """Cancel the cohort: tell everyone with a place, wait or request, and mark those
    enrolments cancelled. Returns the enrolments told. :raise ProviderError: already cancelled.
    """
    require_staff(user, cohort.course.provider)
    if cohort.is_cancelled:
        raise ProviderError("This cohort is already cancelled.")
    told = enrolment_services.notify_cohort_cancelled(cohort, message)
    now = utcnow()
    db.session.execute(
        update(Enrolment)
        .where(
            Enrolment.cohort_id == cohort.id,
            Enrolment.status.in_(("enrolled", "waitlisted", "requested")),
        )
        .values(status="cancelled", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    for enrolment in told:
        db.session.expire(enrolment)
    cohort.status = "cancelled"
    cohort.cancelled_at = now
    cohort.seats_taken = 0
    db.session.flush()
    audit.record(
        user,
        "cohort.cancelled",
        f"Cancelled a cohort of {cohort.course.title}",
        course=cohort.course,
        detail={"cohort": cohort.id, "told": len(told), "message": message},
    )
    return told


# ---------------------------------------------------------------------------- running


def enrolment_list(cohort: Cohort) -> list[Enrolment]:
    """Everyone on the cohort except those who withdrew, in one query."""
    return list(
        db.session.scalars(
            select(Enrolment)
            .where(Enrolment.cohort_id == cohort.id, Enrolment.status != "withdrawn")
            .options(selectinload(Enrolment.user))
            .order_by(Enrolment.status, Enrolment.queued_at, Enrolment.id)
        )
    )


def enrolment_csv(cohort: Cohort) -> str:
    """The enrolment list as CSV: name, email, status, access needs (formula-safe cells)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "email", "status", "attended", "access_needs"])
    for row in enrolment_list(cohort):
        writer.writerow(
            [
                _safe(row.user.name),
                _safe(row.user.email),
                row.status,
                "yes" if row.attended_at else "",
                _safe(row.access_needs),
            ]
        )
    return out.getvalue()


def _safe(value: str) -> str:
    """Stop a spreadsheet running a cell as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _find(cohort: Cohort, enrolment_id: int) -> Enrolment:
    enrolment = db.session.scalar(
        select(Enrolment)
        .where(Enrolment.id == enrolment_id, Enrolment.cohort_id == cohort.id)
        .options(selectinload(Enrolment.user))
    )
    if enrolment is None:
        raise ProviderError("That learner is not on this cohort.")
    return enrolment


def decide_request(
    user: User, cohort: Cohort, enrolment_id: int, accept: bool, message: str = ""
) -> Enrolment:
    """Accept (a place, or the waitlist when full) or decline a pending request, with a message.

    :raise ProviderError: not a pending request of this cohort.
    """
    require_staff(user, cohort.course.provider)
    enrolment = _find(cohort, enrolment_id)
    try:
        if accept:
            enrolment_services.approve_request(enrolment)
        else:
            enrolment.decision_message = message
            db.session.flush()
            enrolment_services.decline_request(enrolment)
    except enrolment_services.EnrolmentError as error:
        raise ProviderError(error.message) from error
    if accept and message:
        enrolment.decision_message = message
    db.session.flush()
    audit.record(
        user,
        "request.accepted" if accept else "request.declined",
        f"{'Accepted' if accept else 'Declined'} {enrolment.user.name}'s request",
        course=cohort.course,
        detail={"cohort": cohort.id, "message": message},
    )
    return enrolment


def mark(user: User, cohort: Cohort, enrolment_ids: list[int], outcome: str, note: str = "") -> int:
    """Mark learners attended, completed or not completed; returns how many changed.

    A completion becomes a verified learning-record entry naming the provider and ``user``.
    Changing a completed learner to not completed (or back) is a correction: the entry is kept,
    and who corrected it, when and why is recorded. :raise ProviderError: unknown outcome.
    """
    require_staff(user, cohort.course.provider)
    if outcome not in MARKS:
        raise ProviderError("Choose attended, completed or did not complete.")
    rows = db.session.scalars(
        select(Enrolment).where(
            Enrolment.cohort_id == cohort.id,
            Enrolment.id.in_(enrolment_ids),
            Enrolment.status.in_(("enrolled", "completed", "not_completed")),
        )
    ).all()
    records = {
        r.enrolment_id: r
        for r in db.session.scalars(
            select(LearningRecordEntry).where(
                LearningRecordEntry.enrolment_id.in_([e.id for e in rows])
            )
        )
    }
    now = utcnow()
    changed = 0
    for enrolment in rows:
        if outcome == "attended":
            if enrolment.attended_at is None:
                enrolment.attended_at = now
                changed += 1
            continue
        target = "completed" if outcome == "completed" else "not_completed"
        if enrolment.status == target:
            continue
        correcting = enrolment.status != "enrolled"
        enrolment.status = target
        enrolment.completed_at = now if target == "completed" else None
        enrolment.updated_at = now
        record = records.get(enrolment.id)
        if target == "completed":
            if record is None:
                db.session.add(_verified_entry(user, cohort, enrolment, now))
            else:
                record.withdrawn_at = None
                _corrected(record, user, now, note or "Marked completed after all.")
        elif record is not None:
            record.withdrawn_at = now
            _corrected(record, user, now, note or "Marked as not completed.")
            revoke_for_entry(record, f"Withdrawn by the provider: {record.correction_note}")
        changed += 1
        audit.record(
            user,
            "completion.corrected" if correcting else f"learner.{target}",
            f"{'Corrected: ' if correcting else ''}{enrolment.user.name} "
            f"{'completed' if target == 'completed' else 'did not complete'} {cohort.course.title}",
            course=cohort.course,
            detail={"cohort": cohort.id, "enrolment": enrolment.id, "note": note},
        )
    db.session.flush()
    return changed


def _verified_entry(
    user: User, cohort: Cohort, enrolment: Enrolment, now: datetime
) -> LearningRecordEntry:
    course = cohort.course
    return LearningRecordEntry(
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
        confirmed_by_id=user.id,
        confirmed_by_name=user.name,
    )


def _corrected(record: LearningRecordEntry, user: User, now: datetime, note: str) -> None:
    record.corrected_at = now
    record.corrected_by_name = user.name
    record.correction_note = note


def learner_records(user: User) -> list[LearningRecordEntry]:
    """A learner's verified entries, newest first (the portfolio builds on these)."""
    return list(
        db.session.scalars(
            select(LearningRecordEntry)
            .where(LearningRecordEntry.user_id == user.id)
            .order_by(LearningRecordEntry.completed_at.desc())
        )
    )
