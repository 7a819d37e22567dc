"""Cohorts and their dated sessions: add and change a cohort, add and move sessions, cancel.

Every date and time goes through ``academy.catalogue.schedule`` (the forms and the services):
UK local time, the horizon, the gap and the fold at the clock changes.
"""

from __future__ import annotations

from flask import flash, render_template, request, url_for
from flask_login import current_user

from academy.catalogue import schedule
from academy.db_types import utcnow
from academy.enrolment import joining
from academy.enrolment.services import attendance_opens, completion_opens, undo_deadline
from academy.enrolment.states import UNDO_DAYS
from academy.formatting import format_date, format_time, plural
from academy.forms import EmptyForm
from academy.providers import cohorts as cohort_services
from academy.providers.forms import (
    CancelCohortForm,
    CohortEditForm,
    CohortForm,
    DecisionForm,
    SessionForm,
    UndoMarkForm,
)
from academy.providers.manage.common import (
    bp,
    confirm_page,
    form_page,
    session_of,
    staff_cohort,
    staff_course,
    to_cohort,
)
from academy.unit_of_work import attempt


def _cohort_fields(form) -> dict:
    """What the new-cohort and edit-cohort forms both set: places, where, when enrolment
    closes (the end of that day, UK time) and the joining link."""
    return {
        "capacity": form.capacity.data,
        "is_online": form.is_online.data,
        "location": form.location.data,
        "enrolment_closes_at": form.closes_at(),
        "joining_link": form.joining_link.data,
    }


def first_error(form) -> str | None:
    """A refusal ``attempt`` attached to the form, for the page's error summary."""
    return form.form_errors[0] if form.form_errors else None


def _saved(message: str, form, slug: str, cohort_id: int):
    """Flash the success ``message`` (with the clocks-back rule when it decided a typed time)
    and go back to the cohort's page."""
    note = form.ambiguous_note()
    flash(f"{message} {note}" if note else message, "success")
    return to_cohort(slug, cohort_id)


@bp.route("/<slug>/courses/<int:course_id>/cohorts/new", methods=["GET", "POST"])
def new_cohort(slug: str, course_id: int):
    provider, course = staff_course(slug, course_id)
    form = CohortForm()
    if form.validate_on_submit():
        with attempt(form):
            starts_at, ends_at = form.session_times()
            cohort = cohort_services.create_cohort(
                current_user, course, **_cohort_fields(form), starts_at=starts_at, ends_at=ends_at
            )
            added = "The cohort is added. Add more sessions if it meets more than once."
            return _saved(added, form, slug, cohort.id)
    return _form_page(
        form,
        provider,
        f"Add a cohort of {course.title}",
        "Add cohort",
        intro="Give the first session now; you can add more sessions next. Times are UK time.",
    )


def _form_page(form, provider, heading: str, submit: str, **context):
    """A cohort or session form; its error summary shows the first refusal."""
    return form_page(form, heading, submit, provider=provider, problem=first_error(form), **context)


@bp.get("/<slug>/cohorts/<int:cohort_id>")
def cohort(slug: str, cohort_id: int):
    provider, cohort = staff_cohort(slug, cohort_id)
    return _cohort_page(provider, cohort)


def _cohort_page(provider, cohort, *, session_form=None, status=200):
    rows = cohort_services.enrolment_list(cohort)
    now = utcnow()
    return render_template(
        "providers/cohort.html",
        provider=provider,
        cohort=cohort,
        rows=rows,
        confirm=EmptyForm(),
        decision=DecisionForm(),
        undo_form=UndoMarkForm(formdata=None),
        session_form=session_form or SessionForm(formdata=None),
        now=now,
        attendance_opens=attendance_opens(cohort),
        completion_opens=completion_opens(cohort),
        undo_deadline=undo_deadline,
        undo_days=UNDO_DAYS,
        joining_link=joining.link_of(cohort) if cohort.is_online else None,
        pending=[r for r in rows if r.status == "requested"],
    ), status


@bp.route("/<slug>/cohorts/<int:cohort_id>/edit", methods=["GET", "POST"])
def edit_cohort(slug: str, cohort_id: int):
    provider, cohort = staff_cohort(slug, cohort_id)
    form = CohortEditForm(obj=cohort)
    if cohort.starts_at is not None:
        form.first_day = schedule.to_local(cohort.starts_at).date()
    if request.method == "GET":
        form.joining_link.data = joining.link_of(cohort)
        if cohort.enrolment_closes_at:
            form.closes_on.data = schedule.to_local(cohort.enrolment_closes_at).date()
    if form.validate_on_submit():
        with attempt(form):
            promoted = cohort_services.update_cohort(current_user, cohort, **_cohort_fields(form))
            extra = (
                f" {plural(len(promoted), 'learner')} moved from the waitlist to a place."
                if promoted
                else ""
            )
            flash("The cohort is saved." + extra, "success")
            return to_cohort(slug, cohort_id)
    return _form_page(form, provider, f"Change the cohort of {cohort.course.title}", "Save cohort")


@bp.post("/<slug>/cohorts/<int:cohort_id>/sessions")
def add_session(slug: str, cohort_id: int):
    provider, cohort = staff_cohort(slug, cohort_id)
    form = SessionForm()
    if form.validate_on_submit():
        with attempt(form):
            cohort_services.add_session(current_user, cohort, *form.session_times())
            return _saved("The session is added.", form, slug, cohort_id)
    return _cohort_page(provider, cohort, session_form=form, status=422)


@bp.route("/<slug>/cohorts/<int:cohort_id>/sessions/<int:session_id>", methods=["GET", "POST"])
def move_session(slug: str, cohort_id: int, session_id: int):
    provider, cohort = staff_cohort(slug, cohort_id)
    session = session_of(cohort, session_id)
    form = SessionForm()
    if request.method == "GET":
        form.show_times(session.starts_at, session.ends_at)
    if form.validate_on_submit():
        with attempt(form):
            starts_at, ends_at = form.session_times((session.starts_at, session.ends_at))
            told = cohort_services.move_session(
                current_user, cohort, session_id, starts_at, ends_at
            )
            moved = f"The session is moved. We have emailed {plural(len(told), 'learner')}"
            return _saved(moved + " and their calendars will update.", form, slug, cohort_id)
    return _form_page(
        form,
        provider,
        "Change the session's date and times",
        "Save and tell learners",
        intro="Everyone with a place or on the waitlist is emailed, and their calendar updates."
        " Times are UK time.",
    )


@bp.route(
    "/<slug>/cohorts/<int:cohort_id>/sessions/<int:session_id>/remove", methods=["GET", "POST"]
)
def remove_session(slug: str, cohort_id: int, session_id: int):
    provider, cohort = staff_cohort(slug, cohort_id)
    session = session_of(cohort, session_id)
    when = f"{format_date(session.starts_at)}, {format_time(session.starts_at)}"
    form = EmptyForm()
    # on the page before anyone presses the button: why it would be refused, if it would
    problem = cohort_services.session_removal_problem(cohort, session)
    if form.validate_on_submit():
        with attempt(form) as outcome:
            told = cohort_services.remove_session(current_user, cohort, session_id)
            emailed = f"We have emailed {plural(len(told), 'learner')}"
            flash(f"The session on {when} is removed. {emailed}; calendars will update.", "success")
            return to_cohort(slug, cohort_id)
        problem = outcome.error
    return confirm_page(
        form,
        provider,
        f"Remove the session on {when}?",
        "Everyone with a place or on the waitlist is emailed the dates that remain, and"
        " their calendars update. This cannot be undone.",
        "Yes, remove the session",
        url_for("manage.cohort", slug=slug, cohort_id=cohort_id),
        problem=problem,
        back_label="Back to the cohort",
    )


@bp.route("/<slug>/cohorts/<int:cohort_id>/cancel", methods=["GET", "POST"])
def cancel_cohort(slug: str, cohort_id: int):
    provider, cohort = staff_cohort(slug, cohort_id)
    form = CancelCohortForm()
    if form.validate_on_submit():
        with attempt(flash_refusal=True):
            told = cohort_services.cancel_cohort(current_user, cohort, form.message.data or "")
            flash(
                f"The cohort is cancelled and we have emailed {plural(len(told), 'learner')}.",
                "success",
            )
        return to_cohort(slug, cohort_id)
    return _form_page(
        form,
        provider,
        f"Cancel this cohort of {cohort.course.title}?",
        "Yes, cancel the cohort",
        intro="Everyone with a place, on the waitlist or asking for a place is emailed, and"
        " their enrolments are marked cancelled. This cannot be undone.",
        danger=True,
    )
