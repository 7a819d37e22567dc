"""The export page (``/portfolio/export``) and the downloads it offers: the PDF summary, CSV,
JSON, the signed CLR and everything held about the learner (``/account/data.zip``)."""

from __future__ import annotations

import json

from flask import render_template
from flask_login import current_user, login_required

from academy.credentials import clr as clr_service
from academy.credentials import openbadges
from academy.db_types import utcnow
from academy.formatting import local_time
from academy.portfolio.common import entries_for
from academy.portfolio.exports import services as export_service
from academy.portfolio.exports.common import bp, download, stamp
from academy.portfolio.exports.forms import IssueCredentialForm
from academy.portfolio.exports.pdf import render_pdf


@bp.get("/portfolio/export")
@login_required
def exports():
    """Downloads, and each verified entry's credential (a fixed number of queries)."""
    entries = [e for e in entries_for(current_user) if e.verified]
    credentials = {
        c.entry_id: c for c in openbadges.credentials_of(current_user) if c.entry_id is not None
    }
    return render_template(
        "portfolio/exports/exports.html",
        entries=entries,
        credentials=credentials,
        issue_form=IssueCredentialForm(),
    )


@bp.get("/portfolio/export.pdf")
@login_required
def pdf():
    body = render_pdf(current_user, entries_for(current_user), local_time(utcnow()).date())
    return download(body, "application/pdf", f"learning-record-{stamp()}.pdf")


@bp.get("/portfolio/export.csv")
@login_required
def csv():
    body = export_service.entries_csv(current_user).encode("utf-8")
    return download(body, "text/csv; charset=utf-8", f"learning-record-{stamp()}.csv")


@bp.get("/portfolio/export.json", endpoint="json")
@login_required
def json_export():
    body = json.dumps(export_service.build_export(current_user), indent=2, ensure_ascii=False)
    return download(body, "application/json", f"learning-record-{stamp()}.json")


@bp.get("/portfolio/clr.json")
@login_required
def clr():
    """A signed CLR 2.0, as a CLR API response (``{"compactJwsString": [...]}``, empty when the
    learner has no verified entry). Issues the badge of any verified entry that had none (the
    request's commit keeps them)."""
    token = clr_service.signed_clr(current_user)
    body = json.dumps({"compactJwsString": [token] if token else []})
    return download(body, "application/json", f"comprehensive-learner-record-{stamp()}.json")


@bp.get("/account/data.zip")
@login_required
def data_zip():
    """Everything held about the learner: the JSON export, evidence files and a README."""
    body = export_service.data_zip(current_user)
    return download(body, "application/zip", f"my-academy-data-{stamp()}.zip")
