"""The course editor: add, edit, preview, submit for review, withdraw and archive a course.

A published course's edit is kept as its pending edit (``academy.catalogue.states``): the editor
shows and changes the pending version, learners keep the approved one."""

from __future__ import annotations

from types import SimpleNamespace

from flask import flash, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from academy.catalogue import states
from academy.catalogue.models import Course
from academy.catalogue.pages import get_course_preview
from academy.extensions import db
from academy.forms import EmptyForm
from academy.providers import courses as course_services
from academy.providers.forms import CourseForm, RepeatsForm
from academy.providers.manage.common import (
    bp,
    confirm_page,
    course_of,
    form_status,
    staff_course,
    staff_organisation,
    to_course,
)
from academy.providers.review import review_rows
from academy.taxonomy.models import TERM_MODELS
from academy.unit_of_work import attempt


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
    """The editor form with its choices; retired terms are offered only where already chosen.
    For a published course the form starts from its pending edit, if any."""
    shown = (
        SimpleNamespace(**course_services.editor_values(course), id=course.id)
        if course is not None
        else None
    )
    form = CourseForm(obj=shown)
    terms = {}
    for kind, name in (
        ("steps", "step"),
        ("delivery_modes", "delivery_mode"),
        ("regions", "region"),
        ("sectors", "sectors"),
        ("professions", "professions"),
        ("principles", "principles"),
    ):
        current = getattr(shown, name) if shown is not None else None
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
    keep_courses = list(shown.prerequisites) if shown is not None else []
    offered = {c.id: c for c in [*published, *keep_courses]}
    form.prerequisites.choices = [
        SelectChoice(c.id, f"{c.title} ({c.provider.name})")
        for c in sorted(offered.values(), key=lambda c: c.title)
    ]
    if shown is not None and request.method == "GET":
        form.step.data = shown.step.id if shown.step is not None else None
        form.delivery_mode.data = shown.delivery_mode.id if shown.delivery_mode else None
        form.region.data = shown.region.id if shown.region else None
        form.sectors.data = [t.id for t in shown.sectors]
        form.professions.data = [t.id for t in shown.professions]
        form.principles.data = [t.id for t in shown.principles]
        form.prerequisites.data = [c.id for c in shown.prerequisites]
        form.fee.data = shown.fee_pence / 100 if shown.fee_pence is not None else None
    return form, terms, offered


def _course_page(form, provider, course, status=None):
    return render_template(
        "providers/course_form.html",
        form=form,
        provider=provider,
        course=course,
        problem=None,
    ), status or form_status(form, form.form_errors or None)


@bp.route("/<slug>/courses/new", methods=["GET", "POST"])
def new_course(slug: str):
    provider = staff_organisation(slug)
    form, terms, offered = _course_form()
    if form.validate_on_submit():
        with attempt(form):
            course = course_services.create_course(
                current_user, provider, form.model_values(terms, offered)
            )
            flash(
                "The course is saved as a draft. Preview it, then submit it for review.",
                "success",
            )
            return to_course(slug, course.id)
    return _course_page(form, provider, None)


@bp.get("/<slug>/courses/<int:course_id>")
def course(slug: str, course_id: int):
    provider, course = staff_course(slug, course_id)
    waiting = course.awaits_review or course.pending_edit is not None
    return render_template(
        "providers/course.html",
        provider=provider,
        course=course,
        state=course.state_info,
        confirm=EmptyForm(),
        repeats=RepeatsForm(allow_repeats=course.allow_repeats),
        rows=review_rows(course) if waiting or course.status == "rejected" else [],
        is_edit=course.pending_edit is not None,
        can=lambda action: states.allowed(course, action),
    )


@bp.route("/<slug>/courses/<int:course_id>/edit", methods=["GET", "POST"])
def edit_course(slug: str, course_id: int):
    provider, course = staff_course(slug, course_id)
    if not states.allowed(course, "edit"):
        flash(states.REFUSALS["edit"], "error")
        return to_course(slug, course_id)
    form, terms, offered = _course_form(course)
    if form.validate_on_submit():
        with attempt(form):
            changes = course_services.update_course(
                current_user, course, form.model_values(terms, offered)
            )
            if not changes:
                flash("Nothing had changed.", "info")
            elif course.pending_edit is not None:
                flash(
                    "Saved as an edit waiting for review. Learners see the approved version"
                    " until a curator approves it.",
                    "success",
                )
            elif course.status == "published":
                flash("Saved. Your edit gave back the live version, so nothing waits.", "success")
            else:
                flash("Saved.", "success")
            return to_course(slug, course_id)
        course = course_of(provider, course_id)
    return _course_page(form, provider, course)


@bp.get("/<slug>/courses/<int:course_id>/preview")
def preview_course(slug: str, course_id: int):
    _, course = staff_course(slug, course_id)
    edit = request.args.get("version") != "live" and course.pending_edit is not None
    return render_template(
        "catalogue/detail.html",
        page=get_course_preview(course.id, with_pending_edit=edit),
        preview=True,
        preview_edit=edit,
    )


def _act(slug: str, course_id: int, action, done: str):
    """Run a confirmed one-button action on the course, then show the course page again with
    ``done`` or the refusal."""
    _, course = staff_course(slug, course_id)
    with attempt(flash_refusal=True):
        action(current_user, course)
        flash(done, "success")
    return to_course(slug, course_id)


@bp.post("/<slug>/courses/<int:course_id>/submit")
def submit_course(slug: str, course_id: int):
    done = "Submitted. A curator will review it; we will show their answer here and mail you."
    return _act(slug, course_id, course_services.submit_course, done)


@bp.post("/<slug>/courses/<int:course_id>/withdraw")
def withdraw_course(slug: str, course_id: int):
    done = "Withdrawn from review. Nothing of it waits for a curator now."
    return _act(slug, course_id, course_services.withdraw, done)


@bp.route("/<slug>/courses/<int:course_id>/archive", methods=["GET", "POST"])
def archive_course(slug: str, course_id: int):
    provider, course = staff_course(slug, course_id)
    form = EmptyForm()
    if form.validate_on_submit():
        return _act(
            slug,
            course_id,
            course_services.archive_course,
            f"{course.title} is archived. Its cohorts and learners' records are kept.",
        )
    return confirm_page(
        form,
        provider,
        f"Archive {course.title}?",
        "It leaves the catalogue for good and can no longer be edited. Its cohorts,"
        " enrolments and learners' records are kept.",
        "Yes, archive it",
        url_for("manage.course", slug=slug, course_id=course_id),
    )


@bp.post("/<slug>/courses/<int:course_id>/repeats")
def course_repeats(slug: str, course_id: int):
    """Allow or stop repeat places on the course (applies at once; no review)."""
    _, course = staff_course(slug, course_id)
    form = RepeatsForm()
    if form.validate_on_submit():
        allowed = bool(form.allow_repeats.data)
        with attempt(flash_refusal=True):
            changed = course_services.set_allow_repeats(current_user, course, allowed)
            flash(_repeats_message(changed, allowed), "success")
    return to_course(slug, course_id, "#repeats")


def _repeats_message(changed: bool, allowed: bool) -> str:
    if not changed:
        return "Nothing changed."
    if allowed:
        return "Learners may now take this course more than once."
    return "Learners now hold one place on this course at a time."
