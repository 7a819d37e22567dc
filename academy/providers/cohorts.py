"""Cohorts for the provider: adding and changing them, cancelling, deciding requests, and
running them (the enrolment list, attendance, completions that become verified records).

The provider's side only: the places' states change through ``academy.enrolment.services``
(which locks the cohort and keeps the state table), verified entries and their credentials
through ``academy.portfolio.completions``, and every date through ``academy.catalogue.schedule``.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from academy import audit
from academy.accounts.models import User
from academy.catalogue import schedule
from academy.catalogue.models import Cohort, CohortSession, Course
from academy.db_types import utcnow
from academy.enrolment import joining
from academy.enrolment import services as enrolment_services
from academy.enrolment.models import Enrolment
from academy.extensions import db
from academy.formatting import format_date
from academy.portfolio import completions
from academy.providers.models import Provider
from academy.providers.services import ProviderError, require_staff

MARKS = ("attended", "completed", "not_completed")
#: the enrolments a mark may be given to: a place, or a mark given before (which it changes)
MARKABLE = ("enrolled", "completed", "not_completed")


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
    schedule.require_session(starts_at, ends_at, utcnow())
    schedule.require_closing(enrolment_closes_at, starts_at)
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
    previous_capacity = cohort.capacity
    schedule.require_closing(enrolment_closes_at, cohort.starts_at)
    try:
        promoted = enrolment_services.change_capacity(cohort, capacity)
    except enrolment_services.EnrolmentError as error:
        raise ProviderError(error.message) from error
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
    """Add a dated session to the cohort (its learners' calendars gain an event).

    :raise ScheduleError: the times break a rule of ``catalogue.schedule``.
    :raise ProviderError: a cancelled cohort."""
    require_staff(user, cohort.course.provider)
    if cohort.is_cancelled:
        raise ProviderError("This cohort is cancelled, so its sessions stay as they were.")
    schedule.require_session(starts_at, ends_at, utcnow(), [s.starts_at for s in cohort.sessions])
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

    :raise ProviderError: no such session in this cohort, a cancelled cohort or a session that
    has begun. :raise ScheduleError: the new times break a rule of ``catalogue.schedule``.
    """
    require_staff(user, cohort.course.provider)
    session = next((s for s in cohort.sessions if s.id == session_id), None)
    if session is None:
        raise ProviderError("This cohort has no such session.")
    if cohort.is_cancelled:
        raise ProviderError("This cohort is cancelled, so its sessions stay as they were.")
    before = [session.starts_at.isoformat(), session.ends_at.isoformat()]
    if (session.starts_at, session.ends_at) == (starts_at, ends_at):
        return []
    if session.starts_at <= utcnow():
        raise ProviderError(
            "This session has already begun or taken place, so its times stay as they were."
        )
    others = [s.starts_at for s in cohort.sessions if s.id != session_id]
    schedule.require_session(starts_at, ends_at, utcnow(), others)
    if cohort.enrolment_closes_at is not None and not others:
        schedule.require_closing(cohort.enrolment_closes_at, starts_at)
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
    """Cancel the cohort: every place, wait and request on it is cancelled, whatever is in
    flight, and each of those learners is emailed once. Returns the enrolments told.
    :raise ProviderError: already cancelled.
    """
    require_staff(user, cohort.course.provider)
    try:
        told = enrolment_services.cancel_places(user, cohort.id, message)
    except enrolment_services.EnrolmentError as error:
        raise ProviderError(error.message) from error
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
    """Everyone on the cohort except those who withdrew (``enrolment.services.roster_rows``)."""
    return enrolment_services.roster_rows(cohort)


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
    # the cohort first, before the place row is written (the order every operation keeps)
    enrolment_services.lock_cohort(cohort.id)
    enrolment = _find(cohort, enrolment_id)
    try:
        if accept:
            enrolment_services.approve_request(enrolment, actor=user)
        else:
            enrolment.decision_message = message
            db.session.flush()
            enrolment_services.decline_request(enrolment, actor=user)
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


def mark(
    user: User,
    cohort: Cohort,
    enrolment_ids: list[int],
    outcome: str,
    note: str = "",
    now: datetime | None = None,
) -> int:
    """Mark learners attended, completed or not completed; returns how many changed.

    Attendance can be marked from the first session's start, completion (or not) from the last
    session's start (``enrolment.services``). A completion becomes a verified learning-record
    entry naming the provider and ``user``; changing a completed learner to not completed
    withdraws it and revokes its credentials (a correction, with who, when and why).
    :raise ProviderError: unknown outcome, nobody chosen, a cancelled cohort or too early.
    """
    require_staff(user, cohort.course.provider)
    if outcome not in MARKS:
        raise ProviderError("Choose attended, completed or did not complete.")
    if not enrolment_ids:
        raise ProviderError("Choose the learners to mark, or tick Everyone with a place.")
    now = now or utcnow()
    rows = db.session.scalars(
        select(Enrolment)
        .where(
            Enrolment.cohort_id == cohort.id,
            Enrolment.id.in_(enrolment_ids),
            Enrolment.status.in_(MARKABLE),
        )
        .options(selectinload(Enrolment.user))
        .order_by(Enrolment.id)
    ).all()
    changed = 0
    try:
        for enrolment in rows:
            if outcome == "attended":
                changed += enrolment_services.mark_attended(user, enrolment, now)
                continue
            was = enrolment_services.record_mark(user, enrolment, outcome, now)
            if was is None:
                continue
            if outcome == "completed":
                completions.record(user, cohort, enrolment, note=note, now=now)
            else:
                completions.withdraw(
                    user, enrolment, note=note or "Marked as not completed.", now=now
                )
            changed += 1
    except enrolment_services.EnrolmentError as error:
        raise ProviderError(error.message) from error
    db.session.flush()
    return changed


def undo_mark(
    user: User, cohort: Cohort, enrolment_id: int, note: str = "", now: datetime | None = None
) -> Enrolment:
    """Undo a completed or not-completed mark within ``enrolment.states.UNDO_DAYS``: the
    learner holds their place again (and sees the joining link), the verified entry is withdrawn
    and its credentials revoked, the learner is emailed and the audit log says who and why.

    :raise ProviderError: not on this cohort, no mark to undo, or the window has passed.
    """
    require_staff(user, cohort.course.provider)
    enrolment = _find(cohort, enrolment_id)
    try:
        was = enrolment_services.undo_mark(user, enrolment, now)
    except enrolment_services.EnrolmentError as error:
        raise ProviderError(error.message) from error
    if was == "completed":
        completions.withdraw(
            user,
            enrolment,
            note=note or "The completion mark was undone.",
            now=now,
            notify=False,  # the undo's own mail (mark_undone) tells the learner
        )
    return enrolment
