"""The course editor: add, edit, preview, submit for review and archive a course."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from academy.catalogue.models import Course
from academy.catalogue.pages import get_course_preview
from academy.extensions import db
from academy.providers import courses as course_services
from academy.providers import services
from academy.providers.forms import ConfirmForm, CourseForm
from academy.providers.manage.common import bp, course_of, form_status, staff_organisation
from academy.taxonomy.models import TERM_MODELS


def _term_choices(kind: str, keep: list) -> tuple[list, dict]:
    """Choices for one taxonomy list: current values, plus retired ones the course has."""
    model = TERM_MODELS[kind]
    terms = db.session.scalars(select(model).order_by(model.position, model.name)).all()
    kept = {t.id for t in keep if t is not None}
    shown = [t for t in terms if not t.is_retired or t.id in kept]
    return [SelectChoice(t.id, t.name + (" (retired)" if t.is_retired else "")) for t in shown], {
        t.id: t for t in shown
    }


def _course_form(course: Course | None = None) -> tuple[CourseForm, dict, dict]:
    """The editor form with its choices; retired terms are offered only where already chosen."""
    form = CourseForm(obj=course)
    terms = {}
    for kind, name in (
        ("steps", "step"),
        ("delivery_modes", "delivery_mode"),
        ("regions", "region"),
        ("sectors", "sectors"),
        ("professions", "professions"),
        ("principles", "principles"),
    ):
        current = getattr(course, name) if course is not None else None
        keep = current if isinstance(current, list) else [current]
        choices, terms[kind] = _term_choices(kind, keep)
        if name == "step":
            choices = [SelectChoice("", "Choose a step"), *choices]
        elif name in ("delivery_mode", "region"):
            choices = [SelectChoice("", "Not given"), *choices]
        getattr(form, name).choices = choices
    published = db.session.scalars(
        select(Course)
        .where(Course.status == "published", Course.id != (course.id if course else -1))
        .options(selectinload(Course.provider))
        .order_by(Course.title)
    ).all()
    keep_courses = list(course.prerequisites) if course is not None else []
    offered = {c.id: c for c in [*published, *keep_courses]}
    form.prerequisites.choices = [
        SelectChoice(c.id, f"{c.title} ({c.provider.name})")
        for c in sorted(offered.values(), key=lambda c: c.title)
    ]
    if course is not None and request.method == "GET":
        form.step.data = course.step_id
        form.delivery_mode.data = course.delivery_mode_id
        form.region.data = course.region_id
        form.sectors.data = [t.id for t in course.sectors]
        form.professions.data = [t.id for t in course.professions]
        form.principles.data = [t.id for t in course.principles]
        form.prerequisites.data = [c.id for c in course.prerequisites]
        form.fee.data = course.fee_pounds
    return form, terms, offered


def _course_page(form, provider, course, problem=None):
    return render_template(
        "providers/course_form.html",
        form=form,
        provider=provider,
        course=course,
        problem=problem,
    ), form_status(form, problem)


@bp.route("/<slug>/courses/new", methods=["GET", "POST"])
@login_required
def new_course(slug: str):
    provider = staff_organisation(slug)
    form, terms, offered = _course_form()
    if form.validate_on_submit():
        try:
            course = course_services.create_course(
                current_user, provider, form.model_values(terms, offered)
            )
        except services.ProviderError as error:
            db.session.rollback()
            return _course_page(form, provider, None, error.message)
        db.session.commit()
        flash("The course is saved as a draft. Preview it, then submit it for review.", "success")
        return redirect(url_for("manage.course", slug=slug, course_id=course.id), 303)
    return _course_page(form, provider, None)


@bp.get("/<slug>/courses/<int:course_id>")
@login_required
def course(slug: str, course_id: int):
    provider = staff_organisation(slug)
    course = course_of(provider, course_id)
    return render_template(
        "providers/course.html",
        provider=provider,
        course=course,
        confirm=ConfirmForm(),
        changes=course_services.changes_since_approval(course) if course.approved_snapshot else {},
        label=course_services.label,
    )


@bp.route("/<slug>/courses/<int:course_id>/edit", methods=["GET", "POST"])
@login_required
def edit_course(slug: str, course_id: int):
    provider = staff_organisation(slug)
    course = course_of(provider, course_id)
    if course.status == "archived":
        flash("This course is archived, so it can no longer be edited.", "error")
        return redirect(url_for("manage.course", slug=slug, course_id=course_id), 303)
    form, terms, offered = _course_form(course)
    if form.validate_on_submit():
        try:
            changes = course_services.update_course(
                current_user, course, form.model_values(terms, offered)
            )
        except services.ProviderError as error:
            db.session.rollback()
            return _course_page(form, provider, course, error.message)
        db.session.commit()
        if not changes:
            flash("Nothing had changed.", "info")
        elif course.status == "published":
            flash(
                "Saved. The course stays published; the curators will see what changed.", "success"
            )
        else:
            flash("Saved.", "success")
        return redirect(url_for("manage.course", slug=slug, course_id=course_id), 303)
    return _course_page(form, provider, course)


@bp.get("/<slug>/courses/<int:course_id>/preview")
@login_required
def preview_course(slug: str, course_id: int):
    provider = staff_organisation(slug)
    course = course_of(provider, course_id)
    return render_template(
        "catalogue/detail.html", page=get_course_preview(course.id), preview=True
    )


@bp.post("/<slug>/courses/<int:course_id>/submit")
@login_required
def submit_course(slug: str, course_id: int):
    provider = staff_organisation(slug)
    course = course_of(provider, course_id)
    if ConfirmForm().validate_on_submit():
        try:
            course_services.submit_course(current_user, course)
        except services.ProviderError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash("Submitted. A curator will review it; we will show their answer here.", "success")
    return redirect(url_for("manage.course", slug=slug, course_id=course_id), 303)


@bp.route("/<slug>/courses/<int:course_id>/archive", methods=["GET", "POST"])
@login_required
def archive_course(slug: str, course_id: int):
    provider = staff_organisation(slug)
    course = course_of(provider, course_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            course_services.archive_course(current_user, course)
        except services.ProviderError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(
                f"{course.title} is archived. Its cohorts and learners' records are kept.",
                "success",
            )
        return redirect(url_for("manage.course", slug=slug, course_id=course_id), 303)
    return render_template(
        "providers/confirm.html",
        form=form,
        provider=provider,
        heading=f"Archive {course.title}?",
        body="It leaves the catalogue for good and can no longer be edited. Its cohorts,"
        " enrolments and learners' records are kept.",
        submit="Yes, archive it",
        back=url_for("manage.course", slug=slug, course_id=course_id),
    )
