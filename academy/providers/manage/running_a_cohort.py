"""Running a cohort: deciding requests for a place, marks (attended, completed, not
completed), undoing a mark, and the learner list as CSV.

A refusal (too early to mark, a cancelled cohort, nobody chosen) is flashed on the cohort page
and changes nothing; the request's unit of work commits only what succeeded.
"""

from __future__ import annotations

from flask import Response, request
from flask_login import current_user

from academy import params
from academy.enrolment import states
from academy.formatting import plural
from academy.forms import EmptyForm
from academy.providers import cohorts as cohort_services
from academy.providers.forms import DecisionForm, UndoMarkForm
from academy.providers.manage.common import Done, bp, button, staff_cohort, to_cohort


@bp.post("/<slug>/cohorts/<int:cohort_id>/requests/<int:enrolment_id>")
def decide(slug: str, cohort_id: int, enrolment_id: int):
    _, cohort = staff_cohort(slug, cohort_id)
    form = DecisionForm()

    def decide_request() -> str:
        accept, message = form.decision.data == "accept", form.message.data or ""
        enrolment = cohort_services.decide_request(
            current_user, cohort, enrolment_id, accept, message
        )
        return f"Decided: {enrolment.user.name}: {states.label(enrolment.status).lower()}."

    return button(
        to_cohort(slug, cohort_id), decide_request, form, invalid="Choose accept or decline."
    )


@bp.post("/<slug>/cohorts/<int:cohort_id>/marks")
def mark(slug: str, cohort_id: int):
    _, cohort = staff_cohort(slug, cohort_id)

    def save_marks() -> Done:
        outcome, note = request.form.get("outcome", ""), (request.form.get("note") or "")[:1000]
        changed = cohort_services.mark(current_user, cohort, _chosen(cohort), outcome, note)
        if changed:
            return f"Saved: {plural(changed, 'learner')} marked."
        return "Nothing changed: the learners chosen already had that mark.", "info"

    return button(to_cohort(slug, cohort_id), save_marks, EmptyForm())


def _chosen(cohort) -> list[int]:
    """The enrolments the marks form chose: everyone who has or had a place, or those ticked."""
    if request.form.get("all") == "1":
        rows = cohort_services.enrolment_list(cohort)
        return [r.id for r in rows if r.status in cohort_services.MARKABLE]
    return params.keep_ids(request.form.getlist("enrolment"))


@bp.post("/<slug>/cohorts/<int:cohort_id>/marks/<int:enrolment_id>/undo")
def undo_mark(slug: str, cohort_id: int, enrolment_id: int):
    _, cohort = staff_cohort(slug, cohort_id)
    form = UndoMarkForm()

    def undo() -> str:
        note = form.note.data or ""
        enrolment = cohort_services.undo_mark(current_user, cohort, enrolment_id, note)
        return (
            f"The mark is undone: {enrolment.user.name} has a place again, any verified entry"
            " and credential are withdrawn, and we have emailed them."
        )

    return button(to_cohort(slug, cohort_id), undo, form)


@bp.get("/<slug>/cohorts/<int:cohort_id>/learners.csv")
def cohort_csv(slug: str, cohort_id: int):
    _, cohort = staff_cohort(slug, cohort_id)
    body = cohort_services.enrolment_csv(cohort)
    return Response(
        "\ufeff" + body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="cohort-{cohort.id}.csv"',
            "Cache-Control": "no-store",
        },
    )
