"""Curator screens: the review queue, a course's review, providers to verify, the taxonomy,
the audit log. Curators only (403 for everyone else, anonymous visitors log in first)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from academy import params
from academy.accounts.models import User
from academy.accounts.security import curator_required
from academy.audit import AuditEntry
from academy.catalogue.models import Course
from academy.curation import services
from academy.curation.review import review_rows
from academy.extensions import db
from academy.providers.forms import ConfirmForm, ReasonForm, TermForm
from academy.providers.models import Provider
from academy.taxonomy.models import TERM_MODELS

bp = Blueprint("curation", __name__, url_prefix="/curation")


def _course_or_404(course_id: int) -> Course:
    course = db.session.scalar(
        select(Course)
        .where(Course.id == course_id)
        .options(
            selectinload(Course.provider),
            selectinload(Course.sectors),
            selectinload(Course.professions),
            selectinload(Course.principles),
            selectinload(Course.prerequisites),
        )
    )
    if course is None:
        abort(404)
    return course


@bp.get("")
@curator_required
def queue():
    return render_template("curation/queue.html", courses=services.review_queue())


@bp.get("/courses/<int:course_id>")
@curator_required
def review(course_id: int):
    course = _course_or_404(course_id)
    return _review_page(course, ReasonForm(formdata=None))


def _review_page(course, reason_form, status=200):
    return render_template(
        "curation/review.html",
        course=course,
        rows=review_rows(course),
        first_review=course.approved_snapshot is None,
        approval=services.last_approval(course),
        form=reason_form,
        confirm=ConfirmForm(),
    ), status


@bp.post("/courses/<int:course_id>/approve")
@curator_required
def approve(course_id: int):
    course = _course_or_404(course_id)
    if ConfirmForm().validate_on_submit():
        try:
            services.approve(current_user, course)
        except services.CurationError as error:
            db.session.rollback()
            flash(error.message, "error")
            return redirect(url_for("curation.review", course_id=course_id), 303)
        db.session.commit()
        flash(f"{course.title} is published.", "success")
    return redirect(url_for("curation.queue"), 303)


@bp.post("/courses/<int:course_id>/reject")
@curator_required
def reject(course_id: int):
    return _with_reason(course_id, services.reject, "is sent back to the provider")


@bp.post("/courses/<int:course_id>/unpublish")
@curator_required
def unpublish(course_id: int):
    return _with_reason(course_id, services.unpublish, "is no longer public")


def _with_reason(course_id: int, action, done: str):
    course = _course_or_404(course_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _review_page(course, form, 422)
    try:
        action(current_user, course, form.reason.data)
    except services.CurationError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("curation.review", course_id=course_id), 303)
    db.session.commit()
    flash(f"{course.title} {done}, with your reason.", "success")
    return redirect(url_for("curation.queue"), 303)


@bp.get("/providers")
@curator_required
def providers():
    return render_template(
        "curation/providers.html", rows=services.providers_for_curators(), confirm=ConfirmForm()
    )


@bp.post("/providers/<int:provider_id>/verify")
@curator_required
def verify(provider_id: int):
    provider = db.session.get(Provider, provider_id) or abort(404)
    if ConfirmForm().validate_on_submit():
        try:
            services.verify_provider(current_user, provider)
        except services.CurationError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(f"{provider.name} is verified; its courses can now be published.", "success")
    return redirect(url_for("curation.providers"), 303)


@bp.get("/taxonomy")
@curator_required
def taxonomy():
    lists = {
        kind: db.session.scalars(select(model).order_by(model.position, model.name)).all()
        for kind, model in TERM_MODELS.items()
    }
    return render_template(
        "curation/taxonomy.html",
        lists=lists,
        names=services.KIND_NAMES,
        fixed=services.FIXED_KINDS,
        confirm=ConfirmForm(),
        form=TermForm(formdata=None),
    )


@bp.post("/taxonomy/<kind>")
@curator_required
def add_term(kind: str):
    if kind not in TERM_MODELS:
        abort(404)
    form = TermForm()
    if form.validate_on_submit():
        try:
            services.add_term(current_user, kind, form.name.data)
        except services.CurationError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(f'Added "{form.name.data}".', "success")
    else:
        flash("Enter a name of at most 120 characters.", "error")
    return redirect(url_for("curation.taxonomy") + f"#{kind}", 303)


@bp.post("/taxonomy/<kind>/<int:term_id>")
@curator_required
def change_term(kind: str, term_id: int):
    if kind not in TERM_MODELS:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    action = request.form.get("action")
    try:
        if action == "rename":
            services.rename_term(
                current_user, kind, term_id, (request.form.get("name") or "")[:120]
            )
        elif action in ("retire", "restore"):
            services.retire_term(current_user, kind, term_id, action == "retire")
        else:
            abort(400)
    except services.CurationError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash("Saved.", "success")
    return redirect(url_for("curation.taxonomy") + f"#{kind}", 303)


def _int_arg(name: str) -> int | None:
    return params.query_int(name)  # 400 with a message unless ASCII digits within 32 bits


def _date_arg(name: str) -> date | None:
    return params.query_date(name)  # 400 with a message unless a date from 1900 to 2999


@bp.get("/audit")
@curator_required
def audit_log():
    filters = services.AuditFilter(
        actor_id=_int_arg("person"),
        provider_id=_int_arg("provider"),
        course_id=_int_arg("course"),
        since=_date_arg("since"),
        until=_date_arg("until"),
    )
    page = services.audit_entries(filters, page=_int_arg("page") or 1)
    actors = db.session.execute(
        select(User.id, User.name)
        .where(User.id.in_(select(AuditEntry.actor_id).distinct()))
        .order_by(User.name)
    ).all()
    provider_rows = db.session.execute(
        select(Provider.id, Provider.name).order_by(Provider.name)
    ).all()
    course_ids = {e.course_id for e in page.items if e.course_id}
    if filters.course_id:
        course_ids.add(filters.course_id)
    course_titles = (
        dict(
            db.session.execute(
                select(Course.id, Course.title).where(Course.id.in_(course_ids))
            ).all()
        )
        if course_ids
        else {}
    )
    provider_names = dict(provider_rows)
    return render_template(
        "curation/audit.html",
        page=page,
        filters=filters,
        actors=actors,
        providers=provider_rows,
        course_titles=course_titles,
        provider_names=provider_names,
    )
