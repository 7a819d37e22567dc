"""Enrol, wait, request, withdraw; My learning; calendar files; a provider's cohort roster."""

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
    EmptyForm,
    EnrolForm,
    RequestPlaceForm,
    WithdrawForm,
)
from academy.extensions import db
from academy.providers.joining import visible_links

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


@bp.post("/cohorts/<int:cohort_id>/enrol")
@login_required
def enrol(cohort_id: int):
    cohort = _cohort_or_404(cohort_id)
    back = _course_url(cohort)
    form = EnrolForm()
    if not form.validate():
        flash(" ".join(m for ms in form.errors.values() for m in ms), "error")
        return redirect(back, 303)
    try:
        enrolment = services.enrol(
            current_user, cohort_id, access_needs=form.access_needs.data or ""
        )
    except services.PrerequisitesMissing:
        db.session.rollback()
        return redirect(url_for("enrolment.request_place", cohort_id=cohort_id), 303)
    except services.NotFound:
        db.session.rollback()
        abort(404)
    except services.EnrolmentError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(back, 303)
    db.session.commit()
    if enrolment.status == "enrolled":
        flash(
            f"You have a place on {cohort.course.title}. We have emailed you the dates.", "success"
        )
    else:
        position = services.waitlist_positions([enrolment.id]).get(enrolment.id)
        flash(
            f"This cohort is full, so you are on its waitlist: number {position}. If a place "
            "frees up it is yours automatically, and we will email you.",
            "success",
        )
    return redirect(url_for("enrolment.enrolment_detail", enrolment_id=enrolment.id), 303)


@bp.route("/cohorts/<int:cohort_id>/request", methods=["GET", "POST"])
@login_required
def request_place(cohort_id: int):
    cohort = _cohort_or_404(cohort_id)
    missing = services.missing_prerequisites(current_user, cohort.course)
    form = RequestPlaceForm()
    problem = None
    if form.validate_on_submit():
        try:
            enrolment = services.request_place(
                current_user,
                cohort_id,
                reason=form.reason.data,
                access_needs=form.access_needs.data or "",
            )
        except services.NotFound:
            db.session.rollback()
            abort(404)
        except services.EnrolmentError as error:
            db.session.rollback()
            problem = error.message
        else:
            db.session.commit()
            flash(
                "Your request is sent. The provider will decide and we will email you.", "success"
            )
            return redirect(url_for("enrolment.enrolment_detail", enrolment_id=enrolment.id), 303)
    return (
        render_template(
            "enrolment/request.html", form=form, cohort=cohort, missing=missing, problem=problem
        ),
        422 if (form.errors or problem) else 200,
    )


@bp.get("/my-learning")
@login_required
def my_learning():
    from academy.providers.cohorts import learner_records

    learning = services.my_learning(current_user)
    return render_template(
        "enrolment/my_learning.html",
        learning=learning,
        records=learner_records(current_user),
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


def _detail(enrolment, withdraw_form=None, access_form=None, problem=None, status=200):
    now = utcnow()
    cohort = enrolment.cohort
    can_withdraw = enrolment.status in ("waitlisted", "requested") or (
        enrolment.status == "enrolled" and cohort.starts_at is not None and cohort.starts_at > now
    )
    return (
        render_template(
            "enrolment/detail.html",
            enrolment=enrolment,
            cohort=cohort,
            position=services.waitlist_positions([enrolment.id]).get(enrolment.id),
            joining_link=visible_links([enrolment]).get(cohort.id),
            can_withdraw=can_withdraw,
            withdraw_form=withdraw_form or WithdrawForm(formdata=None),
            access_form=access_form or AccessNeedsForm(formdata=None, obj=enrolment),
            problem=problem,
        ),
        status,
    )


@bp.post("/my-learning/<int:enrolment_id>/withdraw")
@login_required
def withdraw(enrolment_id: int):
    enrolment = _own_or_404(enrolment_id)
    form = WithdrawForm()
    if not form.validate():
        return _detail(enrolment, withdraw_form=form, status=422)
    was = enrolment.status
    try:
        services.withdraw(current_user, enrolment_id, reason=form.reason.data or "")
    except services.NotFound:
        db.session.rollback()
        abort(404)
    except services.EnrolmentError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("enrolment.enrolment_detail", enrolment_id=enrolment_id), 303)
    db.session.commit()
    flash(
        {
            "enrolled": "You have withdrawn. Your place has gone to the next person.",
            "waitlisted": "You have left the waitlist.",
            "requested": "You have withdrawn your request.",
        }.get(was, "Done."),
        "success",
    )
    return redirect(url_for("enrolment.my_learning"), 303)


@bp.post("/my-learning/<int:enrolment_id>/access-needs")
@login_required
def access_needs(enrolment_id: int):
    enrolment = _own_or_404(enrolment_id)
    form = AccessNeedsForm()
    if not form.validate():
        return _detail(enrolment, access_form=form, status=422)
    services.update_access_needs(current_user, enrolment_id, form.access_needs.data or "")
    db.session.commit()
    flash("Your access needs are saved. The provider's staff can see them.", "success")
    return redirect(url_for("enrolment.enrolment_detail", enrolment_id=enrolment_id), 303)


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


@bp.get("/provider/cohorts/<int:cohort_id>/learners")
@login_required
def roster(cohort_id: int):
    try:
        cohort, rows = services.roster(current_user, cohort_id)
    except services.NotFound:
        abort(404)
    except services.NotAllowed:
        abort(403)
    return render_template("enrolment/roster.html", cohort=cohort, rows=rows)


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
