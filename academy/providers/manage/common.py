"""The blueprint every provider screen adds its routes to, and the lookups they share.

Each lookup turns a refusal of the services into the HTTP answer the access rules promise:
403 for someone who is not the organisation's staff, 404 for an id of another organisation.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, request
from flask_login import current_user
from sqlalchemy import select

from academy.catalogue.models import Cohort, CohortSession, Course
from academy.extensions import db
from academy.providers import cohorts as cohort_services
from academy.providers import courses as course_services
from academy.providers import services
from academy.providers.models import Provider

bp = Blueprint("manage", __name__, url_prefix="/provider")
UK = ZoneInfo("Europe/London")


def form_status(form, problem=None) -> int:
    """422 for a POST the form or a service refused, so the page says it failed; else 200."""
    return 422 if request.method == "POST" and (form.errors or problem) else 200


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


def session_of(cohort: Cohort, session_id: int) -> CohortSession:
    """One of ``cohort``'s sessions; :raise 404: no such session in this cohort."""
    session = next((s for s in cohort.sessions if s.id == session_id), None)
    if session is None:
        abort(404)
    return session


def uk_to_utc(day: date, at: time) -> datetime:
    """A day and a time typed on a UK wall clock, as the UTC moment the database stores."""
    return datetime.combine(day, at, tzinfo=UK).astimezone(UTC)


def uk_local(moment: datetime) -> datetime:
    """A stored moment on the UK wall clock, for filling in forms."""
    return moment.astimezone(UK)
