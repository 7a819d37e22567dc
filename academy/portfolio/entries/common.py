"""The blueprint every entries screen adds its routes to, and what the screens share: the
charter principles offered on the form and the entry page that the evidence screens re-render."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template
from sqlalchemy import select

from academy.extensions import db
from academy.portfolio.entries import evidence as evidence_service
from academy.portfolio.entries import services as entry_service
from academy.portfolio.entries.forms import EvidenceForm
from academy.portfolio.models import METHODS, THEMES, LearningRecordEntry
from academy.taxonomy.models import Principle

bp = Blueprint("portfolio", __name__, url_prefix="/portfolio")
#: ids in URLs: larger numbers are "not found" before they reach the database (SQLite cannot
#: even compare a column with a number past 64 bits)
ID = "int(max=2147483647)"


@bp.app_template_filter("portfolio_day")
def portfolio_day(value: date | None) -> str:
    """A calendar date (no time, no time zone) as ``Tue 3 March 2026``; empty for ``None``."""
    return "" if value is None else f"{value:%a} {value.day} {value:%B %Y}"


def principles() -> list[Principle]:
    """Every charter principle, in the taxonomy's order (retired ones too: the form decides)."""
    return db.session.scalars(select(Principle).order_by(Principle.position, Principle.name)).all()


def entry_page(entry: LearningRecordEntry, *, evidence_form=None, status: int = 200):
    """The entry's page, with the evidence form (bound, with its errors, after a refusal)."""
    return (
        render_template(
            "portfolio/entries/entry.html",
            entry=entry,
            evidence_form=evidence_form or EvidenceForm(formdata=None),
            methods=METHODS,
            themes=THEMES,
            principle_names={p.slug: p.name for p in principles()},
            has_reflection=entry_service.has_reflection(entry),
            max_files=evidence_service.MAX_FILES_PER_ENTRY,
        ),
        status,
    )


def confirm_page(*, heading: str, body: str, submit: str, back: str, form, status: int = 200):
    """A page that asks "are you sure?" with one button (the form carries the CSRF token)."""
    return (
        render_template(
            "portfolio/entries/confirm.html",
            heading=heading,
            body=body,
            submit=submit,
            back=back,
            form=form,
        ),
        status,
    )
