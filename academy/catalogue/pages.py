"""Loading single catalogue pages: a course, a programme. Each returns only what is public."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import abort
from sqlalchemy import select, true
from sqlalchemy.orm import joinedload, selectinload

from academy.catalogue.models import Cohort, Course, Programme, ProgrammeModule
from academy.catalogue.versions import decode, pending
from academy.catalogue.visibility import is_public
from academy.db_types import utcnow
from academy.extensions import db


@dataclass
class CoursePage:
    course: Course
    upcoming: list[Cohort]
    past_count: int
    prerequisites: list[Course]
    next_steps: list[Course]
    memberships: list[tuple[ProgrammeModule, int]]


def get_public_course(slug: str, now: datetime | None = None) -> CoursePage:
    """Return everything the course page shows.

    :raise 404: if no published course has this slug.
    """
    return _course_page(Course.slug == slug, now)


def get_public_course_by_id(course_id: int, now: datetime | None = None) -> CoursePage:
    """Like ``get_public_course``, by id. :raise 404: if no published course has this id."""
    if not 0 < course_id < 2**31:
        abort(404)
    return _course_page(Course.id == course_id, now)


class PendingVersion:
    """A published course seen with its pending edit over it, for the provider's preview only.

    It reads the edit's values first and the course's otherwise, and changes nothing: the
    course's live columns (what the public reads) are never touched by a preview.
    """

    def __init__(self, course: Course, values: dict) -> None:
        self._course = course
        self._values = values

    def __getattr__(self, name: str):
        if name in self._values:
            return self._values[name]
        return getattr(self._course, name)

    @property
    def fee_pounds(self) -> float | None:
        return None if self.fee_pence is None else self.fee_pence / 100


def get_course_preview(
    course_id: int, now: datetime | None = None, *, with_pending_edit: bool = False
) -> CoursePage:
    """The course page as learners will see it once published, whatever its status (for its
    provider's staff and curators; the caller checks who may look). ``with_pending_edit`` shows
    a published course's edit waiting for review in place of its live version.

    :raise 404: if there is no such course.
    """
    page = _course_page(Course.id == course_id, now, public=False)
    edit = pending(page.course) if with_pending_edit else None
    if edit:
        values = decode(edit)
        page.course = PendingVersion(page.course, values)  # type: ignore[assignment]
        if "prerequisites" in values:
            page.prerequisites = [c for c in values["prerequisites"] if c.is_published]
    return page


def _course_page(condition, now: datetime | None, *, public: bool = True) -> CoursePage:
    now = now or utcnow()
    course = db.session.scalar(
        select(Course)
        .where(condition, is_public() if public else true())
        .options(
            # many-to-one: joined into the one query; collections: one query each
            joinedload(Course.provider, innerjoin=True),
            joinedload(Course.step, innerjoin=True),
            joinedload(Course.delivery_mode),
            joinedload(Course.region),
            selectinload(Course.sectors),
            selectinload(Course.professions),
            selectinload(Course.principles),
            selectinload(Course.cohorts).selectinload(Cohort.sessions),
            selectinload(Course.prerequisites).options(
                joinedload(Course.step, innerjoin=True),
                joinedload(Course.provider, innerjoin=True),
            ),
            selectinload(Course.next_steps).options(
                joinedload(Course.step, innerjoin=True),
                joinedload(Course.provider, innerjoin=True),
            ),
            selectinload(Course.programme_modules)
            .joinedload(ProgrammeModule.programme, innerjoin=True)
            .selectinload(Programme.modules),
        )
    )
    if course is None:
        abort(404)
    upcoming = sorted(
        (c for c in course.cohorts if c.starts_at and c.starts_at > now and not c.is_cancelled),
        key=lambda c: c.starts_at,
    )
    return CoursePage(
        course=course,
        upcoming=upcoming,
        past_count=sum(1 for c in course.cohorts if c.starts_at and c.starts_at <= now),
        prerequisites=[c for c in course.prerequisites if c.is_published],
        next_steps=[c for c in course.next_steps if c.is_published],
        memberships=[  # by programme name in Python (the relationship has no order of its own)
            (module, len(module.programme.modules))
            for module in sorted(
                course.programme_modules, key=lambda m: (m.programme.name, m.programme.id)
            )
        ],
    )


def get_programme(slug: str) -> tuple[Programme, list[ProgrammeModule]]:
    """Return a programme and its public modules in order.

    :raise 404: if there is no programme with this slug.
    """
    programme = db.session.scalar(
        select(Programme)
        .where(Programme.slug == slug)
        .options(
            selectinload(Programme.provider),
            selectinload(Programme.modules)
            .selectinload(ProgrammeModule.course)
            .selectinload(Course.step),
            selectinload(Programme.modules)
            .selectinload(ProgrammeModule.course)
            .selectinload(Course.provider),
        )
    )
    if programme is None:
        abort(404)
    return programme, [m for m in programme.modules if m.course.is_published]
