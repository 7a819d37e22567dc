"""Enrolment operations: plain functions that check the rules, change rows and flush.

They never commit: the view (or command) commits once, so an operation and the mail it queues
stand or fall together. Seats are taken with one conditional update of ``cohorts.seats_taken``
(``... WHERE seats_taken < capacity``) whose row count says whether a seat was free; the database
does the counting, so concurrent requests can never overbook, and the unique constraint on
``(user_id, cohort_id)`` stops a learner holding two places.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload, selectinload

from academy.accounts.models import User
from academy.catalogue.models import Cohort, CohortSession, Course
from academy.catalogue.visibility import cohort_starts
from academy.db_types import utcnow
from academy.enrolment.models import ACTIVE_STATUSES, Enrolment
from academy.extensions import db
from academy.mail import outbox
from academy.unit_of_work import DomainError


class EnrolmentError(DomainError):
    """A refusal with a message fit to show the learner; nothing has been changed."""


class NotFound(EnrolmentError):
    pass


class EnrolmentClosed(EnrolmentError):
    pass


class AlreadyEnrolled(EnrolmentError):
    pass


class NotAllowed(EnrolmentError):
    pass


class PrerequisitesMissing(EnrolmentError):
    def __init__(self, missing: list[Course]) -> None:
        names = ", ".join(c.title for c in missing)
        super().__init__(
            f"This course asks that you first complete: {names}. You can request a place and "
            "explain your equivalent experience; the provider will decide."
        )
        self.missing = missing


# ---------------------------------------------------------------------------- reading state


def closes_at(cohort: Cohort) -> datetime | None:
    """When enrolment closes: the cohort's deadline, and never later than its first session."""
    times = [t for t in (cohort.enrolment_closes_at, cohort.starts_at) if t is not None]
    return min(times) if times else None


def is_open(cohort: Cohort, now: datetime | None = None) -> bool:
    deadline = closes_at(cohort)
    return (
        deadline is not None
        and (now or utcnow()) < deadline
        and cohort.course.is_published
        and not cohort.is_cancelled
    )


def completed_course_ids(user: User) -> set[int]:
    return set(
        db.session.scalars(
            select(Cohort.course_id)
            .join(Enrolment, Enrolment.cohort_id == Cohort.id)
            .where(Enrolment.user_id == user.id, Enrolment.status == "completed")
        )
    )


def missing_prerequisites(user: User, course: Course) -> list[Course]:
    """The published courses ``course`` requires that ``user`` has not completed."""
    required = [c for c in course.prerequisites if c.is_published]
    if not required:
        return []
    done = completed_course_ids(user)
    return [c for c in required if c.id not in done]


def enrolments_for(user: User, cohort_ids: list[int]) -> dict[int, Enrolment]:
    """``{cohort_id: enrolment}`` for the user's rows in these cohorts (one query)."""
    if not cohort_ids or not user.is_authenticated:
        return {}
    rows = db.session.scalars(
        select(Enrolment).where(Enrolment.user_id == user.id, Enrolment.cohort_id.in_(cohort_ids))
    )
    return {row.cohort_id: row for row in rows}


def waitlist_positions(enrolment_ids: list[int]) -> dict[int, int]:
    """``{enrolment_id: place in its cohort's waitlist}`` (1 is next), in one query."""
    if not enrolment_ids:
        return {}
    ahead = aliased(Enrolment)
    rows = db.session.execute(
        select(Enrolment.id, func.count(ahead.id))
        .join(
            ahead,
            and_(
                ahead.cohort_id == Enrolment.cohort_id,
                ahead.status == "waitlisted",
                or_(
                    ahead.queued_at < Enrolment.queued_at,
                    and_(ahead.queued_at == Enrolment.queued_at, ahead.id <= Enrolment.id),
                ),
            ),
        )
        .where(Enrolment.id.in_(enrolment_ids), Enrolment.status == "waitlisted")
        .group_by(Enrolment.id)
    ).all()
    return dict(rows)


def get_own_enrolment(user: User, enrolment_id: int) -> Enrolment:
    """The user's own enrolment; :raise NotFound: for anyone else's (so it cannot be probed)."""
    enrolment = db.session.scalar(
        select(Enrolment)
        .where(Enrolment.id == enrolment_id, Enrolment.user_id == user.id)
        .options(
            selectinload(Enrolment.cohort).selectinload(Cohort.sessions),
            selectinload(Enrolment.cohort)
            .selectinload(Cohort.course)
            .selectinload(Course.provider),
        )
    )
    if enrolment is None:
        raise NotFound("There is no such enrolment in your account.")
    return enrolment


def _load_cohort(cohort_id: int) -> Cohort:
    cohort = db.session.scalar(
        select(Cohort)
        .where(Cohort.id == cohort_id)
        .options(
            selectinload(Cohort.sessions),
            selectinload(Cohort.course).selectinload(Course.prerequisites),
        )
    )
    if cohort is None or not cohort.course.is_published:
        raise NotFound("There is no such cohort.")
    return cohort


# ---------------------------------------------------------------------------- seats


def _take_seat(cohort_id: int) -> bool:
    """Take one seat if one is free, atomically; True when taken."""
    result = db.session.execute(
        update(Cohort)
        .where(Cohort.id == cohort_id, Cohort.seats_taken < Cohort.capacity)
        .values(seats_taken=Cohort.seats_taken + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _release_seat(cohort_id: int) -> None:
    db.session.execute(
        update(Cohort)
        .where(Cohort.id == cohort_id, Cohort.seats_taken > 0)
        .values(seats_taken=Cohort.seats_taken - 1)
        .execution_options(synchronize_session=False)
    )


def _move(enrolment: Enrolment, from_statuses: tuple[str, ...], **values) -> bool:
    """Change an enrolment only if it is still in one of ``from_statuses`` (a racing request
    may have moved it); True when this call changed it."""
    result = db.session.execute(
        update(Enrolment)
        .where(Enrolment.id == enrolment.id, Enrolment.status.in_(from_statuses))
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(enrolment)
    return result.rowcount == 1


def promote_waitlisted(cohort: Cohort, now: datetime | None = None) -> list[Enrolment]:
    """Give each free seat to the first learner on the waitlist, and tell them by email.

    Call it after a seat frees (a withdrawal, a raised capacity). Safe when several run at once:
    the seat is taken first, by the conditional update, which also holds the cohort's row until
    commit, so promoters queue behind each other and each then reads the waitlist as the last
    one left it; the learner is moved by a conditional update too, so nobody is promoted twice
    (a learner leaving the waitlist at that moment is skipped and the seat goes to the next).
    """
    now = now or utcnow()
    promoted: list[Enrolment] = []
    waiting = (
        select(Enrolment)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.status == "waitlisted")
        .order_by(Enrolment.queued_at, Enrolment.id)
        .limit(1)
    )
    while db.session.scalar(waiting) is not None:
        if not _take_seat(cohort.id):
            break
        first = db.session.scalar(waiting)
        if first is None:
            _release_seat(cohort.id)
            break
        if not _move(first, ("waitlisted",), status="enrolled", enrolled_at=now):
            _release_seat(cohort.id)
            continue
        promoted.append(first)
        outbox.queue(first.user.email, "promoted", enrolment=first, cohort=first.cohort)
    if promoted:
        db.session.expire(cohort, ["seats_taken"])
    return promoted


# ---------------------------------------------------------------------------- operations


def _start(user: User, cohort: Cohort, now: datetime, status: str, **fields) -> Enrolment:
    """Insert (or reuse a withdrawn or declined) row with ``status`` and return it.

    :raise AlreadyEnrolled: if the learner already holds a row that is active.
    """
    existing = db.session.scalar(
        select(Enrolment).where(Enrolment.user_id == user.id, Enrolment.cohort_id == cohort.id)
    )
    if existing is not None:
        if existing.status in ACTIVE_STATUSES:
            raise AlreadyEnrolled(_already_message(existing))
        values = dict(
            status=status, queued_at=now, withdrawn_at=None, withdrawal_reason="", **fields
        )
        if not _move(existing, ("withdrawn", "declined"), **values):
            raise AlreadyEnrolled("You already have a place or request for this cohort.")
        return existing
    enrolment = Enrolment(user=user, cohort=cohort, status=status, queued_at=now, **fields)
    db.session.add(enrolment)
    try:
        db.session.flush()
    except IntegrityError as error:  # the same learner, twice at once: the constraint decides
        raise AlreadyEnrolled("You already have a place or request for this cohort.") from error
    return enrolment


def _already_message(enrolment: Enrolment) -> str:
    return {
        "enrolled": "You already have a place on this cohort.",
        "waitlisted": "You are already on the waitlist for this cohort.",
        "requested": "You have already asked for a place on this cohort.",
        "completed": "You have already completed this cohort.",
    }.get(enrolment.status, "You already have a place or request for this cohort.")


def enrol(
    user: User, cohort_id: int, *, access_needs: str = "", now: datetime | None = None
) -> Enrolment:
    """Give ``user`` a place on the cohort, or a place on its waitlist when it is full.

    The returned enrolment is ``enrolled`` or ``waitlisted``; a confirmation is queued.
    :raise NotFound: no such public cohort. :raise EnrolmentClosed: past its deadline or start.
    :raise AlreadyEnrolled: the learner already holds a place, a wait or a request.
    :raise PrerequisitesMissing: the learner lacks a required course (they may ``request_place``).
    """
    now = now or utcnow()
    cohort = _load_cohort(cohort_id)
    if not is_open(cohort, now):
        raise EnrolmentClosed(_closed_message(cohort, now))
    missing = missing_prerequisites(user, cohort.course)
    if missing:
        raise PrerequisitesMissing(missing)
    # Anyone already waiting is served before this learner.
    promote_waitlisted(cohort, now)
    enrolment = _start(user, cohort, now, "waitlisted", access_needs=access_needs)
    if _take_seat(cohort.id):
        _move(enrolment, ("waitlisted",), status="enrolled", enrolled_at=now)
        outbox.queue(user.email, "enrolled", enrolment=enrolment, cohort=cohort)
    else:
        position = waitlist_positions([enrolment.id]).get(enrolment.id)
        outbox.queue(
            user.email, "waitlisted", enrolment=enrolment, cohort=cohort, position=position
        )
    db.session.expire(cohort, ["seats_taken"])
    return enrolment


def _closed_message(cohort: Cohort, now: datetime) -> str:
    if cohort.starts_at is not None and cohort.starts_at <= now:
        return "This cohort has already started, so it no longer takes enrolments."
    return "Enrolment for this cohort has closed."


def request_place(
    user: User,
    cohort_id: int,
    *,
    reason: str,
    access_needs: str = "",
    now: datetime | None = None,
) -> Enrolment:
    """Ask for a place without the prerequisites; the provider decides (no seat is held).

    :raise NotAllowed: if the learner has the prerequisites (they should simply enrol).
    Other errors as ``enrol``.
    """
    now = now or utcnow()
    cohort = _load_cohort(cohort_id)
    if not is_open(cohort, now):
        raise EnrolmentClosed(_closed_message(cohort, now))
    if not missing_prerequisites(user, cohort.course):
        raise NotAllowed("You have completed what this course asks for: you can enrol directly.")
    enrolment = _start(
        user, cohort, now, "requested", access_needs=access_needs, request_reason=reason
    )
    outbox.queue(user.email, "requested", enrolment=enrolment, cohort=cohort)
    return enrolment


def approve_request(enrolment: Enrolment, now: datetime | None = None) -> Enrolment:
    """The provider accepts a request: a seat if one is free, else the waitlist.

    :raise NotAllowed: if the enrolment is not a pending request.
    """
    now = now or utcnow()
    if not _move(enrolment, ("requested",), status="waitlisted", queued_at=now):
        raise NotAllowed("That request has already been decided or withdrawn.")
    cohort = enrolment.cohort
    promote_waitlisted(cohort, now)
    return enrolment


def decline_request(enrolment: Enrolment) -> None:
    """:raise NotAllowed: if the enrolment is not a pending request."""
    if not _move(enrolment, ("requested",), status="declined"):
        raise NotAllowed("That request has already been decided or withdrawn.")
    outbox.queue(enrolment.user.email, "declined", enrolment=enrolment, cohort=enrolment.cohort)


def withdraw(
    user: User, enrolment_id: int, *, reason: str = "", now: datetime | None = None
) -> Enrolment:
    """Leave a cohort (until its first session), its waitlist, or withdraw a request.

    A freed seat goes at once to the first learner on the waitlist.
    :raise NotFound: not the user's enrolment. :raise NotAllowed: nothing to withdraw from, or
    the cohort has started.
    """
    now = now or utcnow()
    enrolment = get_own_enrolment(user, enrolment_id)
    cohort = enrolment.cohort
    status = enrolment.status
    if status == "enrolled" and cohort.starts_at is not None and cohort.starts_at <= now:
        raise NotAllowed(
            "This cohort has started, so you can no longer withdraw online. Contact the provider."
        )
    if status not in ("enrolled", "waitlisted", "requested"):
        raise NotAllowed("There is nothing to withdraw from: you are not on this cohort.")
    if not _move(
        enrolment, (status,), status="withdrawn", withdrawn_at=now, withdrawal_reason=reason
    ):
        raise NotAllowed("This place has just changed. Check its state and try again.")
    if status == "enrolled":
        _release_seat(cohort.id)
        promote_waitlisted(cohort, now)
    outbox.queue(user.email, "withdrawn", enrolment=enrolment, cohort=cohort, was=status)
    return enrolment


def release_places(user: User, now: datetime | None = None) -> list[Enrolment]:
    """Give up every place ``user`` holds or waits for on cohorts that have not started.

    Used when an account is deleted: a place held, a waitlist position or a pending request
    on a cohort still to come is withdrawn; a freed seat goes to the next learner on the
    waitlist (who is told, as usual). The learner is not mailed. Places on cohorts that have
    started or finished stay as they are, so providers' records keep their counts.
    """
    now = now or utcnow()
    rows = db.session.scalars(
        select(Enrolment)
        .where(
            Enrolment.user_id == user.id,
            Enrolment.status.in_(("enrolled", "waitlisted", "requested")),
        )
        .options(selectinload(Enrolment.cohort).selectinload(Cohort.sessions))
    ).all()
    released = []
    for enrolment in rows:
        cohort, status = enrolment.cohort, enrolment.status
        if cohort.starts_at is not None and cohort.starts_at <= now:
            continue
        if not _move(enrolment, (status,), status="withdrawn", withdrawn_at=now):
            continue
        released.append(enrolment)
        if status == "enrolled":
            _release_seat(cohort.id)
            promote_waitlisted(cohort, now)
    return released


def update_access_needs(user: User, enrolment_id: int, note: str) -> Enrolment:
    """:raise NotFound: not the user's enrolment."""
    enrolment = get_own_enrolment(user, enrolment_id)
    enrolment.access_needs = note
    db.session.flush()
    return enrolment


def record_completion(enrolment: Enrolment, now: datetime | None = None) -> None:
    """The provider records that the learner completed the cohort.

    :raise NotAllowed: unless the learner holds a place.
    """
    if not _move(enrolment, ("enrolled",), status="completed", completed_at=now or utcnow()):
        raise NotAllowed("Only a learner with a place can complete a cohort.")


def reschedule_session(
    session: CohortSession, starts_at: datetime, ends_at: datetime
) -> list[Enrolment]:
    """Move a session; its calendar SEQUENCE rises and every learner on the cohort is told.

    Returns the enrolments told (places and waitlist).
    """
    session.starts_at = starts_at
    session.ends_at = ends_at
    db.session.flush()
    return _tell_dates_changed(session.cohort, "session_changed", session=session)


def remove_session(session: CohortSession) -> list[Enrolment]:
    """Delete a session; the SEQUENCE of the cohort's other sessions rises and every learner on
    the cohort is told, as when a session moves. Returns the enrolments told (places and
    waitlist). The caller decides whether the session may go.
    """
    cohort = session.cohort
    starts_at, ends_at = session.starts_at, session.ends_at
    cohort.sessions.remove(session)  # delete-orphan: the row goes at the flush
    # Each remaining event's summary ("session 2 of 3") changes; calendar apps keep the copy
    # they have unless the SEQUENCE rises (RFC 5545 3.8.7.4).
    for other in cohort.sessions:
        other.sequence = (other.sequence or 0) + 1
    db.session.flush()
    return _tell_dates_changed(cohort, "session_removed", starts_at=starts_at, ends_at=ends_at)


def _tell_dates_changed(cohort: Cohort, kind: str, **context) -> list[Enrolment]:
    """Queue ``templates/mail/<kind>.txt`` to everyone with a place or on the waitlist of
    ``cohort`` (the mail lists the cohort's dates as they now are); returns them."""
    told = db.session.scalars(
        select(Enrolment)
        .where(
            Enrolment.cohort_id == cohort.id,
            Enrolment.status.in_(("enrolled", "waitlisted")),
        )
        .options(selectinload(Enrolment.user))
    ).all()
    for enrolment in told:
        outbox.queue(enrolment.user.email, kind, enrolment=enrolment, cohort=cohort, **context)
    return list(told)


def notify_cohort_cancelled(cohort: Cohort, message: str = "") -> list[Enrolment]:
    """Tell everyone with a place, a wait or a request that the provider cancelled the cohort.

    Only the mail: the provider issue decides what cancelling does to the cohort's rows.
    """
    told = db.session.scalars(
        select(Enrolment)
        .where(
            Enrolment.cohort_id == cohort.id,
            Enrolment.status.in_(("enrolled", "waitlisted", "requested")),
        )
        .options(selectinload(Enrolment.user))
    ).all()
    for enrolment in told:
        outbox.queue(
            enrolment.user.email,
            "cohort_cancelled",
            enrolment=enrolment,
            cohort=cohort,
            message=message,
        )
    return list(told)


def queue_reminders(days: float, now: datetime | None = None) -> int:
    """Queue one reminder per enrolled learner whose cohort starts within ``days``; returns how
    many. Each enrolment is reminded once (``reminder_sent_at``), however often this runs."""
    now = now or utcnow()
    starts = cohort_starts().subquery()
    due = db.session.scalars(
        select(Enrolment)
        .join(starts, starts.c.cohort_id == Enrolment.cohort_id)
        .where(
            Enrolment.status == "enrolled",
            Enrolment.reminder_sent_at.is_(None),
            starts.c.starts_at > now,
            starts.c.starts_at <= now + timedelta(days=days),
        )
        .options(
            selectinload(Enrolment.user),
            selectinload(Enrolment.cohort).selectinload(Cohort.sessions),
            selectinload(Enrolment.cohort).selectinload(Cohort.course),
        )
    ).all()
    count = 0
    for enrolment in due:
        if _move(enrolment, ("enrolled",), reminder_sent_at=now):
            outbox.queue(
                enrolment.user.email, "reminder", enrolment=enrolment, cohort=enrolment.cohort
            )
            count += 1
    return count


# ---------------------------------------------------------------------------- My learning


@dataclass
class Learning:
    upcoming: list[Enrolment] = field(default_factory=list)
    finished: list[Enrolment] = field(default_factory=list)
    waitlisted: list[Enrolment] = field(default_factory=list)
    requested: list[Enrolment] = field(default_factory=list)
    completed: list[Enrolment] = field(default_factory=list)
    withdrawn: list[Enrolment] = field(default_factory=list)
    positions: dict[int, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any(
            (
                self.upcoming,
                self.finished,
                self.waitlisted,
                self.requested,
                self.completed,
                self.withdrawn,
            )
        )


def my_learning(user: User, now: datetime | None = None) -> Learning:
    """Everything in the learner's account, grouped; a fixed number of queries however many."""
    now = now or utcnow()
    rows = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.user_id == user.id)
        .options(
            # cohort, course and provider joined into the one query; sessions in a second
            joinedload(Enrolment.cohort, innerjoin=True)
            .joinedload(Cohort.course, innerjoin=True)
            .joinedload(Course.provider, innerjoin=True),
            joinedload(Enrolment.cohort, innerjoin=True).selectinload(Cohort.sessions),
        )
        .order_by(Enrolment.queued_at)
    ).all()
    learning = Learning()
    for row in sorted(rows, key=lambda e: e.cohort.starts_at or now):
        if row.status == "enrolled":
            ended = row.cohort.ends_at is not None and row.cohort.ends_at <= now
            (learning.finished if ended else learning.upcoming).append(row)
        elif row.status in ("requested", "declined"):
            learning.requested.append(row)
        elif row.status == "not_completed":
            learning.finished.append(row)
        elif row.status == "cancelled":
            learning.withdrawn.append(row)
        else:
            getattr(learning, row.status).append(row)
    learning.positions = waitlist_positions([e.id for e in learning.waitlisted])
    return learning


def calendar_enrolments(user: User) -> list[Enrolment]:
    """The enrolments a learner's calendar feed shows: places held or completed."""
    return list(
        db.session.scalars(
            select(Enrolment)
            .where(Enrolment.user_id == user.id, Enrolment.status.in_(("enrolled", "completed")))
            .options(
                selectinload(Enrolment.cohort).selectinload(Cohort.sessions),
                selectinload(Enrolment.cohort).selectinload(Cohort.course),
            )
        )
    )


def roster(staff: User, cohort_id: int) -> tuple[Cohort, list[Enrolment]]:
    """A cohort's learners with their access needs, for that provider's staff only.

    :raise NotFound: no such cohort. :raise NotAllowed: not staff of the cohort's provider.
    """
    cohort = db.session.scalar(
        select(Cohort)
        .where(Cohort.id == cohort_id)
        .options(selectinload(Cohort.course), selectinload(Cohort.sessions))
    )
    if cohort is None:
        raise NotFound("There is no such cohort.")
    if not staff.is_staff_of(cohort.course.provider_id):
        raise NotAllowed("Only the provider's staff may see this cohort's learners.")
    rows = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.status != "withdrawn")
        .options(selectinload(Enrolment.user))
        .order_by(Enrolment.status, Enrolment.queued_at, Enrolment.id)
    ).all()
    return cohort, list(rows)
