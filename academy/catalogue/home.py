"""Home page and the escalator picture (blueprint ``main``, the front door of the catalogue)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from academy.catalogue.models import Course, course_sectors
from academy.catalogue.visibility import is_public
from academy.extensions import db
from academy.taxonomy.models import Sector, Step
from academy.text import clean_parameter

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    per_step = select(Course.step_id, func.count(Course.id)).where(is_public())
    counts = dict(db.session.execute(per_step.group_by(Course.step_id)).all())
    steps = db.session.scalars(select(Step).order_by(Step.number)).all()
    sectors = db.session.scalars(select(Sector).order_by(Sector.position)).all()
    return render_template("main/home.html", steps=steps, counts=counts, sectors=sectors)


@bp.get("/escalator")
def escalator():
    """The steps as a ladder for one sector (or all), with each course's next steps."""
    sectors = db.session.scalars(select(Sector).order_by(Sector.position)).all()
    wanted = clean_parameter(request.args.get("sector", ""), 120)
    sector = next((s for s in sectors if s.slug == wanted), None)
    notice = None
    if wanted and sector is None:
        notice = f"The sector “{wanted[:40]}” is not one we know; showing every sector."

    courses = escalator_courses(sector)
    steps = db.session.scalars(select(Step).order_by(Step.number.desc())).all()
    shown = {course.id for course in courses}
    by_step = {step.id: [c for c in courses if c.step_id == step.id] for step in steps}
    return render_template(
        "main/escalator.html",
        steps=steps,
        by_step=by_step,
        sectors=sectors,
        sector=sector,
        shown=shown,
        notice=notice,
    )


def escalator_courses(sector: Sector | None) -> list[Course]:
    """Public courses by title, for one sector (with those open to every sector) or all, with
    their provider and the links of the escalator graph loaded in a fixed number of queries."""
    statement = (
        select(Course)
        .where(is_public())
        .order_by(Course.title)
        .options(
            selectinload(Course.provider),
            selectinload(Course.next_steps),
            selectinload(Course.prerequisites),
        )
    )
    if sector is not None:
        tagged = select(course_sectors.c.course_id).where(course_sectors.c.sector_id == sector.id)
        any_tag = select(course_sectors.c.course_id)
        statement = statement.where(or_(Course.id.in_(tagged), Course.id.not_in(any_tag)))
    return db.session.scalars(statement).all()
