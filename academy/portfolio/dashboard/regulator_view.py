"""The regulator views (``/portfolio/regulator``): the learner's record as the NMC, HCPC,
Social Work England or RCPsych ask for it."""

from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user, login_required

from academy.portfolio.common import entries_for
from academy.portfolio.dashboard import regulators
from academy.portfolio.dashboard.common import bp, entries_url, today
from academy.portfolio.models import METHODS, THEMES

#: the regulator views, in the order the switcher shows them
VIEWS = {
    "nmc": "NMC",
    "hcpc": "HCPC",
    "swe": "Social Work England",
    "rcpsych": "RCPsych",
}
#: the view each profile regulator opens by default (gmc: a psychiatrist following RCPsych CPD)
DEFAULT_VIEW = {"nmc": "nmc", "hcpc": "hcpc", "swe": "swe", "gmc": "rcpsych"}


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
                "portfolio/dashboard/regulator_chooser.html", views=VIEWS, entries_url=entries_url()
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
        "entries_url": entries_url(),
        "has_entries": bool(entries),
    }
    context.update(_view_figures(view, entries, now))
    return render_template(f"portfolio/dashboard/regulator_{view}.html", **context)


def _view_figures(view: str, entries, now) -> dict:
    """What one regulator's view adds: its summary of the entries and the rules it counts by."""
    if view == "nmc":
        return {
            "nmc": regulators.nmc_summary(entries, current_user.revalidation_on, now),
            "nmc_rules": {
                "hours": regulators.NMC_HOURS,
                "participatory": regulators.NMC_PARTICIPATORY_HOURS,
                "accounts": regulators.NMC_REFLECTIVE_ACCOUNTS,
            },
        }
    if view == "hcpc":
        return {
            "record": regulators.hcpc_record(entries, now),
            "profile": regulators.hcpc_profile(entries),
        }
    if view == "swe":
        return {"years": regulators.swe_years(entries, now)}
    return {
        "years": regulators.rcpsych_years(entries, now),
        "rcpsych_rules": {
            "hours": regulators.RCPSYCH_HOURS,
            "clinical": regulators.RCPSYCH_CLINICAL_HOURS,
        },
    }
