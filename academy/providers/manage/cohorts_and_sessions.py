"""Cohorts and their dated sessions: add and change a cohort, add and move sessions, cancel."""

from __future__ import annotations

from datetime import time

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from academy.db_types import utcnow
from academy.extensions import db
from academy.formatting import format_date, format_time
from academy.providers import cohorts as cohort_services
from academy.providers import joining, services
from academy.providers.forms import (
    CancelCohortForm,
    CohortEditForm,
    CohortForm,
    ConfirmForm,
    DecisionForm,
    SessionForm,
)
from academy.providers.manage.common import (
    bp,
    cohort_of,
    course_of,
    form_status,
    session_of,
    staff_organisation,
    uk_local,
    uk_to_utc,
)


def _cohort_fields(form) -> dict:
    """What the new-cohort and edit-cohort forms both set: places, where, when enrolment
    closes (the end of that day, UK time) and the joining link."""
    closes_on = form.closes_on.data
    return {
        "capacity": form.capacity.data,
        "is_online": form.is_online.data,
        "location": form.location.data,
        "enrolment_closes_at": uk_to_utc(closes_on, time(23, 59)) if closes_on else None,
        "joining_link": form.joining_link.data,
    }


@bp.route("/<slug>/courses/<int:course_id>/cohorts/new", methods=["GET", "POST"])
@login_required
def new_cohort(slug: str, course_id: int):
    provider = staff_organisation(slug)
    course = course_of(provider, course_id)
    form = CohortForm()
    problem = None
    if form.validate_on_submit():
        try:
            cohort = cohort_services.create_cohort(
                current_user,
                course,
                **_cohort_fields(form),
                starts_at=uk_to_utc(form.date.data, form.start_time.data),
                ends_at=uk_to_utc(form.date.data, form.end_time.data),
            )
        except services.ProviderError as error:
            db.session.rollback()
            problem = error.message
        else:
            db.session.commit()
            flash("The cohort is added. Add more sessions if it meets more than once.", "success")
            return redirect(url_for("manage.cohort", slug=slug, cohort_id=cohort.id), 303)
    return render_template(
        "providers/form.html",
        form=form,
        provider=provider,
        problem=problem,
        heading=f"Add a cohort of {course.title}",
        submit="Add cohort",
        intro="Give the first session now; you can add more sessions next.",
    ), form_status(form, problem)


@bp.get("/<slug>/cohorts/<int:cohort_id>")
@login_required
def cohort(slug: str, cohort_id: int):
    provider = staff_organisation(slug)
    cohort = cohort_of(provider, cohort_id)
    return _cohort_page(provider, cohort)


def _cohort_page(provider, cohort, *, session_form=None, status=200):
    rows = cohort_services.enrolment_list(cohort)
    return render_template(
        "providers/cohort.html",
        provider=provider,
        cohort=cohort,
        rows=rows,
        confirm=ConfirmForm(),
        decision=DecisionForm(),
        session_form=session_form or SessionForm(formdata=None),
        local=uk_local,
        now=utcnow(),
        joining_link=joining.link_of(cohort) if cohort.is_online else None,
        pending=[r for r in rows if r.status == "requested"],
    ), status


@bp.route("/<slug>/cohorts/<int:cohort_id>/edit", methods=["GET", "POST"])
@login_required
def edit_cohort(slug: str, cohort_id: int):
    provider = staff_organisation(slug)
    cohort = cohort_of(provider, cohort_id)
    form = CohortEditForm(obj=cohort)
    if request.method == "GET":
        form.joining_link.data = joining.link_of(cohort)
        if cohort.enrolment_closes_at:
            form.closes_on.data = uk_local(cohort.enrolment_closes_at).date()
    problem = None
    if form.validate_on_submit():
        try:
            promoted = cohort_services.update_cohort(
                current_user,
                cohort,
                **_cohort_fields(form),
            )
        except services.ProviderError as error:
            db.session.rollback()
            problem = error.message
        else:
            db.session.commit()
            extra = (
                f" {len(promoted)} learners moved from the waitlist to a place." if promoted else ""
            )
            flash("The cohort is saved." + extra, "success")
            return redirect(url_for("manage.cohort", slug=slug, cohort_id=cohort_id), 303)
    return render_template(
        "providers/form.html",
        form=form,
        provider=provider,
        problem=problem,
        problem_field="capacity",
        heading=f"Change the cohort of {cohort.course.title}",
        submit="Save cohort",
    ), form_status(form, problem)


@bp.post("/<slug>/cohorts/<int:cohort_id>/sessions")
@login_required
def add_session(slug: str, cohort_id: int):
    provider = staff_organisation(slug)
    cohort = cohort_of(provider, cohort_id)
    form = SessionForm()
    if not form.validate_on_submit():
        return _cohort_page(provider, cohort, session_form=form, status=422)
    cohort_services.add_session(
        current_user,
        cohort,
        uk_to_utc(form.date.data, form.start_time.data),
        uk_to_utc(form.date.data, form.end_time.data),
    )
    db.session.commit()
    flash("The session is added.", "success")
    return redirect(url_for("manage.cohort", slug=slug, cohort_id=cohort_id), 303)


@bp.route("/<slug>/cohorts/<int:cohort_id>/sessions/<int:session_id>", methods=["GET", "POST"])
@login_required
def move_session(slug: str, cohort_id: int, session_id: int):
    provider = staff_organisation(slug)
    cohort = cohort_of(provider, cohort_id)
    session = session_of(cohort, session_id)
    form = SessionForm()
    if request.method == "GET":
        start, end = uk_local(session.starts_at), uk_local(session.ends_at)
        form.date.data, form.start_time.data, form.end_time.data = (
            start.date(),
            start.time(),
            end.time(),
        )
    if form.validate_on_submit():
        told = cohort_services.move_session(
            current_user,
            cohort,
            session_id,
            uk_to_utc(form.date.data, form.start_time.data),
            uk_to_utc(form.date.data, form.end_time.data),
        )
        db.session.commit()
        flash(
            f"The session is moved. We have emailed {len(told)} learners and their"
            " calendars will update.",
            "success",
        )
        return redirect(url_for("manage.cohort", slug=slug, cohort_id=cohort_id), 303)
    return render_template(
        "providers/form.html",
        form=form,
        provider=provider,
        heading="Change the session's date and times",
        intro="Everyone with a place or on the waitlist is emailed, and their calendar updates.",
        submit="Save and tell learners",
    ), form_status(form)


@bp.route(
    "/<slug>/cohorts/<int:cohort_id>/sessions/<int:session_id>/remove", methods=["GET", "POST"]
)
@login_required
def remove_session(slug: str, cohort_id: int, session_id: int):
    provider = staff_organisation(slug)
    cohort = cohort_of(provider, cohort_id)
    session = session_of(cohort, session_id)
    when = f"{format_date(session.starts_at)}, {format_time(session.starts_at)}"
    form = ConfirmForm()
    problem = None
    if form.validate_on_submit():
        try:
            told = cohort_services.remove_session(current_user, cohort, session_id)
        except services.ProviderError as error:
            db.session.rollback()
            problem = error.message
        else:
            db.session.commit()
            learners = "1 learner" if len(told) == 1 else f"{len(told)} learners"
            flash(
                f"The session on {when} is removed. We have emailed {learners} and their"
                " calendars will update.",
                "success",
            )
            return redirect(url_for("manage.cohort", slug=slug, cohort_id=cohort_id), 303)
    elif request.method == "GET":
        # say why before anyone presses the button, rather than after
        problem = cohort_services.session_removal_problem(cohort, session)
    return render_template(
        "providers/confirm.html",
        form=form,
        provider=provider,
        problem=problem,
        heading=f"Remove the session on {when}?",
        body="Everyone with a place or on the waitlist is emailed the dates that remain, and"
        " their calendars update. This cannot be undone.",
        submit="Yes, remove the session",
        back=url_for("manage.cohort", slug=slug, cohort_id=cohort_id),
        back_label="Back to the cohort",
    ), form_status(form, problem)


@bp.route("/<slug>/cohorts/<int:cohort_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel_cohort(slug: str, cohort_id: int):
    provider = staff_organisation(slug)
    cohort = cohort_of(provider, cohort_id)
    form = CancelCohortForm()
    if form.validate_on_submit():
        try:
            told = cohort_services.cancel_cohort(current_user, cohort, form.message.data or "")
        except services.ProviderError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(f"The cohort is cancelled and we have emailed {len(told)} learners.", "success")
        return redirect(url_for("manage.cohort", slug=slug, cohort_id=cohort_id), 303)
    return render_template(
        "providers/form.html",
        form=form,
        provider=provider,
        heading=f"Cancel this cohort of {cohort.course.title}?",
        intro="Everyone with a place, on the waitlist or asking for a place is emailed, and"
        " their enrolments are marked cancelled. This cannot be undone.",
        submit="Yes, cancel the cohort",
        danger=True,
    ), form_status(form)
