"""Running a cohort: deciding requests for a place, marks (attended, completed, not
completed) and the learner list as CSV."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from academy import params
from academy.extensions import db
from academy.providers import cohorts as cohort_services
from academy.providers import services
from academy.providers.forms import ConfirmForm, DecisionForm
from academy.providers.manage.common import bp, cohort_of, staff_organisation


@bp.post("/<slug>/cohorts/<int:cohort_id>/requests/<int:enrolment_id>")
@login_required
def decide(slug: str, cohort_id: int, enrolment_id: int):
    provider = staff_organisation(slug)
    cohort = cohort_of(provider, cohort_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        flash("Choose accept or decline.", "error")
        return redirect(url_for("manage.cohort", slug=slug, cohort_id=cohort_id), 303)
    try:
        enrolment = cohort_services.decide_request(
            current_user,
            cohort,
            enrolment_id,
            form.decision.data == "accept",
            form.message.data or "",
        )
    except services.ProviderError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(f"Decided: {enrolment.user.name} is now {enrolment.status}.", "success")
    return redirect(url_for("manage.cohort", slug=slug, cohort_id=cohort_id), 303)


@bp.post("/<slug>/cohorts/<int:cohort_id>/marks")
@login_required
def mark(slug: str, cohort_id: int):
    provider = staff_organisation(slug)
    cohort = cohort_of(provider, cohort_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    outcome = request.form.get("outcome", "")
    if request.form.get("all") == "1":
        ids = [
            r.id
            for r in cohort_services.enrolment_list(cohort)
            if r.status in ("enrolled", "completed", "not_completed")
        ]
    else:
        ids = params.keep_ids(request.form.getlist("enrolment"))
    try:
        changed = cohort_services.mark(
            current_user, cohort, ids, outcome, (request.form.get("note") or "")[:1000]
        )
    except services.ProviderError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(f"Saved: {changed} {'learner' if changed == 1 else 'learners'} marked.", "success")
    return redirect(url_for("manage.cohort", slug=slug, cohort_id=cohort_id), 303)


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
