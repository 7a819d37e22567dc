"""The course editor: create, edit, submit for review and archive a provider's courses.

A provider never sets a course's status directly: the only ways in are :func:`submit_course`
(to the curators' queue) and :func:`archive_course`; publishing is a curator's act
(``academy.curation.services``). Every edit is written to the audit log with what changed.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from academy import audit
from academy.accounts.models import User
from academy.catalogue.models import Course
from academy.catalogue.slugs import make_unique_slug
from academy.db_types import utcnow
from academy.extensions import db
from academy.providers.models import Provider
from academy.providers.services import ProviderError, require_staff

#: the fields the editor sets, in the order the review diff shows them
EDITABLE = (
    "reference",
    "title",
    "summary",
    "description",
    "who_its_for",
    "entry_requirements",
    "where_next",
    "step",
    "delivery_mode",
    "region",
    "sectors",
    "professions",
    "principles",
    "prerequisites",
    "duration_hours",
    "cpd_hours",
    "credits",
    "credit_level",
    "cost_type",
    "fee_pence",
    "lived_experience_codelivery",
    "external_url",
)
_TERMS = ("step", "delivery_mode", "region")
_LISTS = ("sectors", "professions", "principles", "prerequisites")

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


def snapshot(course: Course) -> dict[str, Any]:
    """The editable fields as plain values (names for terms): what curators compare."""
    values: dict[str, Any] = {}
    for name in EDITABLE:
        value = getattr(course, name)
        if name in _TERMS:
            value = value.name if value is not None else None
        elif name in _LISTS:
            value = sorted(item.title if name == "prerequisites" else item.name for item in value)
        values[name] = value
    return values


def diff(before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, list]:
    """``{field: [before, after]}`` for the fields that differ (everything when no before)."""
    before = before or {}
    return {
        name: [before.get(name), after.get(name)]
        for name in EDITABLE
        if before.get(name) != after.get(name)
    }


def changes_since_approval(course: Course) -> dict[str, list]:
    """What differs from the listing as last approved (all fields for a never-approved one)."""
    approved = json.loads(course.approved_snapshot) if course.approved_snapshot else None
    return diff(approved, snapshot(course))


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
    return list(
        db.session.scalars(
            select(Course)
            .where(Course.provider_id == provider.id)
            .options(selectinload(Course.step), selectinload(Course.cohorts))
            .order_by(Course.title)
        )
    )


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


def update_course(user: User, course: Course, values: dict[str, Any]) -> dict[str, list]:
    """Save the editor's values; returns (and logs) what changed.

    The status never changes here. A published course stays published and joins the curators'
    queue so they see the change. :raise ProviderError: archived course, or reference taken.
    """
    require_staff(user, course.provider)
    if course.status == "archived":
        raise ProviderError("This course is archived, so it can no longer be edited.")
    _check_reference(course.provider, values["reference"], course)
    before = snapshot(course)
    _apply(course, values)
    changes = diff(before, snapshot(course))
    if not changes:
        return changes
    if course.status == "published" and course.review_requested_at is None:
        course.review_requested_at = utcnow()
    db.session.flush()
    audit.record(
        user, "course.edited", f"Edited the course {course.title}", course=course, detail=changes
    )
    return changes


def submit_course(user: User, course: Course) -> Course:
    """Send a draft or rejected course to the curators' queue.

    :raise ProviderError: the course is not a draft or rejected.
    """
    require_staff(user, course.provider)
    if course.status not in ("draft", "rejected"):
        raise ProviderError(
            {
                "submitted": "This course is already waiting for a curator.",
                "published": "This course is already published; edits go to the curators"
                " automatically.",
                "archived": "This course is archived.",
            }[course.status]
        )
    course.status = "submitted"
    course.review_requested_at = utcnow()
    db.session.flush()
    audit.record(user, "course.submitted", f"Submitted {course.title} for review", course=course)
    return course


def archive_course(user: User, course: Course) -> Course:
    """Take the course out of the catalogue for good; its cohorts, enrolments and records stay.

    :raise ProviderError: already archived.
    """
    require_staff(user, course.provider)
    if course.status == "archived":
        raise ProviderError("This course is already archived.")
    was = course.status
    course.status = "archived"
    course.review_requested_at = None
    db.session.flush()
    audit.record(
        user,
        "course.archived",
        f"Archived {course.title}",
        course=course,
        detail={"status": [was, "archived"]},
    )
    return course
