"""The learner's downloads: the PDF summary, CSV, JSON, the CLR, everything held about them
(a zip), and their Open Badges credentials (issue, download, revoke).

Every route is for the signed-in learner's own records only: a credential id that is not
theirs is a 404, exactly as one that does not exist.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from academy.credentials import clr as clr_service
from academy.credentials import openbadges
from academy.db_types import utcnow
from academy.extensions import db
from academy.formatting import local_time
from academy.portfolio import exports as export_service
from academy.portfolio.export_forms import IssueCredentialForm, RevokeCredentialForm
from academy.portfolio.export_pdf import render_pdf
from academy.portfolio.services import entries_for, get_own_entry

# Rules are written in full: the data zip lives under /account, the rest under /portfolio.
bp = Blueprint("portfolio_exports", __name__)


def _download(body: bytes | str, mimetype: str, name: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _stamp() -> str:
    return f"{local_time(utcnow()):%Y-%m-%d}"


def _own_credential(public_id: str):
    credential = openbadges.get_own_credential(current_user, public_id)
    if credential is None:
        abort(404)
    return credential


@bp.get("/portfolio/export")
@login_required
def exports():
    """Downloads, and each verified entry's credential (a fixed number of queries)."""
    entries = [e for e in entries_for(current_user) if e.verified]
    credentials = {
        c.entry_id: c for c in openbadges.credentials_of(current_user) if c.entry_id is not None
    }
    return render_template(
        "portfolio/exports.html",
        entries=entries,
        credentials=credentials,
        issue_form=IssueCredentialForm(),
    )


@bp.get("/portfolio/export.pdf")
@login_required
def pdf():
    body = render_pdf(current_user, entries_for(current_user), local_time(utcnow()).date())
    return _download(body, "application/pdf", f"learning-record-{_stamp()}.pdf")


@bp.get("/portfolio/export.csv")
@login_required
def csv():
    body = export_service.entries_csv(current_user).encode("utf-8")
    return _download(body, "text/csv; charset=utf-8", f"learning-record-{_stamp()}.csv")


@bp.get("/portfolio/export.json", endpoint="json")
@login_required
def json_export():
    body = json.dumps(export_service.build_export(current_user), indent=2, ensure_ascii=False)
    return _download(body, "application/json", f"learning-record-{_stamp()}.json")


@bp.get("/portfolio/clr.json")
@login_required
def clr():
    """A signed CLR 2.0, as a CLR API response (``{"compactJwsString": [...]}``, empty when the
    learner has no verified entry). Issues the badge of any verified entry that had none, so
    commits."""
    token = clr_service.signed_clr(current_user)
    db.session.commit()
    body = json.dumps({"compactJwsString": [token] if token else []})
    return _download(body, "application/json", f"comprehensive-learner-record-{_stamp()}.json")


@bp.get("/account/data.zip")
@login_required
def data_zip():
    """Everything held about the learner: the JSON export, evidence files and a README."""
    body = export_service.data_zip(current_user)
    return _download(body, "application/zip", f"my-academy-data-{_stamp()}.zip")


@bp.post("/portfolio/export/entries/<int:entry_id>/credential")
@login_required
def issue_credential(entry_id: int):
    entry = get_own_entry(current_user, entry_id)
    back = url_for("portfolio_exports.exports") + f"#entry-{entry.id}"
    if not IssueCredentialForm().validate():
        flash("Your session had expired, so nothing was issued. Please try again.", "error")
        return redirect(back, 303)
    try:
        credential = openbadges.issue(current_user, entry)
    except openbadges.CredentialError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(back, 303)
    db.session.commit()
    flash(
        f"Your credential for {entry.title} is ready: download it or share its public page.",
        "success",
    )
    return redirect(url_for("portfolio_exports.exports") + f"#entry-{credential.entry_id}", 303)


@bp.get("/portfolio/export/credentials/<public_id>.jwt")
@login_required
def download_credential(public_id: str):
    credential = _own_credential(public_id)
    if not credential.signed:
        abort(404)
    return _download(credential.signed, "application/vc+jwt", f"credential-{public_id}.jwt")


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
        db.session.commit()
        flash("Credential revoked. Anyone who checks it now sees that it was revoked.", "success")
        return redirect(back, 303)
    title = credential_title(credential)
    status = 422 if form.is_submitted() else 200
    return render_template(
        "portfolio/revoke_credential.html", form=form, credential=credential, title=title
    ), status


def credential_title(credential) -> str:
    if credential.entry_id is None:
        return "this credential"
    entry = get_own_entry(current_user, credential.entry_id)
    return entry.title
