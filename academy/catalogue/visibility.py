"""Which courses the public may see. Every public page and (later) search goes through this."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, select

from academy.catalogue.models import Cohort, CohortSession, Course


def is_public() -> ColumnElement[bool]:
    """The condition a course must meet to appear anywhere public: it is published."""
    return Course.status == "published"


def cohort_starts() -> Select:
    """``(cohort_id, course_id, starts_at)``: each cohort's first session start."""
    return (
        select(
            Cohort.id.label("cohort_id"),
            Cohort.course_id.label("course_id"),
            func.min(CohortSession.starts_at).label("starts_at"),
        )
        .join(CohortSession, CohortSession.cohort_id == Cohort.id)
        .where(Cohort.status == "scheduled")
        .group_by(Cohort.id, Cohort.course_id)
    )


def next_starts(now: datetime):
    """A subquery of ``(course_id, next_start)``: the soonest upcoming cohort start per course.

    A cohort is upcoming when its first session has not yet begun; past and running cohorts
    never count.
    """
    starts = cohort_starts().subquery()
    return (
        select(starts.c.course_id, func.min(starts.c.starts_at).label("next_start"))
        .where(starts.c.starts_at > now)
        .group_by(starts.c.course_id)
        .subquery("next_starts")
    )
