"""Course browsing, course pages and programmes."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from academy.catalogue import browse as browsing
from academy.catalogue import page_cache
from academy.catalogue.course_page import public_course_page
from academy.catalogue.models import Course, Programme, ProgrammeModule
from academy.catalogue.pages import get_programme
from academy.catalogue.visibility import is_public
from academy.db_types import utcnow
from academy.extensions import db
from academy.urls import path_builder

bp = Blueprint("catalogue", __name__)


def _hello() -> Response:
    """The bare endpoint load tests compare every page with: no database, no template."""
    return Response("hello", mimetype="text/plain")


@bp.record_once
def _benchmark_endpoint(state) -> None:
    """``/_bench/hello`` exists only when the ``BENCHMARK_HELLO`` setting is on (``make load``
    turns it on for its own server); a normal configuration never registers it."""
    if str(state.app.config.get("BENCHMARK_HELLO", "")).lower() in ("1", "true", "yes", "on"):
        state.app.add_url_rule("/_bench/hello", "benchmark_hello", _hello)


@bp.get("/courses")
def course_list():
    # a visitor's page is kept per catalogue stamp and parameters (page_cache.py)
    return page_cache.results_page(request.args, _render_list)


def _render_list(current: tuple | None) -> tuple[str, list[int], list]:
    per_page = current_app.config["COURSES_PER_PAGE"]
    try:
        result, terms = browsing.browse_args(request.args, per_page, current)
    except browsing.PageOutOfRange:
        abort(404)
    html = render_template(
        "catalogue/list.html",
        result=result,
        filters=result.filters,
        terms=terms,
        sorts=browsing.SORTS,
        per_page_choices=browsing.PER_PAGE_CHOICES,
        weeks_choices=browsing.WEEKS_CHOICES,
        course_url=path_builder("catalogue.course_detail", "slug"),
    )
    return html, [course.id for course in result.courses], list(result.next_start.values())


@bp.get("/courses/feed.atom")
def course_feed():
    """An Atom feed of the 50 most recently published courses."""
    courses = db.session.scalars(
        select(Course)
        .where(is_public(), Course.published_at.is_not(None))
        .order_by(Course.published_at.desc(), Course.id.desc())
        .limit(50)
        .options(selectinload(Course.provider), selectinload(Course.step))
    ).all()
    updated = courses[0].published_at if courses else utcnow()
    body = render_template(
        "catalogue/feed.xml",
        courses=courses,
        updated=updated.isoformat().replace("+00:00", "Z"),
    )
    return Response(body, mimetype="application/atom+xml")


@bp.get("/courses/<slug>")
def course_detail(slug: str):
    # plain rows, the listing cached per catalogue stamp (course_page.py), a visitor's HTML per
    # state (page_cache.py); the same template as the ORM page providers preview
    page = public_course_page(slug)
    return page_cache.course_page(
        page.state, lambda: render_template("catalogue/detail.html", page=page)
    )


@bp.get("/programmes")
def programme_list():
    public_modules = (
        select(ProgrammeModule.programme_id, func.count().label("modules"))
        .join(Course, Course.id == ProgrammeModule.course_id)
        .where(is_public())
        .group_by(ProgrammeModule.programme_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Programme, public_modules.c.modules)
        .join(public_modules, public_modules.c.programme_id == Programme.id)
        .order_by(Programme.name)
    ).all()
    return render_template("catalogue/programmes.html", rows=rows)


@bp.get("/programmes/<slug>")
def programme_detail(slug: str):
    programme, modules = get_programme(slug)
    return render_template("catalogue/programme.html", programme=programme, modules=modules)
