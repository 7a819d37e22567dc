"""The blueprint every provider screen adds its routes to, and what the screens share.

Each lookup turns a refusal of the services into the HTTP answer the access rules promise:
403 for someone who is not the organisation's staff, 404 for an id of another organisation.
:func:`form_page` is the page of one form, :func:`button` the POST that changes one thing
and goes back to a page, :func:`to_course` and :func:`to_cohort` the way back.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response

from academy.accounts.security import signed_in_only
from academy.catalogue.models import Cohort, CohortSession, Course
from academy.extensions import db
from academy.providers import cohorts as cohort_services
from academy.providers import courses as course_services
from academy.providers import services
from academy.providers.models import Provider
from academy.unit_of_work import attempt

bp = Blueprint("manage", __name__, url_prefix="/provider")
# every page here needs an account; each view then checks the organisation (403/404 below)
bp.before_request(signed_in_only)


def form_status(form, problem=None) -> int:
    """422 for a POST the form or a service refused, so the page says it failed; else 200."""
    return 422 if request.method == "POST" and (form.errors or problem) else 200


def form_page(form: FlaskForm, heading: str, submit: str, **context) -> tuple[str, int]:
    """A page of one form (``providers/form.html``: the error summary, every field, the button
    ``submit``), with ``context`` for the template; 422 for a POST that was refused."""
    page = render_template(
        "providers/form.html", form=form, heading=heading, submit=submit, **context
    )
    return page, form_status(form)


def confirm_page(
    form: FlaskForm, provider: Provider, heading: str, body: str, submit: str, back: str, **context
) -> tuple[str, int]:
    """The page that asks before a change that cannot be undone (``providers/confirm.html``):
    ``heading``, ``body``, the button ``submit`` and the way ``back``; with a ``problem`` in
    ``context`` (a refusal) only the message and the way back (``back_label``). 422 for a POST
    that was refused."""
    page = render_template("providers/confirm.html", form=form, provider=provider, body=body,
                           heading=heading, submit=submit, back=back, **context)  # fmt: skip
    return page, form_status(form, context.get("problem"))


def staff_organisation(slug: str, *, admin: bool = False) -> Provider:
    """The organisation, for its staff; :raise 404: no such one; :raise 403: not its staff."""
    provider = db.session.scalar(select(Provider).where(Provider.slug == slug))
    if provider is None:
        abort(404)
    try:
        services.require_staff(current_user, provider, admin=admin)
    except services.NotMember:
        abort(403)
    return provider


def course_of(provider: Provider, course_id: int) -> Course:
    """One of ``provider``'s courses; :raise 404: no such course of this organisation."""
    try:
        return course_services.get_course(current_user, provider, course_id)
    except services.ProviderError:
        abort(404)


def cohort_of(provider: Provider, cohort_id: int) -> Cohort:
    """One of ``provider``'s cohorts, sessions loaded; :raise 404: not this organisation's."""
    try:
        return cohort_services.get_cohort(current_user, provider, cohort_id)
    except services.ProviderError:
        abort(404)


def staff_course(slug: str, course_id: int) -> tuple[Provider, Course]:
    """The organisation and one of its courses, for its staff (:func:`staff_organisation`,
    then :func:`course_of`): 404 or 403 as they say."""
    provider = staff_organisation(slug)
    return provider, course_of(provider, course_id)


def staff_cohort(slug: str, cohort_id: int) -> tuple[Provider, Cohort]:
    """The organisation and one of its cohorts, for its staff (:func:`staff_organisation`,
    then :func:`cohort_of`): 404 or 403 as they say."""
    provider = staff_organisation(slug)
    return provider, cohort_of(provider, cohort_id)


def session_of(cohort: Cohort, session_id: int) -> CohortSession:
    """One of ``cohort``'s sessions; :raise 404: no such session in this cohort."""
    session = next((s for s in cohort.sessions if s.id == session_id), None)
    if session is None:
        abort(404)
    return session


def to_course(slug: str, course_id: int, anchor: str = "") -> Response:
    """A 303 to the course's staff page (at ``#anchor`` when given)."""
    return redirect(url_for("manage.course", slug=slug, course_id=course_id) + anchor, 303)


def to_cohort(slug: str, cohort_id: int) -> Response:
    """A 303 to the cohort's staff page."""
    return redirect(url_for("manage.cohort", slug=slug, cohort_id=cohort_id), 303)


EXPIRED = "The form has expired. Reload the page and try again."

#: what a button's action gives back to show: a success message, or (message, category)
Done = str | tuple[str, str]


def button(back: Response, action: Callable[[], Done], form: FlaskForm, *, invalid=EXPIRED):
    """A POST that changes one thing and answers with ``back`` (a redirect), whatever happened.

    Unless ``form`` validates, ``invalid`` is flashed as an error and nothing runs. Else
    ``action`` runs inside :func:`attempt`: what it returns is flashed (a plain message as a
    success); a refusal is rolled back and flashed as an error.
    """
    if not form.validate_on_submit():
        flash(invalid, "error")
        return back
    with attempt(form, flash_refusal=True):
        done = action()
        message, category = (done, "success") if isinstance(done, str) else done
        flash(message, category)
    return back
