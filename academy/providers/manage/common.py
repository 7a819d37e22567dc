"""The blueprint every provider screen adds its routes to, and the lookups they share."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, request
from flask_login import current_user
from sqlalchemy import select

from academy.catalogue.models import Course
from academy.extensions import db
from academy.providers import cohorts as cohort_services
from academy.providers import courses as course_services
from academy.providers import services
from academy.providers.models import Provider

bp = Blueprint("manage", __name__, url_prefix="/provider")
UK = ZoneInfo("Europe/London")


def _status(form, problem=None) -> int:
    return 422 if request.method == "POST" and (form.errors or problem) else 200


def _org(slug: str, *, admin: bool = False) -> Provider:
    """The organisation, for its staff; :raise 404: no such one; :raise 403: not its staff."""
    provider = db.session.scalar(select(Provider).where(Provider.slug == slug))
    if provider is None:
        abort(404)
    try:
        services.require_staff(current_user, provider, admin=admin)
    except services.NotMember:
        abort(403)
    return provider


def _course(provider: Provider, course_id: int) -> Course:
    try:
        return course_services.get_course(current_user, provider, course_id)
    except services.ProviderError:
        abort(404)


def _cohort(provider: Provider, cohort_id: int):
    try:
        return cohort_services.get_cohort(current_user, provider, cohort_id)
    except services.ProviderError:
        abort(404)


def _uk(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=UK).astimezone(UTC)


def _local(moment: datetime) -> datetime:
    return moment.astimezone(UK)
