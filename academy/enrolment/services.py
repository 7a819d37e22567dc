"""Enrolment operations: plain functions that check the rules, change rows and flush.

They never commit: the view (or command) commits once, so an operation and the mail it queues
stand or fall together. Every change of a place's state is one of the transitions in
``academy.enrolment.states`` and leaves an audit entry. Each operation first locks the cohort's
row (:func:`lock_cohort`), so operations on one cohort (enrolments, a cancellation, a capacity
cut) happen one after another and none acts on what another has just changed. Seats are taken
with one conditional update of ``cohorts.seats_taken``
(``... WHERE seats_taken < capacity``) whose row count says whether a seat was free; the database
does the counting, so concurrent requests can never overbook, and the unique constraint on
``(user_id, cohort_id)`` stops a learner holding two places.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, selectinload

from academy import audit
from academy.accounts.models import User
from academy.catalogue.models import Cohort, CohortSession, Course
from academy.catalogue.visibility import cohort_starts
from academy.db_types import utcnow
from academy.enrolment import states
from academy.enrolment.models import Enrolment
from academy.extensions import db
from academy.formatting import format_date, format_time, plural
from academy.mail import outbox
from academy.providers.models import Provider
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


class OtherPlaceHeld(EnrolmentError):
    """The learner holds a place on another cohort of a course taken once; ``other`` is it."""

    def __init__(self, message: str, other: Enrolment) -> None:
        super().__init__(message)
        self.other = other


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


# ---------------------------------------------------------------------------- the cohort lock


def lock_cohort(cohort_id: int) -> Cohort | None:
    """Hold the cohort's row until the transaction ends, and return it as it now is.

    Every change to a cohort's places (enrol, promote, withdraw, mark, cancel, a new capacity)
    starts here, so they happen one after another per cohort, in the order they got the lock,
    and each reads what the one before left. PostgreSQL: ``SELECT ... FOR UPDATE`` on the row.
    SQLite has a single writer: a no-op write takes the database's write lock (the reads after it
    see everything committed before it). The lock always comes first, before any place row, so
    two operations never wait for each other in a circle.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            update(Cohort)
            .where(Cohort.id == cohort_id)
            .values(seats_taken=Cohort.seats_taken)
            .execution_options(synchronize_session=False)
        )
    return db.session.scalar(
        select(Cohort)
        .where(Cohort.id == cohort_id)
        .with_for_update(of=Cohort)
        .execution_options(populate_existing=True)
    )


def _audit(actor: User | None, enrolment: Enrolment, cohort: Cohort, event: str, was, **detail):
    """One audit entry per change of a place's state (``place.<event>``). The summary names the
    place by number, never the learner, so erasing an account leaves nothing naming them."""
    audit.record(
        actor,
        f"place.{event}",
        f"Place {enrolment.id} on {cohort.course.title}: "
        f"{states.label(was) if was else 'no place'} to {states.label(states.target(event))}",
        course=cohort.course,
        detail={"cohort": cohort.id, "enrolment": enrolment.id, "from": was, **detail},
    )


# ---------------------------------------------------------------------------- seats


def _take_seat(cohort_id: int) -> bool:
    """Take one seat if one is free on a cohort that is still scheduled; True when taken."""
    result = db.session.execute(
        update(Cohort)
        .where(
            Cohort.id == cohort_id,
            Cohort.status == "scheduled",
            Cohort.seats_taken < Cohort.capacity,
        )
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


def _transition(
    enrolment: Enrolment, event: str, actor: User | None = None, audit_detail=None, **values
) -> bool:
    """Apply ``event`` of :data:`states.TRANSITIONS` to ``enrolment`` if its state allows it
    (a conditional UPDATE), with an audit entry; True when this call changed it."""
    was = enrolment.status
    cohort = enrolment.cohort
    if not _move(enrolment, states.sources(event), status=states.target(event), **values):
        return False
    _audit(actor, enrolment, cohort, event, was, **(audit_detail or {}))
    return True


def promote_waitlisted(cohort: Cohort, now: datetime | None = None) -> list[Enrolment]:
    """Give each free seat to the first learner on the waitlist, and tell them by email.

    Call it with the cohort locked (:func:`lock_cohort`), after a seat frees (a withdrawal, a
    raised capacity). A cancelled cohort promotes nobody (the seat update refuses it).
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
        if not _transition(first, "promote", enrolled_at=now):
            _release_seat(cohort.id)
            continue
        promoted.append(first)
        outbox.queue(first.user.email, "promoted", enrolment=first, cohort=first.cohort)
    if promoted:
        db.session.expire(cohort, ["seats_taken"])
    return promoted


# ---------------------------------------------------------------------------- operations


def _start(user: User, cohort: Cohort, now: datetime, event: str, **fields) -> Enrolment:
    """Insert (or reuse a withdrawn or declined) row in ``event``'s target state.

    :raise AlreadyEnrolled: if the learner already holds a row that is active or completed.
    """
    existing = db.session.scalar(
        select(Enrolment).where(Enrolment.user_id == user.id, Enrolment.cohort_id == cohort.id)
    )
    status = states.target(event)
    if existing is not None:
        if existing.status in states.BLOCKING or existing.status == "not_completed":
            raise AlreadyEnrolled(_already_message(existing))
        values = dict(
            status=status, queued_at=now, withdrawn_at=None, withdrawal_reason="", **fields
        )
        was = existing.status
        if not _move(existing, ("withdrawn", "declined"), **values):
            raise AlreadyEnrolled("You already have a place or request for this cohort.")
        _audit(user, existing, cohort, event, was)
        return existing
    enrolment = Enrolment(user=user, cohort=cohort, status=status, queued_at=now, **fields)
    db.session.add(enrolment)
    try:
        db.session.flush()
    except IntegrityError as error:  # the same learner, twice at once: the constraint decides
        raise AlreadyEnrolled("You already have a place or request for this cohort.") from error
    _audit(user, enrolment, cohort, event, None)
    return enrolment


def _already_message(enrolment: Enrolment) -> str:
    return {
        "enrolled": "You already have a place on this cohort.",
        "waitlisted": "You are already on the waitlist for this cohort.",
        "requested": "You have already asked for a place on this cohort.",
        "completed": "You have already completed this cohort.",
        "not_completed": "The provider has recorded your result on this cohort.",
    }.get(enrolment.status, "You already have a place or request for this cohort.")


def other_place(user: User, cohort: Cohort) -> Enrolment | None:
    """The learner's active place (or wait, or request, or completion) on another cohort of the
    same course, when the course allows one place per learner; None when they may enrol."""
    if cohort.course.allow_repeats or not user.is_authenticated:
        return None
    return db.session.scalar(
        select(Enrolment)
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .where(
            Enrolment.user_id == user.id,
            Cohort.course_id == cohort.course_id,
            Cohort.id != cohort.id,
            Enrolment.status.in_(states.BLOCKING),
        )
        .order_by(Enrolment.id)
        .limit(1)
    )


def _check_one_place(user: User, cohort: Cohort, moving_from: int | None) -> None:
    other = other_place(user, cohort)
    if other is None or other.id == moving_from:
        return
    if other.status == "completed":
        raise OtherPlaceHeld(
            f"You have already completed {cohort.course.title}, and this course is taken once.",
            other,
        )
    raise OtherPlaceHeld(
        f"You already hold a place on another cohort of {cohort.course.title} "
        f"({states.label(other.status).lower()}). You can move to this cohort instead.",
        other,
    )


def _open_cohort(cohort_id: int, now: datetime) -> Cohort:
    """Lock the cohort and check it takes enrolments. :raise NotFound, EnrolmentClosed:"""
    locked = lock_cohort(cohort_id)
    if locked is None:
        raise NotFound("There is no such cohort.")
    cohort = _load_cohort(cohort_id)
    if cohort.is_cancelled:
        raise EnrolmentClosed("This cohort has been cancelled, so it takes no enrolments.")
    if not is_open(cohort, now):
        raise EnrolmentClosed(_closed_message(cohort, now))
    return cohort


def enrol(
    user: User,
    cohort_id: int,
    *,
    access_needs: str = "",
    now: datetime | None = None,
    moving_from: int | None = None,
) -> Enrolment:
    """Give ``user`` a place on the cohort, or a place on its waitlist when it is full.

    The returned enrolment is ``enrolled`` or ``waitlisted``; a confirmation is queued.
    :raise NotFound: no such public cohort. :raise EnrolmentClosed: past its deadline or start,
    or cancelled. :raise AlreadyEnrolled: the learner already holds a place, a wait or a request.
    :raise OtherPlaceHeld: a place on another cohort of the same course (see :func:`move`).
    :raise PrerequisitesMissing: the learner lacks a required course (they may ``request_place``).
    """
    now = now or utcnow()
    cohort = _open_cohort(cohort_id, now)
    missing = missing_prerequisites(user, cohort.course)
    if missing:
        raise PrerequisitesMissing(missing)
    _check_one_place(user, cohort, moving_from)
    # Anyone already waiting is served before this learner.
    promote_waitlisted(cohort, now)
    enrolment = _start(user, cohort, now, "wait", access_needs=access_needs)
    if _take_seat(cohort.id):
        _transition(enrolment, "promote", user, enrolled_at=now)
        outbox.queue(user.email, "enrolled", enrolment=enrolment, cohort=cohort)
    else:
        position = waitlist_positions([enrolment.id]).get(enrolment.id)
        outbox.queue(
            user.email, "waitlisted", enrolment=enrolment, cohort=cohort, position=position
        )
    db.session.expire(cohort, ["seats_taken"])
    return enrolment


def move(
    user: User, from_enrolment_id: int, to_cohort_id: int, *, now: datetime | None = None
) -> Enrolment:
    """Move the learner's place (or wait) on one cohort of a course to another cohort of it:
    the old one is given up (its seat goes to that waitlist) and the new one taken, or waited
    for when full, in one transaction. :raise NotAllowed: the old place cannot be given up
    (started, or not a place). Other errors as :func:`enrol` (then nothing changes).
    """
    now = now or utcnow()
    old = get_own_enrolment(user, from_enrolment_id)
    if old.cohort_id == to_cohort_id:
        raise NotAllowed("That is the cohort you are already on.")
    target = db.session.get(Cohort, to_cohort_id)
    if target is None or target.course_id != old.cohort.course_id:
        raise NotFound("There is no such cohort of this course.")
    # lock both cohorts in id order, so two moves in opposite directions cannot deadlock
    for cohort_id in sorted((old.cohort_id, to_cohort_id)):
        lock_cohort(cohort_id)
    db.session.refresh(old)
    was = old.status
    if was not in states.sources("move"):
        raise NotAllowed("Only a place or a waitlist position can be moved.")
    if was == "enrolled" and old.cohort.starts_at is not None and old.cohort.starts_at <= now:
        raise NotAllowed("Your cohort has started, so your place can no longer be moved.")
    new = enrol(user, to_cohort_id, access_needs=old.access_needs, now=now, moving_from=old.id)
    if not _transition(
        old, "move", user, audit_detail={"to_cohort": to_cohort_id},
        withdrawn_at=now, withdrawal_reason="Moved to another cohort",
    ):  # fmt: skip
        raise NotAllowed("This place has just changed. Check its state and try again.")
    if was == "enrolled":
        _release_seat(old.cohort_id)
        promote_waitlisted(old.cohort, now)
    return new


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
    cohort = _open_cohort(cohort_id, now)
    if not missing_prerequisites(user, cohort.course):
        raise NotAllowed("You have completed what this course asks for: you can enrol directly.")
    _check_one_place(user, cohort, None)
    enrolment = _start(
        user, cohort, now, "request", access_needs=access_needs, request_reason=reason
    )
    outbox.queue(user.email, "requested", enrolment=enrolment, cohort=cohort)
    return enrolment


def approve_request(
    enrolment: Enrolment, now: datetime | None = None, actor: User | None = None
) -> Enrolment:
    """The provider accepts a request: a seat if one is free, else the waitlist.

    :raise NotAllowed: not a pending request, or the cohort is cancelled.
    """
    now = now or utcnow()
    cohort = lock_cohort(enrolment.cohort_id)
    if cohort is None or cohort.is_cancelled:
        raise NotAllowed("This cohort is cancelled, so it takes no one.")
    if not _transition(enrolment, "approve", actor, queued_at=now):
        raise NotAllowed("That request has already been decided or withdrawn.")
    promote_waitlisted(cohort, now)
    return enrolment


def decline_request(enrolment: Enrolment, actor: User | None = None) -> None:
    """:raise NotAllowed: if the enrolment is not a pending request."""
    lock_cohort(enrolment.cohort_id)
    if not _transition(enrolment, "decline", actor):
        raise NotAllowed("That request has already been decided or withdrawn.")
    outbox.queue(enrolment.user.email, "declined", enrolment=enrolment, cohort=enrolment.cohort)


def withdraw_outcome(enrolment: Enrolment) -> str:
    """What withdrawing would do, in words for the confirm page (read before the change)."""
    if enrolment.status == "waitlisted":
        return "You leave the waitlist. Nobody else's position changes except to move up."
    if enrolment.status == "requested":
        return "Your request is withdrawn; the provider will not decide on it."
    waiting = db.session.scalar(
        select(func.count(Enrolment.id)).where(
            Enrolment.cohort_id == enrolment.cohort_id, Enrolment.status == "waitlisted"
        )
    )
    if waiting:
        return "You give up your place. It goes at once to the first person on the waitlist."
    return "You give up your place. Nobody is waiting, so it becomes free for anyone to take."


def withdraw(
    user: User, enrolment_id: int, *, reason: str = "", now: datetime | None = None
) -> tuple[Enrolment, list[Enrolment]]:
    """Leave a cohort (until its first session), its waitlist, or withdraw a request.

    A freed seat goes at once to the first learner on the waitlist. Returns the enrolment and
    the learners promoted (none when nobody was waiting).
    :raise NotFound: not the user's enrolment. :raise NotAllowed: nothing to withdraw from, or
    the cohort has started.
    """
    now = now or utcnow()
    enrolment = get_own_enrolment(user, enrolment_id)
    cohort = lock_cohort(enrolment.cohort_id)
    db.session.refresh(enrolment)
    status = enrolment.status
    if status == "enrolled" and cohort.starts_at is not None and cohort.starts_at <= now:
        raise NotAllowed(
            "This cohort has started, so you can no longer withdraw online. Contact the provider."
        )
    if status not in states.sources("withdraw"):
        raise NotAllowed("There is nothing to withdraw from: you are not on this cohort.")
    if not _transition(enrolment, "withdraw", user, withdrawn_at=now, withdrawal_reason=reason):
        raise NotAllowed("This place has just changed. Check its state and try again.")
    promoted: list[Enrolment] = []
    if status == "enrolled":
        _release_seat(cohort.id)
        promoted = promote_waitlisted(cohort, now)
    outbox.queue(
        user.email, "withdrawn", enrolment=enrolment, cohort=cohort, was=status,
        promoted=bool(promoted),
    )  # fmt: skip
    return enrolment, promoted


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
        .where(Enrolment.user_id == user.id, Enrolment.status.in_(states.sources("release")))
        .options(selectinload(Enrolment.cohort).selectinload(Cohort.sessions))
        .order_by(Enrolment.cohort_id)
    ).all()
    released = []
    for enrolment in rows:
        cohort, status = lock_cohort(enrolment.cohort_id), enrolment.status
        if cohort.starts_at is not None and cohort.starts_at <= now:
            continue
        if not _transition(enrolment, "release", None, withdrawn_at=now):
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


# ---------------------------------------------------------------------------- marks


def attendance_opens(cohort: Cohort) -> datetime | None:
    """Attendance may be marked from the start of the first session."""
    return cohort.starts_at


def completion_opens(cohort: Cohort) -> datetime | None:
    """Completion (or not) may be marked from the start of the last session."""
    return max((s.starts_at for s in cohort.sessions), default=None)


def undo_deadline(enrolment: Enrolment) -> datetime | None:
    """Until when a completion mark on ``enrolment`` may be undone (``states.UNDO_DAYS``)."""
    if enrolment.marked_at is None:
        return None
    return enrolment.marked_at + timedelta(days=states.UNDO_DAYS)


def _check_markable(cohort: Cohort, outcome: str, now: datetime) -> None:
    if cohort.is_cancelled:
        raise NotAllowed("This cohort is cancelled, so nobody on it can be marked.")
    if outcome == "attended":
        opens = attendance_opens(cohort)
        if opens is None or now < opens:
            raise NotAllowed(
                f"Attendance can be marked from the first session, {format_date(opens)}."
            )
        return
    opens = completion_opens(cohort)
    if opens is None or now < opens:
        raise NotAllowed(
            "Completion can be marked once the last session has started, on "
            f"{format_date(opens)} at {format_time(opens)}."
        )


def mark_attended(actor: User, enrolment: Enrolment, now: datetime | None = None) -> bool:
    """Record that the learner attended (from the first session on); False if already marked.
    :raise NotAllowed: cancelled, or before the first session."""
    now = now or utcnow()
    cohort = lock_cohort(enrolment.cohort_id)
    _check_markable(cohort, "attended", now)
    if enrolment.attended_at is not None or enrolment.status not in states.SEAT_STATES:
        return False
    enrolment.attended_at = now
    db.session.flush()
    return True


def record_mark(
    actor: User, enrolment: Enrolment, outcome: str, now: datetime | None = None
) -> str | None:
    """Mark the learner ``completed`` or ``not_completed`` (a correction from the other mark
    too). Returns the state it was in, or None when it was already so marked.

    The learner is not emailed here: the caller adds or withdraws the verified entry first.
    :raise NotAllowed: the cohort is cancelled, its last session has not started, or the learner
    holds no place.
    """
    now = now or utcnow()
    cohort = lock_cohort(enrolment.cohort_id)
    _check_markable(cohort, outcome, now)
    event = {"completed": "complete", "not_completed": "not_complete"}[outcome]
    db.session.refresh(enrolment)
    was = enrolment.status
    if was == outcome:
        return None
    if not _transition(
        enrolment, event, actor, marked_at=now,
        completed_at=now if outcome == "completed" else None,
    ):  # fmt: skip
        raise NotAllowed(f"{enrolment.user.name} holds no place on this cohort to mark.")
    return was


def undo_mark(actor: User, enrolment: Enrolment, now: datetime | None = None) -> str:
    """Put a learner marked completed or not completed back to holding a place, within
    ``states.UNDO_DAYS`` of the mark; the learner is emailed. Returns the mark undone.

    :raise NotAllowed: no mark to undo, or the window has passed.
    """
    now = now or utcnow()
    lock_cohort(enrolment.cohort_id)
    db.session.refresh(enrolment)
    was = enrolment.status
    if was not in states.sources("undo"):
        raise NotAllowed(f"{enrolment.user.name} has no completion mark to undo.")
    deadline = undo_deadline(enrolment)
    if deadline is not None and now > deadline:
        raise NotAllowed(
            f"A mark can be undone for {states.UNDO_DAYS} days; this one was made on "
            f"{format_date(enrolment.marked_at)}. Record a correction instead."
        )
    if not _transition(enrolment, "undo", actor, completed_at=None, marked_at=None):
        raise NotAllowed("This place has just changed. Check its state and try again.")
    outbox.queue(
        enrolment.user.email, "mark_undone", enrolment=enrolment, cohort=enrolment.cohort, was=was
    )
    return was


# ---------------------------------------------------------------------------- cohort-wide


def cancel_places(actor: User, cohort_id: int, message: str = "") -> list[Enrolment]:
    """Cancel the cohort: it becomes ``cancelled`` and every place, wait and request on it is
    cancelled, whatever was in flight; each of those learners is mailed once. Returns them.

    Decided by the database: the cohort's row is locked first (:func:`lock_cohort`), so an
    enrolment racing this either finished before it (and is cancelled here) or runs after it
    (and finds the cohort cancelled). :raise NotAllowed: already cancelled.
    """
    cohort = lock_cohort(cohort_id)
    if cohort is None:
        raise NotFound("There is no such cohort.")
    if cohort.is_cancelled:
        raise NotAllowed("This cohort is already cancelled.")
    now = utcnow()
    told = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.status.in_(states.sources("cancel")))
        .options(selectinload(Enrolment.user))
        .order_by(Enrolment.id)
    ).all()
    seats = 0
    for enrolment in told:
        was = enrolment.status
        if _transition(enrolment, "cancel", actor, withdrawn_at=now):
            seats += was in states.SEAT_STATES
    db.session.execute(
        update(Cohort)
        .where(Cohort.id == cohort.id)
        .values(status="cancelled", cancelled_at=now, seats_taken=Cohort.seats_taken - seats)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(cohort)
    for enrolment in told:
        outbox.queue(
            enrolment.user.email, "cohort_cancelled", enrolment=enrolment, cohort=cohort,
            message=message,
        )  # fmt: skip
    return told


def change_capacity(cohort: Cohort, capacity: int) -> list[Enrolment]:
    """Set the cohort's number of places; never below the places taken. Raising it gives the
    new places to the waitlist at once; returns the learners promoted.

    :raise NotAllowed: fewer places than are taken, or a cancelled cohort.
    """
    locked = lock_cohort(cohort.id)
    if locked.is_cancelled:
        raise NotAllowed("This cohort is cancelled.")
    if locked.seats_taken > capacity:
        raise NotAllowed(
            f"{plural(locked.seats_taken, 'place')} already taken, so the capacity cannot be"
            f" less than {locked.seats_taken}."
        )
    locked.capacity = capacity
    db.session.flush()
    return promote_waitlisted(locked)


def record_completion(enrolment: Enrolment, now: datetime | None = None) -> None:
    """Mark a learner with a place completed, without the timing rule (seeding and imports of
    past cohorts only; providers use :func:`record_mark`). :raise NotAllowed: no place."""
    now = now or utcnow()
    if not _transition(enrolment, "complete", None, completed_at=now, marked_at=now):
        raise NotAllowed("Only a learner with a place can complete a cohort.")


# ---------------------------------------------------------------------------- dates


def reschedule_session(
    session: CohortSession, starts_at: datetime, ends_at: datetime
) -> list[Enrolment]:
    """Move a session; its calendar SEQUENCE rises and every learner on the cohort is told.

    Returns the enrolments told (places and waitlist). The cohort is locked first, so a learner
    enrolling meanwhile is either told here or mailed the new dates with their place.
    """
    lock_cohort(session.cohort_id)
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
    lock_cohort(cohort.id)
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


@dataclass(frozen=True, slots=True)
class Place:
    """One of a learner's enrolments as My learning shows it: a plain row (the enrolment's own
    fields, its cohort's place and dates, its course and provider), not an ORM object."""

    id: int
    status: str
    completed_at: datetime | None
    withdrawn_at: datetime | None
    is_online: bool
    location: str | None
    #: the cohort's first session start and last session end (None without sessions)
    starts_at: datetime | None
    ends_at: datetime | None
    course_title: str
    course_slug: str
    provider_name: str


@dataclass
class Learning:
    upcoming: list[Place] = field(default_factory=list)
    finished: list[Place] = field(default_factory=list)
    waitlisted: list[Place] = field(default_factory=list)
    requested: list[Place] = field(default_factory=list)
    completed: list[Place] = field(default_factory=list)
    withdrawn: list[Place] = field(default_factory=list)
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
    """Everything in the learner's account, grouped, as plain rows: one query for the places
    (with their cohorts' dates, courses and providers), and one more for waitlist positions
    when the learner is on a waitlist, however many places."""
    now = now or utcnow()
    rows = [Place(*row) for row in db.session.execute(_places_statement(), {"user_id": user.id})]
    learning = Learning()
    for row in sorted(rows, key=lambda place: place.starts_at or now):
        if row.status == "enrolled":
            ended = row.ends_at is not None and row.ends_at <= now
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


@cache
def _places_statement():
    """``my_learning``'s statement, in :class:`Place`'s order, oldest request first (built
    once: only its parameter, ``user_id``, changes)."""
    first_start = (
        select(func.min(CohortSession.starts_at))
        .where(CohortSession.cohort_id == Cohort.id)
        .scalar_subquery()
    )
    last_end = (
        select(func.max(CohortSession.ends_at))
        .where(CohortSession.cohort_id == Cohort.id)
        .scalar_subquery()
    )
    return (
        select(
            Enrolment.id, Enrolment.status, Enrolment.completed_at, Enrolment.withdrawn_at,
            Cohort.is_online, Cohort.location, first_start, last_end,
            Course.title, Course.slug, Provider.name,
        )
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .join(Course, Course.id == Cohort.course_id)
        .join(Provider, Provider.id == Course.provider_id)
        .where(Enrolment.user_id == bindparam("user_id"))
        .order_by(Enrolment.queued_at)
    )  # fmt: skip


def calendar_enrolments(user: User) -> list[Enrolment]:
    """The enrolments a learner's calendar feed shows: places held or completed."""
    return db.session.scalars(
        select(Enrolment)
        .where(Enrolment.user_id == user.id, Enrolment.status.in_(("enrolled", "completed")))
        .options(
            selectinload(Enrolment.cohort).selectinload(Cohort.sessions),
            selectinload(Enrolment.cohort).selectinload(Cohort.course),
        )
    ).all()


def roster_rows(cohort: Cohort) -> list[Enrolment]:
    """The one roster query: everyone on the cohort except those who withdrew, with their
    users, by state then queue order (one query). Who may see it is the caller's rule."""
    return db.session.scalars(
        select(Enrolment)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.status != "withdrawn")
        .options(selectinload(Enrolment.user))
        .order_by(Enrolment.status, Enrolment.queued_at, Enrolment.id)
    ).all()
