"""The dashboard (``/portfolio/dashboard``): charts of the learner's hours, principles and
escalator step, and up to six courses recommended one step above the highest reached."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required

from academy.db_types import utcnow
from academy.portfolio.common import entries_for
from academy.portfolio.dashboard import charts, regulators
from academy.portfolio.dashboard import services as queries
from academy.portfolio.dashboard.common import bp, entries_url

#: how many years the hours chart draws before its bars grow too thin to label
CHART_YEARS = 10


@bp.get("/dashboard")
@login_required
def dashboard():
    """Charts of the learner's hours, principles and escalator step, and up to six courses
    recommended one step above the highest reached. A fixed number of queries."""
    entries = entries_for(current_user, include_withdrawn=False)
    steps = queries.steps()
    reached = queries.highest_step_reached(current_user)
    target = 0 if reached is None else reached + 1
    target_step = next((s for s in steps if s.number == target), None)
    recommended = queries.recommendations(current_user, target, utcnow()) if target_step else []
    reached_step = next((s for s in steps if s.number == reached), None)
    return render_template(
        "portfolio/dashboard/dashboard.html",
        entries=entries,
        steps=steps,
        reached_step=reached_step,
        target_step=target_step,
        recommended=recommended,
        entries_url=entries_url(),
        **_figures(entries, steps, reached_step),
    )


def _figures(entries, steps, reached_step) -> dict:
    """The dashboard's numbers and its three charts (each None when there is nothing to draw)."""
    principle_terms = queries.principles()
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
    charted = years[-CHART_YEARS:]  # the table under the chart shows every year
    return {
        "years": years,
        "charted_years": len(charted),
        "total_hours": sum(y.total for y in years),
        "coverage": coverage,
        "covered": covered,
        "hours_chart": charts.hours_per_year(charted) if charted else None,
        "principles_chart": charts.principles_covered(coverage, covered) if coverage else None,
        "escalator_chart": (
            charts.escalator_position([(s.number, s.name) for s in steps], reached_step)
            if steps
            else None
        ),
    }
