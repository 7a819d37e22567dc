"""Bulk import from the web: the template and guide, the upload, its report and the
confirmation that applies it (the CSV core is ``academy/imports/course_csv.py``)."""

from __future__ import annotations

from pathlib import Path

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from academy.accounts.security import open_to_all
from academy.extensions import db
from academy.forms import EmptyForm
from academy.providers import imports
from academy.providers.forms import ImportForm
from academy.providers.manage.common import bp, form_status, staff_organisation
from academy.providers.models import Provider

_DOCS = Path(__file__).resolve().parents[3] / "docs"


def _document(name: str, mimetype: str, download_name: str):
    """One of the import documents in ``docs/``, sent as a download named ``download_name``."""
    return send_file(
        _DOCS / name, mimetype=mimetype, as_attachment=True, download_name=download_name
    )


@bp.get("/import-template.csv")
@open_to_all
def import_template():
    return _document("import-template.csv", "text/csv", "academy-course-template.csv")


@bp.get("/import-guide.txt")
@open_to_all
def import_guide():
    return _document("import-guide.md", "text/plain", "academy-import-column-guide.txt")


def _import_page(provider, form, *, checked=None, problem=None, status=200):
    return render_template(
        "providers/import.html",
        provider=provider,
        form=form,
        checked=checked,
        problem=problem,
        confirm=EmptyForm(formdata=None),
    ), status


@bp.errorhandler(413)
def too_large(error):
    slug = (request.view_args or {}).get("slug")
    provider = db.session.scalar(select(Provider).where(Provider.slug == slug)) if slug else None
    if provider is None or request.endpoint != "manage.import_courses":
        return render_template("errors/generic.html", error=error), 413
    return _import_page(
        provider,
        ImportForm(formdata=None),
        status=413,
        problem="The file is too large: upload at most 10 MB (about 20,000 courses). Nothing"
        " was imported.",
    )


@bp.route("/<slug>/import", methods=["GET", "POST"])
def import_courses(slug: str):
    provider = staff_organisation(slug)
    form = ImportForm()
    if not form.validate_on_submit():  # a GET, or a POST its checks refused (422)
        return _import_page(provider, form, status=form_status(form))
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", ""):
        return _import_page(provider, form, problem="Choose a CSV file to upload.", status=422)
    data = upload.read(imports.MAX_UPLOAD_BYTES + 1)
    if len(data) > imports.MAX_UPLOAD_BYTES:
        return _import_page(
            provider,
            form,
            status=413,
            problem="The file is too large: upload at most 10 MB. Nothing was imported.",
        )
    checked = imports.check_upload(
        current_user, provider, data, skip_bad_rows=bool(form.skip_bad_rows.data)
    )
    # checking writes nothing; with problems the request is a 422 and is rolled back anyway
    status = 422 if checked.plan.report.problems and not checked.token else 200
    return _import_page(provider, form, checked=checked, status=status)


@bp.post("/<slug>/import/confirm")
def confirm_import(slug: str):
    provider = staff_organisation(slug)
    skip_bad_rows = request.form.get("skip_bad_rows") == "yes"
    plan = imports.apply_upload(
        current_user, provider, request.form.get("token", ""), skip_bad_rows=skip_bad_rows
    )
    if plan is None:
        flash("That upload has expired or was already imported. Upload the file again.", "error")
        return redirect(url_for("manage.import_courses", slug=slug), 303)
    report = plan.report
    if not report.applied:
        flash(
            "The file no longer passes the checks (the catalogue changed meanwhile). Upload it"
            " again to see why. Nothing was imported.",
            "error",
        )
        return redirect(url_for("manage.import_courses", slug=slug), 303)
    skipped = len(report.skipped_rows) + report.skipped
    flash(
        f"Imported: {report.new} new, {report.changed} changed, {report.unchanged} unchanged"
        + (f", {skipped} row{'s' if skipped != 1 else ''} left out" if skipped else "")
        + ". Courses you submitted and changes to published courses wait for a curator.",
        "success",
    )
    return redirect(url_for("manage.organisation", slug=slug), 303)
