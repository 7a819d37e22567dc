"""Running a cohort: deciding requests for a place, marks (attended, completed, not
completed), undoing a mark, and the learner list as CSV.

A refusal (too early to mark, a cancelled cohort, nobody chosen) is flashed on the cohort page
and changes nothing; the request's unit of work commits only what succeeded.
"""

from __future__ import annotations

from flask import Response, flash, redirect, request, url_for
from flask_login import current_user, login_required

from academy import params
from academy.enrolment import states
from academy.formatting import plural
from academy.providers import cohorts as cohort_services
from academy.providers.forms import ConfirmForm, DecisionForm, UndoMarkForm
from academy.providers.manage.common import bp, cohort_of, staff_organisation
from academy.unit_of_work import attempt


def _back(slug: str, cohort_id: int):
    return redirect(url_for("manage.cohort", slug=slug, cohort_id=cohort_id), 303)


@bp.post("/<slug>/cohorts/<int:cohort_id>/requests/<int:enrolment_id>")
@login_required
def decide(slug: str, cohort_id: int, enrolment_id: int):
    provider = staff_organisation(slug)
    cohort = cohort_of(provider, cohort_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        flash("Choose accept or decline.", "error")
        return _back(slug, cohort_id)
    with attempt(form, flash_refusal=True):
        enrolment = cohort_services.decide_request(
            current_user,
            cohort,
            enrolment_id,
            form.decision.data == "accept",
            form.message.data or "",
        )
        flash(
            f"Decided: {enrolment.user.name}: {states.label(enrolment.status).lower()}.",
            "success",
        )
    return _back(slug, cohort_id)


@bp.post("/<slug>/cohorts/<int:cohort_id>/marks")
@login_required
def mark(slug: str, cohort_id: int):
    provider = staff_organisation(slug)
    cohort = cohort_of(provider, cohort_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash("The form has expired. Reload the page and try again.", "error")
        return _back(slug, cohort_id)
    outcome_name = request.form.get("outcome", "")
    if request.form.get("all") == "1":
        ids = [
            r.id
            for r in cohort_services.enrolment_list(cohort)
            if r.status in ("enrolled", "completed", "not_completed")
        ]
    else:
        ids = params.keep_ids(request.form.getlist("enrolment"))
    with attempt(form) as outcome:
        changed = cohort_services.mark(
            current_user, cohort, ids, outcome_name, (request.form.get("note") or "")[:1000]
        )
        if changed:
            flash(f"Saved: {plural(changed, 'learner')} marked.", "success")
        else:
            flash("Nothing changed: the learners chosen already had that mark.", "info")
    if outcome.failed:
        flash(outcome.error, "error")
    return _back(slug, cohort_id)


@bp.post("/<slug>/cohorts/<int:cohort_id>/marks/<int:enrolment_id>/undo")
@login_required
def undo_mark(slug: str, cohort_id: int, enrolment_id: int):
    provider = staff_organisation(slug)
    cohort = cohort_of(provider, cohort_id)
    form = UndoMarkForm()
    if not form.validate_on_submit():
        flash("The form has expired. Reload the page and try again.", "error")
        return _back(slug, cohort_id)
    with attempt(form, flash_refusal=True):
        enrolment = cohort_services.undo_mark(
            current_user, cohort, enrolment_id, form.note.data or ""
        )
        flash(
            f"The mark is undone: {enrolment.user.name} has a place again, any verified entry"
            " and credential are withdrawn, and we have emailed them.",
            "success",
        )
    return _back(slug, cohort_id)


@bp.get("/<slug>/cohorts/<int:cohort_id>/learners.csv")
@login_required
def cohort_csv(slug: str, cohort_id: int):
    provider = staff_organisation(slug)
    cohort = cohort_of(provider, cohort_id)
    body = cohort_services.enrolment_csv(cohort)
    return Response(
        "\ufeff" + body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="cohort-{cohort.id}.csv"',
            "Cache-Control": "no-store",
        },
    )
