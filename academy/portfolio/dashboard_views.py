"""The portfolio dashboard (charts and recommended next steps) and the regulator views.

Views only read: they load the learner's own entries, ask ``regulators.py`` for the numbers and
``dashboard.py`` for the taxonomy and recommendations, and render. Every page shows only the
logged-in learner's records; there are no ids in these URLs.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, render_template, url_for
from flask_login import current_user, login_required

from academy.db_types import utcnow
from academy.formatting import local_time
from academy.portfolio import charts, regulators
from academy.portfolio import dashboard as queries
from academy.portfolio.models import METHODS, THEMES
from academy.portfolio.services import entries_for

bp = Blueprint("portfolio_dashboard", __name__, url_prefix="/portfolio")

#: the regulator views, in the order the switcher shows them
VIEWS = {
    "nmc": "NMC",
    "hcpc": "HCPC",
    "swe": "Social Work England",
    "rcpsych": "RCPsych",
}
#: how many years the hours chart draws before its bars grow too thin to label
CHART_YEARS = 10
#: the view each profile regulator opens by default (gmc: a psychiatrist following RCPsych CPD)
DEFAULT_VIEW = {"nmc": "nmc", "hcpc": "hcpc", "swe": "swe", "gmc": "rcpsych"}


def today() -> date:
    """Today's date in the display time zone (UK time)."""
    return local_time(utcnow()).date()


def day_date(value: date | None) -> str:
    """``3 March 2026`` for a date; empty for ``None``."""
    return "" if value is None else f"{value.day} {value:%B %Y}"


@bp.app_template_filter("day_date")
def _day_date_filter(value: date | None) -> str:
    return day_date(value)


def _entries_url() -> str | None:
    """The entries page, when that part of the portfolio is installed."""
    if "portfolio.entries" in current_app.view_functions:
        return url_for("portfolio.entries")
    return None


@bp.get("/dashboard")
@login_required
def dashboard():
    """Charts of the learner's hours, principles and escalator step, and up to six courses
    recommended one step above the highest reached. A fixed number of queries."""
    entries = entries_for(current_user, include_withdrawn=False)
    steps = queries.steps()
    principle_terms = queries.principles()
    reached = queries.highest_step_reached(current_user)
    target = 0 if reached is None else reached + 1
    target_step = next((s for s in steps if s.number == target), None)
    recommended = queries.recommendations(current_user, target, utcnow()) if target_step else []

    years = regulators.hours_by_year(entries)
    coverage = [
        c
        for c, term in zip(
            regulators.principle_coverage(entries, [(p.slug, p.name) for p in principle_terms]),
            principle_terms,
            strict=True,
        )
        if c.entries or not term.is_retired
    ]
    covered = sum(1 for c in coverage if c.entries)
    total_hours = sum(y.total for y in years)
    reached_step = next((s for s in steps if s.number == reached), None)

    charted = years[-CHART_YEARS:]  # the table under the chart shows every year
    hours_chart = charts.hours_per_year(charted) if charted else None
    principles_chart = charts.principles_covered(coverage, covered) if coverage else None
    escalator_chart = (
        charts.escalator_position([(s.number, s.name) for s in steps], reached_step)
        if steps
        else None
    )
    return render_template(
        "portfolio/dashboard.html",
        entries=entries,
        years=years,
        charted_years=len(charted),
        total_hours=total_hours,
        coverage=coverage,
        covered=covered,
        steps=steps,
        reached_step=reached_step,
        target_step=target_step,
        recommended=recommended,
        hours_chart=hours_chart,
        principles_chart=principles_chart,
        escalator_chart=escalator_chart,
        entries_url=_entries_url(),
    )


@bp.get("/regulator", defaults={"view": None})
@bp.get("/regulator/<view>")
@login_required
def regulator(view: str | None):
    """The learner's record as their regulator asks for it. Without a view in the URL, the
    profile's regulator chooses one; with none set, a short chooser. An unknown view is a 404."""
    if view is None:
        view = DEFAULT_VIEW.get(current_user.regulator)
        if view is None:
            return render_template(
                "portfolio/regulator_chooser.html", views=VIEWS, entries_url=_entries_url()
            )
    if view not in VIEWS:
        abort(404)
    entries = entries_for(current_user, include_withdrawn=False)
    now = today()
    context = {
        "view": view,
        "views": VIEWS,
        "today": now,
        "methods": METHODS,
        "themes": THEMES,
        "entries_url": _entries_url(),
        "has_entries": bool(entries),
    }
    if view == "nmc":
        context["nmc"] = regulators.nmc_summary(entries, current_user.revalidation_on, now)
        context["nmc_rules"] = {
            "hours": regulators.NMC_HOURS,
            "participatory": regulators.NMC_PARTICIPATORY_HOURS,
            "accounts": regulators.NMC_REFLECTIVE_ACCOUNTS,
        }
    elif view == "hcpc":
        context["record"] = regulators.hcpc_record(entries, now)
        context["profile"] = regulators.hcpc_profile(entries)
    elif view == "swe":
        context["years"] = regulators.swe_years(entries, now)
    else:
        context["years"] = regulators.rcpsych_years(entries, now)
        context["rcpsych_rules"] = {
            "hours": regulators.RCPSYCH_HOURS,
            "clinical": regulators.RCPSYCH_CLINICAL_HOURS,
        }
    return render_template(f"portfolio/regulator_{view}.html", **context)
