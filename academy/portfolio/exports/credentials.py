"""An entry's Open Badges credential: issuing it, downloading it, revoking it.

A credential id that is not the learner's is a 404, exactly as one that does not exist.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from academy.credentials import openbadges
from academy.portfolio.common import get_own_entry
from academy.portfolio.exports.common import bp, download
from academy.portfolio.exports.forms import IssueCredentialForm, RevokeCredentialForm
from academy.unit_of_work import attempt


def _own_credential(public_id: str):
    """The learner's credential; :raise 404: no such credential of theirs."""
    credential = openbadges.get_own_credential(current_user, public_id)
    if credential is None:
        abort(404)
    return credential


@bp.post("/portfolio/export/entries/<int:entry_id>/credential")
@login_required
def issue_credential(entry_id: int):
    entry = get_own_entry(current_user, entry_id)
    back = url_for("portfolio_exports.exports") + f"#entry-{entry.id}"
    IssueCredentialForm()  # the CSRF token is checked for every POST before the view runs
    with attempt(flash_refusal=True):
        openbadges.issue(current_user, entry)
        flash(
            f"Your credential for {entry.title} is ready: download it or share its public page.",
            "success",
        )
    return redirect(back, 303)


@bp.get("/portfolio/export/credentials/<public_id>.jwt")
@login_required
def download_credential(public_id: str):
    credential = _own_credential(public_id)
    if not credential.signed:
        abort(404)
    return download(credential.signed, "application/vc+jwt", f"credential-{public_id}.jwt")


@bp.route("/portfolio/export/credentials/<public_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke_credential(public_id: str):
    """Ask for confirmation (GET), then revoke for good (POST)."""
    credential = _own_credential(public_id)
    back = url_for("portfolio_exports.exports")
    if credential.revoked_at is not None:
        flash("That credential was already revoked.", "success")
        return redirect(back, 303)
    form = RevokeCredentialForm()
    if form.validate_on_submit():
        openbadges.revoke(credential, form.reason.data or "Revoked by the learner.")
        flash("Credential revoked. Anyone who checks it now sees that it was revoked.", "success")
        return redirect(back, 303)
    title = _credential_title(credential)
    page = render_template(
        "portfolio/exports/revoke_credential.html", form=form, credential=credential, title=title
    )
    return page, 422 if form.is_submitted() else 200


def _credential_title(credential) -> str:
    if credential.entry_id is None:
        return "this credential"
    return get_own_entry(current_user, credential.entry_id).title
