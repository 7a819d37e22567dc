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
from academy.db_types import utcnow
from academy.extensions import db
from academy.providers import notify
from academy.providers.models import Provider
from academy.providers.services import ProviderError, require_staff
from academy.taxonomy.models import DeliveryMode, Principle, Profession, Region, Sector, Step

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
_TERM_MODELS = {
    "step": Step,
    "delivery_mode": DeliveryMode,
    "region": Region,
    "sectors": Sector,
    "professions": Profession,
    "principles": Principle,
    "prerequisites": Course,
}

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


def encode(values: dict[str, Any]) -> dict[str, Any]:
    """Model values (terms and courses as objects) as JSON-able values: ids for terms and
    courses, sorted id lists, no fee unless the cost is a fee. Two encodings are equal exactly
    when the listings are."""
    out: dict[str, Any] = {}
    for name in EDITABLE:
        if name not in values:
            continue
        value = values[name]
        if name in _TERMS:
            value = value.id if value is not None else None
        elif name in _LISTS:
            value = sorted(item.id for item in value)
        out[name] = value
    if out.get("cost_type", "fee") != "fee":
        out["fee_pence"] = None
    return out


def encoded(course: Course) -> dict[str, Any]:
    """``course``'s live listing, encoded (:func:`encode`)."""
    return encode({name: getattr(course, name) for name in EDITABLE})


def _lookup(data: dict[str, Any]) -> dict[str, dict[int, Any]]:
    """The terms and courses ``data`` names, by id: one query per kind it uses."""
    found: dict[str, dict[int, Any]] = {}
    for name, model in _TERM_MODELS.items():
        value = data.get(name)
        ids = [value] if isinstance(value, int) else value if isinstance(value, list) else []
        ids = [i for i in ids if isinstance(i, int)]
        found[name] = (
            {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}
            if ids
            else {}
        )
    return found


def decode(data: dict[str, Any]) -> dict[str, Any]:
    """Encoded values back as model values (terms and courses as objects). A term or course
    that no longer exists is left out of a list (or kept as it is, for a single term)."""
    rows = _lookup(data)
    values: dict[str, Any] = {}
    for name in EDITABLE:
        if name not in data:
            continue
        value = data[name]
        if name in _TERMS:
            if value is None:
                values[name] = None
            elif value in rows[name]:
                values[name] = rows[name][value]
            continue
        if name in _LISTS:
            value = [rows[name][i] for i in value if i in rows[name]]
        values[name] = value
    return values


def named(data: dict[str, Any]) -> dict[str, Any]:
    """Encoded values as a :func:`snapshot` shows them (names for terms, titles for courses),
    with today's names, so a curator's rename is never seen as the provider's change. Names
    already (an approval recorded before ids were kept) are shown as they are."""
    rows = _lookup(data)

    def shown(name: str, item: Any) -> Any:
        if not isinstance(item, int) or isinstance(item, bool):
            return item
        row = rows[name].get(item)
        if row is None:
            return "(no longer listed)"
        return row.title if name == "prerequisites" else row.name

    values: dict[str, Any] = {}
    for name in EDITABLE:
        value = data.get(name)
        if name in _TERMS:
            value = shown(name, value) if value is not None else None
        elif name in _LISTS:
            value = sorted(shown(name, item) for item in value or [])
        values[name] = value
    return values


def pending(course: Course) -> dict[str, Any] | None:
    """The pending edit of a published course, encoded; None when there is none."""
    return json.loads(course.pending_edit) if course.pending_edit else None


def approved(course: Course) -> dict[str, Any] | None:
    """The listing as last approved, encoded (or by names, if approved before ids were kept)."""
    return json.loads(course.approved_snapshot) if course.approved_snapshot else None


def review_pair(course: Course) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """``(before, after)`` as snapshots: what a curator compares, and a provider sees waiting.

    A published course's pending edit against its live version; otherwise the listing against
    its last approval (``before`` is None when it was never approved)."""
    edit = pending(course)
    if edit is not None:
        return snapshot(course), named({**encoded(course), **edit})
    last = approved(course)
    return (named(last) if last is not None else None), snapshot(course)


def changes_since_approval(course: Course) -> dict[str, list]:
    """What the review would change: the pending edit against the live version, or the
    listing against its last approval (all fields for a never-approved one)."""
    before, after = review_pair(course)
    return diff(before, after)


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
