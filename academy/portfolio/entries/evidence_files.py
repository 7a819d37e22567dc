"""An entry's evidence files: uploading one, downloading it, deleting it.

An upload that is refused (too large, not a PDF or image, an eleventh file) re-renders the
entry's page with the message by the file field and keeps nothing.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from academy.extensions import db
from academy.forms import EmptyForm
from academy.portfolio import evidence_store
from academy.portfolio.common import get_own_entry
from academy.portfolio.entries import evidence as evidence_service
from academy.portfolio.entries.common import ID, bp, confirm_page, entry_page
from academy.portfolio.entries.forms import EvidenceForm
from academy.portfolio.models import LearningRecordEntry
from academy.unit_of_work import attempt


@bp.post(f"/entries/<{ID}:entry_id>/evidence")
@login_required
def upload_evidence(entry_id: int):
    entry = get_own_entry(current_user, entry_id)
    form = EvidenceForm()
    if form.validate_on_submit():
        upload = form.file.data
        if not getattr(upload, "filename", ""):
            form.file.errors = [*form.file.errors, "Choose a file to upload."]
        else:
            with attempt() as outcome:
                data = evidence_service.read_upload(upload.stream)
                evidence = evidence_service.add_evidence(current_user, entry, data, upload.filename)
                flash(f"“{evidence.filename}” is added to this entry.", "success")
                return redirect(url_for("portfolio.entry", entry_id=entry_id) + "#evidence", 303)
            form.file.errors = [*form.file.errors, outcome.error + " Nothing was saved."]
    return entry_page(entry, evidence_form=form, status=422)


@bp.get(f"/evidence/<{ID}:evidence_id>")
@login_required
def evidence(evidence_id: int):
    item = evidence_service.get_own_evidence(current_user, evidence_id)
    if not evidence_store.path_for(item).is_file():
        current_app.logger.error("Evidence file %s is missing from disk", item.id)
        abort(404)
    return evidence_store.send_evidence(item)


@bp.route(f"/evidence/<{ID}:evidence_id>/delete", methods=["GET", "POST"])
@login_required
def delete_evidence(evidence_id: int):
    """Ask first (GET), then delete the file for good (POST)."""
    item = evidence_service.get_own_evidence(current_user, evidence_id)
    back = url_for("portfolio.entry", entry_id=item.entry_id) + "#evidence"
    form = EmptyForm()
    if form.validate_on_submit():
        filename = item.filename
        evidence_service.delete_evidence(current_user, item)
        flash(f"“{filename}” is deleted.", "success")
        return redirect(back, 303)
    return confirm_page(
        heading=f"Delete “{item.filename}”?",
        body="The file will be removed from this entry for good. This cannot be undone.",
        submit="Yes, delete the file",
        back=back,
        form=form,
        status=200 if request.method == "GET" else 400,
    )


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error):
    """A request over ``MAX_CONTENT_LENGTH`` (or a form field over Werkzeug's form memory limit)
    never reaches the view, because the CSRF check reads the form first: say so in words, on the
    entry page when the upload was to the learner's own entry."""
    uploading = request.endpoint == "portfolio.upload_evidence"
    message = (
        f"The file is too large: upload at most {evidence_service.describe_limit()}."
        if uploading
        else "What you sent is too large to save: shorten the longest text."
    ) + " Nothing was saved."
    entry_id = (request.view_args or {}).get("entry_id")
    if uploading and current_user.is_authenticated:
        entry = db.session.scalar(
            select(LearningRecordEntry).where(
                LearningRecordEntry.id == entry_id, LearningRecordEntry.user_id == current_user.id
            )
        )
        if entry is not None:
            form = EvidenceForm(formdata=None)
            form.file.errors = [message]
            return entry_page(entry, evidence_form=form, status=413)
    page = render_template(
        "portfolio/entries/refused.html",
        heading="The file is too large" if uploading else "Too much to save",
        body=message,
        back=url_for("portfolio.entries"),
    )
    return page, 413
