"""Enrol (after checking your answers), move, wait, request, withdraw (after confirming); My
learning; calendar files. Views parse a form and call one service; the request commits once."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from academy.accounts.models import User
from academy.catalogue.models import Cohort, Course
from academy.db_types import utcnow
from academy.enrolment import services
from academy.enrolment.calendar import build_calendar
from academy.enrolment.forms import (
    AccessNeedsForm,
    EnrolForm,
    RequestPlaceForm,
    WithdrawForm,
)
from academy.enrolment.joining import visible_links
from academy.extensions import db
from academy.forms import EmptyForm
from academy.unit_of_work import attempt

bp = Blueprint("enrolment", __name__)
FEED_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def _cohort_or_404(cohort_id: int) -> Cohort:
    cohort = db.session.scalar(
        select(Cohort)
        .where(Cohort.id == cohort_id)
        .options(selectinload(Cohort.course).selectinload(Course.prerequisites))
    )
    if cohort is None or not cohort.course.is_published:
        abort(404)
    return cohort


def _course_url(cohort: Cohort) -> str:
    return url_for("catalogue.course_detail", slug=cohort.course.slug) + f"#cohort-{cohort.id}"


def _confirm_page(cohort: Cohort, form: EnrolForm, status: int = 200):
    """The "check your answers" page before a place is taken: dates and times, where, the
    cost and who pays, cancellation terms and access needs, then a confirm button; or, when the
    learner holds a place on another cohort of the course, the offer to move it."""
    other = services.other_place(current_user, cohort)
    return (
        render_template(
            "enrolment/confirm_enrol.html",
            cohort=cohort,
            course=cohort.course,
            form=form,
            other=other,
            move_form=EmptyForm(formdata=None),
            is_open=services.is_open(cohort),
            closes_at=services.closes_at(cohort),
        ),
        status,
    )


@bp.route("/cohorts/<int:cohort_id>/enrol", methods=["GET", "POST"])
@login_required
def enrol(cohort_id: int):
    """GET: check your answers. POST: take a place (or a waitlist place when full)."""
    cohort = _cohort_or_404(cohort_id)
    form = EnrolForm()
    if request.method == "GET":
        if services.missing_prerequisites(current_user, cohort.course):
            return redirect(url_for("enrolment.request_place", cohort_id=cohort_id), 303)
        return _confirm_page(cohort, form)
    if services.missing_prerequisites(current_user, cohort.course):
        return redirect(url_for("enrolment.request_place", cohort_id=cohort_id), 303)
    if form.validate_on_submit():
        with attempt(form):
            enrolment = services.enrol(
                current_user, cohort_id, access_needs=form.access_needs.data or ""
            )
            flash(_enrolled_message(cohort, enrolment), "success")
            return redirect(url_for("enrolment.enrolment_detail", enrolment_id=enrolment.id), 303)
    return _confirm_page(cohort, form, 422)


def _enrolled_message(cohort: Cohort, enrolment) -> str:
    if enrolment.status == "enrolled":
        return f"You have a place on {cohort.course.title}. We have emailed you the dates."
    position = services.waitlist_positions([enrolment.id]).get(enrolment.id)
    return (
        f"This cohort is full, so you are on its waitlist: number {position}. If a place "
        "frees up it is yours automatically, and we will email you."
    )


@bp.post("/cohorts/<int:cohort_id>/move")
@login_required
def move(cohort_id: int):
    """Move the learner's place on another cohort of this course to this one."""
    cohort = _cohort_or_404(cohort_id)
    form = EmptyForm()
    other = services.other_place(current_user, cohort)
    if other is None:
        return redirect(url_for("enrolment.enrol", cohort_id=cohort_id), 303)
    if form.validate_on_submit():
        with attempt(form):
            enrolment = services.move(current_user, other.id, cohort_id)
            flash("Your place is moved. " + _enrolled_message(cohort, enrolment), "success")
            return redirect(url_for("enrolment.enrolment_detail", enrolment_id=enrolment.id), 303)
    enrol_form = EnrolForm(formdata=None)
    enrol_form.form_errors.extend(form.form_errors or ["The form has expired: try again."])
    return _confirm_page(cohort, enrol_form, 422)


@bp.route("/cohorts/<int:cohort_id>/request", methods=["GET", "POST"])
@login_required
def request_place(cohort_id: int):
    cohort = _cohort_or_404(cohort_id)
    missing = services.missing_prerequisites(current_user, cohort.course)
    form = RequestPlaceForm()
    if form.validate_on_submit():
        with attempt(form):
            enrolment = services.request_place(
                current_user,
                cohort_id,
                reason=form.reason.data,
                access_needs=form.access_needs.data or "",
            )
            flash(
                "Your request is sent. The provider will decide and we will email you.", "success"
            )
            return redirect(url_for("enrolment.enrolment_detail", enrolment_id=enrolment.id), 303)
    return (
        render_template("enrolment/request.html", form=form, cohort=cohort, missing=missing),
        422 if (form.errors or form.form_errors) else 200,
    )


@bp.get("/my-learning")
@login_required
def my_learning():
    learning = services.my_learning(current_user)
    return render_template(
        "enrolment/my_learning.html",
        learning=learning,
        now=utcnow(),
        reset_form=EmptyForm(),
    )


@bp.get("/my-learning/<int:enrolment_id>")
@login_required
def enrolment_detail(enrolment_id: int):
    enrolment = _own_or_404(enrolment_id)
    return _detail(enrolment)


def _own_or_404(enrolment_id: int):
    try:
        return services.get_own_enrolment(current_user, enrolment_id)
    except services.NotFound:
        abort(404)


def _can_withdraw(enrolment, now) -> bool:
    cohort = enrolment.cohort
    return enrolment.status in ("waitlisted", "requested") or (
        enrolment.status == "enrolled" and cohort.starts_at is not None and cohort.starts_at > now
    )


def _detail(enrolment, access_form=None, status=200):
    now = utcnow()
    cohort = enrolment.cohort
    return (
        render_template(
            "enrolment/detail.html",
            enrolment=enrolment,
            cohort=cohort,
            position=services.waitlist_positions([enrolment.id]).get(enrolment.id),
            joining_link=visible_links([enrolment]).get(cohort.id),
            can_withdraw=_can_withdraw(enrolment, now),
            access_form=access_form or AccessNeedsForm(formdata=None, obj=enrolment),
        ),
        status,
    )


@bp.route("/my-learning/<int:enrolment_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(enrolment_id: int):
    """GET: what withdrawing will do, and a confirm button. POST: withdraw."""
    enrolment = _own_or_404(enrolment_id)
    was = enrolment.status
    form = WithdrawForm()
    if form.validate_on_submit():
        with attempt(form):
            _, promoted = services.withdraw(
                current_user, enrolment_id, reason=form.reason.data or ""
            )
            flash(_withdrawn_message(was, promoted), "success")
            return redirect(url_for("enrolment.my_learning"), 303)
    return (
        render_template(
            "enrolment/confirm_withdraw.html",
            enrolment=enrolment,
            cohort=enrolment.cohort,
            form=form,
            can_withdraw=_can_withdraw(enrolment, utcnow()),
            outcome=services.withdraw_outcome(enrolment),
        ),
        422 if (form.errors or form.form_errors) else 200,
    )


def _withdrawn_message(was: str, promoted: list) -> str:
    if was == "enrolled":
        if promoted:
            return "You have withdrawn. Your place has gone to the first person on the waitlist."
        return "You have withdrawn. Your place is free for someone else to take."
    if was == "waitlisted":
        return "You have left the waitlist."
    return "You have withdrawn your request."


@bp.post("/my-learning/<int:enrolment_id>/access-needs")
@login_required
def access_needs(enrolment_id: int):
    enrolment = _own_or_404(enrolment_id)
    form = AccessNeedsForm()
    if form.validate_on_submit():
        with attempt(form):
            services.update_access_needs(current_user, enrolment_id, form.access_needs.data or "")
            flash("Your access needs are saved. The provider's staff can see them.", "success")
            return redirect(url_for("enrolment.enrolment_detail", enrolment_id=enrolment_id), 303)
    return _detail(enrolment, access_form=form, status=422)


def _ics(body: bytes, filename: str) -> Response:
    return Response(
        body,
        mimetype="text/calendar",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.get("/my-learning/<int:enrolment_id>/calendar.ics")
@login_required
def enrolment_calendar(enrolment_id: int):
    enrolment = _own_or_404(enrolment_id)
    if enrolment.status not in ("enrolled", "completed"):
        abort(404)
    body = build_calendar([enrolment], enrolment.cohort.course.title)
    return _ics(body, f"{enrolment.cohort.course.slug}.ics")


@bp.get("/calendar/<token>.ics")
def calendar_feed(token: str):
    """The private feed calendar apps subscribe to: whoever has the address sees the dates."""
    if not FEED_TOKEN.fullmatch(token):  # never send odd bytes (NUL) to the database
        abort(404)
    user = db.session.scalar(select(User).where(User.calendar_token == token))
    if user is None:
        abort(404)
    body = build_calendar(services.calendar_enrolments(user), "Relational Learning Academy")
    response = _ics(body, "academy.ics")
    response.headers["Content-Disposition"] = 'inline; filename="academy.ics"'
    return response


@dataclass
class CohortPanel:
    """What one cohort card on a course page shows the person looking at it."""

    enrolment: object | None = None
    position: int | None = None
    open: bool = False
    closes_at: object | None = None
    full: bool = False


@dataclass
class CoursePanels:
    cohorts: dict[int, CohortPanel] = field(default_factory=dict)
    missing: list = field(default_factory=list)


def course_panels(course, cohorts) -> CoursePanels:
    """Template global for the course page: each cohort's state for the current user.

    A fixed number of queries: the user's rows for these cohorts, their waitlist positions and
    the completed courses (when the course has prerequisites).
    """
    now = utcnow()
    mine = services.enrolments_for(current_user, [c.id for c in cohorts])
    positions = services.waitlist_positions(
        [e.id for e in mine.values() if e.status == "waitlisted"]
    )
    panels = CoursePanels()
    if current_user.is_authenticated:
        panels.missing = services.missing_prerequisites(current_user, course)
    for cohort in cohorts:
        enrolment = mine.get(cohort.id)
        panels.cohorts[cohort.id] = CohortPanel(
            enrolment=enrolment,
            position=positions.get(enrolment.id) if enrolment else None,
            open=services.is_open(cohort, now),
            closes_at=services.closes_at(cohort),
            full=cohort.is_full,
        )
    return panels


def login_url_here(anchor: str = "") -> str:
    return url_for("accounts.login", next=request.path + anchor)  # the anchor travels in next
