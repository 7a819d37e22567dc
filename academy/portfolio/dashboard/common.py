"""The blueprint the dashboard screens add their routes to, and the helpers they share."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, url_for

from academy.db_types import utcnow
from academy.formatting import local_time

bp = Blueprint("portfolio_dashboard", __name__, url_prefix="/portfolio")


def today() -> date:
    """Today's date in the display time zone (UK time)."""
    return local_time(utcnow()).date()


def day_date(value: date | None) -> str:
    """``3 March 2026`` for a date; empty for ``None``."""
    return "" if value is None else f"{value.day} {value:%B %Y}"


@bp.app_template_filter("day_date")
def _day_date_filter(value: date | None) -> str:
    return day_date(value)


def entries_url() -> str | None:
    """The entries page, when that part of the portfolio is installed."""
    if "portfolio.entries" in current_app.view_functions:
        return url_for("portfolio.entries")
    return None
