"""Public provider pages."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from academy.catalogue.models import Course
from academy.catalogue.visibility import is_public
from academy.extensions import db
from academy.providers.models import Provider
from academy.taxonomy.models import Step

bp = Blueprint("providers", __name__)


@bp.get("/providers")
def provider_list():
    rows = db.session.execute(
        select(Provider, func.count(Course.id))
        .join(Course, Course.provider_id == Provider.id)
        .where(is_public())
        .group_by(Provider.id)
        .order_by(Provider.name)
    ).all()
    return render_template("organisations/list.html", rows=rows)


@bp.get("/providers/<slug>")
def provider_detail(slug: str):
    provider = db.session.scalar(select(Provider).where(Provider.slug == slug))
    if provider is None:
        abort(404)
    courses = db.session.scalars(
        select(Course)
        .join(Step, Step.id == Course.step_id)
        .where(Course.provider_id == provider.id, is_public())
        .order_by(Step.number, Course.title)
        .options(selectinload(Course.step), selectinload(Course.delivery_mode))
    ).all()
    return render_template("organisations/detail.html", provider=provider, courses=courses)
