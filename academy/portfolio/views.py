"""The learner's portfolio entries: the list, adding, reading, annotating and deleting entries,
and their evidence files. Every route is the learner's own: someone else's id is a 404."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from academy.extensions import db
from academy.portfolio import entries as entry_service
from academy.portfolio import evidence as evidence_service
from academy.portfolio import evidence_store
from academy.portfolio.forms import AnnotationForm, ConfirmForm, EntryForm, EvidenceForm
from academy.portfolio.models import METHODS, THEMES, LearningRecordEntry
from academy.portfolio.services import get_own_entry
from academy.taxonomy.models import Principle

bp = Blueprint("portfolio", __name__, url_prefix="/portfolio")
#: ids in URLs: larger numbers are "not found" before they reach the database (SQLite cannot
#: even compare a column with a number past 64 bits)
ID = "int(max=2147483647)"


@bp.app_template_filter("portfolio_day")
def portfolio_day(value: date | None) -> str:
    """A calendar date (no time, no time zone) as ``Tue 3 March 2026``; empty for ``None``."""
    return "" if value is None else f"{value:%a} {value.day} {value:%B %Y}"


def _principles() -> list[Principle]:
    return list(db.session.scalars(select(Principle).order_by(Principle.position, Principle.name)))


def _principle_names() -> dict[str, str]:
    return {p.slug: p.name for p in _principles()}


@bp.get("")
@login_required
def entries():
    filters = entry_service.parse_filters(request.args)
    try:
        page = entry_service.list_entries(current_user, filters)
    except entry_service.PageOutOfRange:
        abort(404)
    return render_template(
        "portfolio/entries.html",
        page=page,
        filters=filters,
        kinds=entry_service.KINDS,
        methods=METHODS,
    )


def _form_page(form, *, entry=None, problem=None, status=200):
    return (
        render_template(
            "portfolio/entry_form.html",
            form=form,
            entry=entry,
            problem=problem,
            themes=THEMES,
        ),
        status,
    )


@bp.route("/entries/new", methods=["GET", "POST"])
@login_required
def new_entry():
    form = EntryForm()
    form.set_principles(_principles())
    if not form.validate_on_submit():
        return _form_page(form, status=422 if request.method == "POST" else 200)
    try:
        entry = entry_service.create_entry(
            current_user,
            {**form.record_values(), **form.annotation_values()},
            reflection_confirmed=bool(form.reflection_confirmed.data),
        )
    except entry_service.EntryError as error:
        db.session.rollback()
        _field_error(form, error)
        return _form_page(form, status=422)
    db.session.commit()
    flash("Your entry is saved. You can add evidence to it below.", "success")
    return redirect(url_for("portfolio.entry", entry_id=entry.id), 303)


def _field_error(form, error: entry_service.EntryError) -> None:
    field = getattr(form, error.field or "", None)
    if field is not None:
        field.errors = [*field.errors, error.message]


def _entry_page(entry, *, evidence_form=None, problem=None, status=200):
    return (
        render_template(
            "portfolio/entry.html",
            entry=entry,
            evidence_form=evidence_form or EvidenceForm(formdata=None),
            problem=problem,
            methods=METHODS,
            themes=THEMES,
            principle_names=_principle_names(),
            has_reflection=entry_service.has_reflection(entry),
            max_files=evidence_service.MAX_FILES_PER_ENTRY,
        ),
        status,
    )


@bp.get(f"/entries/<{ID}:entry_id>")
@login_required
def entry(entry_id: int):
    return _entry_page(get_own_entry(current_user, entry_id))


@bp.route(f"/entries/<{ID}:entry_id>/edit", methods=["GET", "POST"])
@login_required
def edit_entry(entry_id: int):
    entry = get_own_entry(current_user, entry_id)
    form_class = AnnotationForm if entry.verified else EntryForm
    if request.method == "GET":
        form = form_class(formdata=None, data=form_class.initial(entry))
    else:
        form = form_class()
    form.set_principles(_principles(), entry.principles)
    if not form.validate_on_submit():
        return _form_page(form, entry=entry, status=422 if request.method == "POST" else 200)
    values = form.annotation_values()
    if not entry.verified:
        values.update(form.record_values())
    try:
        entry_service.update_entry(
            current_user,
            entry,
            values,
            reflection_confirmed=bool(form.reflection_confirmed.data),
        )
    except entry_service.EntryError as error:
        db.session.rollback()
        _field_error(form, error)
        return _form_page(form, entry=entry, status=422)
    db.session.commit()
    flash("Your changes are saved.", "success")
    return redirect(url_for("portfolio.entry", entry_id=entry.id), 303)


def _confirm_page(*, heading, body, submit, back, status=200):
    return (
        render_template(
            "portfolio/confirm.html",
            heading=heading,
            body=body,
            submit=submit,
            back=back,
            form=ConfirmForm(),
        ),
        status,
    )


@bp.route(f"/entries/<{ID}:entry_id>/delete", methods=["GET", "POST"])
@login_required
def delete_entry(entry_id: int):
    entry = get_own_entry(current_user, entry_id)
    back = url_for("portfolio.entry", entry_id=entry.id)
    if entry.verified:
        return (
            render_template(
                "portfolio/refused.html",
                heading="A verified entry cannot be deleted",
                body=entry_service.VerifiedEntryLocked().message,
                back=back,
            ),
            409,
        )
    form = ConfirmForm()
    if request.method == "GET" or not form.validate_on_submit():
        files = len(entry.evidence)
        return _confirm_page(
            heading=f"Delete “{entry.title}”?",
            body="The entry"
            + (f" and its {files} evidence file{'' if files == 1 else 's'}" if files else "")
            + " will be deleted for good. This cannot be undone.",
            submit="Yes, delete the entry",
            back=back,
            status=200 if request.method == "GET" else 400,
        )
    title = entry.title
    stored_names = entry_service.delete_entry(current_user, entry)
    db.session.commit()
    evidence_service.discard_files(stored_names)
    flash(f"“{title}” is deleted.", "success")
    return redirect(url_for("portfolio.entries"), 303)


@bp.post(f"/entries/<{ID}:entry_id>/evidence")
@login_required
def upload_evidence(entry_id: int):
    entry = get_own_entry(current_user, entry_id)
    form = EvidenceForm()
    if not form.validate_on_submit():
        return _entry_page(entry, evidence_form=form, status=422)
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", ""):
        form.file.errors = [*form.file.errors, "Choose a file to upload."]
        return _entry_page(entry, evidence_form=form, status=422)
    data = evidence_service.read_upload(upload.stream)
    try:
        evidence = evidence_service.add_evidence(current_user, entry, data, upload.filename)
    except evidence_service.EvidenceRefused as error:
        db.session.rollback()
        form.file.errors = [*form.file.errors, error.message + " Nothing was saved."]
        return _entry_page(entry, evidence_form=form, status=422)
    stored_name, filename = evidence.stored_name, evidence.filename
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        evidence_service.discard_files([stored_name])
        raise
    flash(f"“{filename}” is added to this entry.", "success")
    return redirect(url_for("portfolio.entry", entry_id=entry_id) + "#evidence", 303)


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
    item = evidence_service.get_own_evidence(current_user, evidence_id)
    entry_id = item.entry_id
    back = url_for("portfolio.entry", entry_id=entry_id) + "#evidence"
    form = ConfirmForm()
    if request.method == "GET" or not form.validate_on_submit():
        return _confirm_page(
            heading=f"Delete “{item.filename}”?",
            body="The file will be removed from this entry for good. This cannot be undone.",
            submit="Yes, delete the file",
            back=back,
            status=200 if request.method == "GET" else 400,
        )
    filename = item.filename
    stored_names = evidence_service.delete_evidence(current_user, item)
    db.session.commit()
    evidence_service.discard_files(stored_names)
    flash(f"“{filename}” is deleted.", "success")
    return redirect(back, 303)


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
            return _entry_page(entry, evidence_form=form, status=413)
    return (
        render_template(
            "portfolio/refused.html",
            heading="The file is too large" if uploading else "Too much to save",
            body=message,
            back=url_for("portfolio.entries"),
        ),
        413,
    )
