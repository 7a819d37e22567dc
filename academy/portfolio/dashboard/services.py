"""What the portfolio dashboard reads from the database: the taxonomy it charts against, the
highest escalator step a learner has reached, and the courses recommended as next steps.

Counting stays in ``regulators.py``; this module only queries, in a fixed number of statements
whatever the size of the portfolio or the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, or_, select, true
from sqlalchemy.orm import aliased, selectinload

from academy.accounts.models import User
from academy.catalogue.models import (
    Cohort,
    Course,
    course_prerequisites,
    course_professions,
    course_sectors,
)
from academy.catalogue.visibility import is_public, next_starts
from academy.enrolment.models import ACTIVE_STATUSES, Enrolment
from academy.extensions import db
from academy.portfolio.models import LearningRecordEntry
from academy.taxonomy.models import Principle, Step

RECOMMENDATIONS = 6


@dataclass(frozen=True)
class Recommendation:
    course: Course
    next_start: datetime | None  # the soonest upcoming cohort's first session, if any


def steps() -> list[Step]:
    """Every escalator step, introductory (0) first."""
    return db.session.scalars(select(Step).order_by(Step.number)).all()


def principles() -> list[Principle]:
    """The charter principles in display order, retired ones included (entries may name them)."""
    return db.session.scalars(select(Principle).order_by(Principle.position, Principle.id)).all()


def highest_step_reached(user: User) -> int | None:
    """The number of the highest step among the courses of the learner's verified entries that
    count (a withdrawn completion does not), or ``None`` when there are none. One query."""
    return db.session.scalar(
        select(func.max(Step.number))
        .join(Course, Course.step_id == Step.id)
        .join(LearningRecordEntry, LearningRecordEntry.course_id == Course.id)
        .where(
            LearningRecordEntry.user_id == user.id,
            LearningRecordEntry.verified.is_(True),
            LearningRecordEntry.withdrawn_at.is_(None),
        )
    )


def _open_to(tag_table, column, term_id: int | None):
    """A course with no terms of a kind is open to all; otherwise it must have ``term_id``."""
    tagged_any = exists().where(tag_table.c.course_id == Course.id)
    if term_id is None:
        return true()
    tagged_with = exists().where(tag_table.c.course_id == Course.id, column == term_id)
    return or_(~tagged_any, tagged_with)


def recommendations(
    user: User, step_number: int, now: datetime, *, limit: int = RECOMMENDATIONS
) -> list[Recommendation]:
    """Published courses on step ``step_number`` that suit the learner, at most ``limit``.

    A course suits them when it is open to their sector and profession (if they gave them; a
    course with no sectors or professions is open to all), they meet its prerequisites (every
    published course it requires is one they completed: the rule enrolment applies, see
    ``enrolment.services.missing_prerequisites``), and they have no place, wait, request or
    completion on it already. Courses with an upcoming cohort come first, soonest first; then
    the others by title. Three queries (the courses, their providers, their delivery modes).
    """
    completed = (
        select(Cohort.course_id)
        .join(Enrolment, Enrolment.cohort_id == Cohort.id)
        .where(Enrolment.user_id == user.id, Enrolment.status == "completed")
    )
    taken = (
        select(Cohort.course_id)
        .join(Enrolment, Enrolment.cohort_id == Cohort.id)
        .where(Enrolment.user_id == user.id, Enrolment.status.in_(ACTIVE_STATUSES))
    )
    required = aliased(Course)
    unmet = (
        select(course_prerequisites.c.course_id)
        .join(required, required.id == course_prerequisites.c.required_course_id)
        .where(required.status == "published", required.id.not_in(completed))
    )
    starts = next_starts(now)
    statement = (
        select(Course, starts.c.next_start)
        .join(Step, Step.id == Course.step_id)
        .outerjoin(starts, starts.c.course_id == Course.id)
        .where(
            is_public(),
            Step.number == step_number,
            Course.id.not_in(taken),
            Course.id.not_in(unmet),
            _open_to(course_sectors, course_sectors.c.sector_id, user.sector_id),
            _open_to(course_professions, course_professions.c.profession_id, user.profession_id),
        )
        .order_by(
            starts.c.next_start.is_(None),
            starts.c.next_start,
            Course.title,
            Course.id,
        )
        .limit(limit)
        .options(selectinload(Course.provider), selectinload(Course.delivery_mode))
    )
    return [Recommendation(course, start) for course, start in db.session.execute(statement)]
