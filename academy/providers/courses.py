"""The course editor: create, edit, submit for review and archive a provider's courses.

A provider never sets a course's status directly: the only ways in are :func:`submit_course`
(to the curators' queue), :func:`withdraw` and :func:`archive_course`; publishing is a curator's
act (``academy.curation.services``). The moves allowed in each state are in
``academy.catalogue.states``. An edit of a published course is kept as its pending edit
(:func:`encode`, ids for terms and courses) and the live columns stay as approved. Every edit is
written to the audit log with what changed.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from academy import audit
from academy.accounts.models import User
from academy.catalogue import states
from academy.catalogue.models import Course
from academy.catalogue.slugs import make_unique_slug
from academy.catalogue.versions import (  # noqa: F401  (this module's public face too)
    EDITABLE,
    approved,
    changes_since_approval,
    decode,
    diff,
    encode,
    encoded,
    named,
    pending,
    review_pair,
    snapshot,
)
from academy.db_types import utcnow
from academy.extensions import db
from academy.providers import notify
from academy.providers.models import Provider
from academy.providers.services import ProviderError, require_staff

LABELS = {
    "who_its_for": "Who it's for",
    "entry_requirements": "Entry requirements",
    "where_next": "Where next",
    "delivery_mode": "Delivery mode",
    "duration_hours": "Duration",
    "cpd_hours": "CPD",
    "credit_level": "Credit level",
    "cost_type": "Cost",
    "fee_pence": "Fee",
    "lived_experience_codelivery": "Co-delivered with lived experience",
    "external_url": "Web page",
}


def label(name: str) -> str:
    """The field's name as the editor and the review page show it."""
    return LABELS.get(name, name.replace("_", " ").capitalize())


class CourseNotFound(ProviderError):
    pass


def get_course(user: User, provider: Provider, course_id: int) -> Course:
    """One of ``provider``'s courses, for its staff.

    :raise NotMember: not staff. :raise CourseNotFound: no such course *of this provider* (a
    course id of another organisation is not found here, so it can be neither seen nor changed).
    """
    require_staff(user, provider)
    course = db.session.scalar(
        select(Course)
        .where(Course.id == course_id, Course.provider_id == provider.id)
        .options(
            selectinload(Course.sectors),
            selectinload(Course.professions),
            selectinload(Course.principles),
            selectinload(Course.prerequisites),
        )
    )
    if course is None:
        raise CourseNotFound("This organisation has no such course.")
    return course


def provider_courses(provider: Provider) -> list[Course]:
    return db.session.scalars(
        select(Course)
        .where(Course.provider_id == provider.id)
        .options(selectinload(Course.step), selectinload(Course.cohorts))
        .order_by(Course.title)
    ).all()


def _check_reference(provider: Provider, reference: str, course: Course | None) -> None:
    clash = db.session.scalar(
        select(Course.id).where(
            Course.provider_id == provider.id,
            Course.reference == reference,
            Course.id != (course.id if course is not None else -1),
        )
    )
    if clash is not None:
        raise ProviderError(
            f'Another of your courses already has the reference "{reference}". Each course'
            " needs its own."
        )


def _apply(course: Course, values: dict[str, Any]) -> None:
    for name in EDITABLE:
        if name in values:
            setattr(course, name, values[name])
    if course.cost_type != "fee":
        course.fee_pence = None


def create_course(user: User, provider: Provider, values: dict[str, Any]) -> Course:
    """Add a draft course. ``values`` holds model values for :data:`EDITABLE` (terms and
    courses as objects); anything else in it, such as a status, is ignored.

    :raise NotMember: not staff. :raise ProviderError: the reference is taken.
    """
    require_staff(user, provider)
    _check_reference(provider, values["reference"], None)
    taken = set(db.session.scalars(select(Course.slug)))
    course = Course(
        provider=provider,
        slug=make_unique_slug(values["title"], taken),
        status="draft",
    )
    _apply(course, values)
    db.session.add(course)
    db.session.flush()
    audit.record(
        user,
        "course.created",
        f"Created the course {course.title}",
        course=course,
        detail=diff(None, snapshot(course)),
    )
    return course


def _shown_version(course: Course) -> dict[str, Any]:
    """What the provider's editor shows: the pending edit if there is one, else the columns."""
    edit = pending(course)
    return {**encoded(course), **edit} if edit is not None else encoded(course)


def editor_values(course: Course) -> dict[str, Any]:
    """Model values for the editor form: the pending edit over the live course."""
    edit = pending(course)
    values = {name: getattr(course, name) for name in EDITABLE}
    if edit is not None:
        values.update(decode(edit))
    return values


def update_course(user: User, course: Course, values: dict[str, Any]) -> dict[str, list]:
    """Save the editor's values; returns (and logs) what changed.

    The status never changes here. For a published course, the reviewed fields
    (``states.REVIEWED_FIELDS``) are kept as its pending edit and the course joins the
    curators' queue; learners keep the approved version. An edit that gives back the live
    version withdraws the pending one. Other courses are changed in place.

    :raise ProviderError: archived course, or reference taken.
    """
    require_staff(user, course.provider)
    if not states.allowed(course, "edit"):
        raise ProviderError(states.REFUSALS["edit"])
    _check_reference(course.provider, values["reference"], course)
    if course.status != "published":
        before = snapshot(course)
        _apply(course, values)
        changes = diff(before, snapshot(course))
    else:
        shown_before = _shown_version(course)
        course.reference = values["reference"]
        live = encoded(course)
        new = encode({k: v for k, v in values.items() if k in states.REVIEWED_FIELDS})
        edit = {k: v for k, v in new.items() if live.get(k) != v}
        changes = diff(named(shown_before), named({**live, **new}))
        if not changes:
            return changes
        if not edit:
            course.pending_edit = None
            course.review_requested_at = None
            course.rejection_reason = ""
        else:
            course.pending_edit = json.dumps(edit, sort_keys=True)
            if course.review_requested_at is None:
                course.review_requested_at = utcnow()
                db.session.flush()
                notify.submission_waiting(course)
    if not changes:
        return changes
    db.session.flush()
    audit.record(
        user, "course.edited", f"Edited the course {course.title}", course=course, detail=changes
    )
    return changes


def withdraw(user: User, course: Course) -> Course:
    """Take back what waits for review: a published course's edit is dropped (learners keep
    the live version), a submitted course goes back to draft.

    :raise ProviderError: nothing of this course waits for review.
    """
    require_staff(user, course.provider)
    if not states.allowed(course, "withdraw"):
        raise ProviderError(states.REFUSALS["withdraw"])
    if course.status == "submitted":
        course.status = "draft"
    else:  # a published course's edit: what the curators said of it goes with it
        course.rejection_reason = ""
    course.pending_edit = None
    course.review_requested_at = None
    db.session.flush()
    audit.record(user, "course.withdrawn", f"Withdrew {course.title} from review", course=course)
    return course


def submit_course(user: User, course: Course) -> Course:
    """Send a draft or rejected course (or a published course's refused edit, again) to the
    curators' queue.

    :raise ProviderError: nothing to submit in this state (``states.TRANSITIONS``).
    """
    require_staff(user, course.provider)
    if not states.allowed(course, "submit"):
        raise ProviderError(
            {
                "submitted": "This course is already waiting for a curator.",
                "edit_pending": "Your edit is already waiting for a curator.",
                "published": "This course is already published; an edit goes to the curators"
                " when you save it.",
                "archived": "This course is archived.",
            }[course.state]
        )
    if course.status != "published":
        course.status = "submitted"
    course.review_requested_at = utcnow()
    db.session.flush()
    notify.submission_waiting(course)
    audit.record(user, "course.submitted", f"Submitted {course.title} for review", course=course)
    return course


def archive_course(user: User, course: Course) -> Course:
    """Take the course out of the catalogue for good; its cohorts, enrolments and records stay.

    :raise ProviderError: already archived.
    """
    require_staff(user, course.provider)
    if not states.allowed(course, "archive"):
        raise ProviderError(states.REFUSALS["archive"])
    was = course.status
    course.status = "archived"
    course.review_requested_at = None
    course.pending_edit = None
    db.session.flush()
    audit.record(
        user,
        "course.archived",
        f"Archived {course.title}",
        course=course,
        detail={"status": [was, "archived"]},
    )
    return course


def set_allow_repeats(user: User, course: Course, allowed: bool) -> bool:
    """Let learners hold a place on more than one cohort of ``course`` (a course meant to be
    taken again), or not. Applies at once, without review: it is about places, not the listing.
    Returns whether anything changed; audited. Flushes.

    :raise ProviderError: not this provider's staff, or the course is archived.
    """
    require_staff(user, course.provider)
    if course.status == "archived":
        raise ProviderError("This course is archived, so its places can no longer change.")
    if course.allow_repeats == allowed:
        return False
    course.allow_repeats = allowed
    db.session.flush()
    audit.record(
        user,
        "course.repeats",
        f"{'Allowed' if allowed else 'Stopped'} repeat places on {course.title}",
        course=course,
        detail={"allow_repeats": [not allowed, allowed]},
    )
    return True
