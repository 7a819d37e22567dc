"""One entry: reading it, adding a self-recorded entry, changing one and deleting one.

A verified entry (a provider's record of a completion) may only be annotated, and cannot be
deleted; the services say so and the pages explain it.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from academy.formatting import plural
from academy.forms import EmptyForm
from academy.portfolio.common import get_own_entry
from academy.portfolio.entries import services as entry_service
from academy.portfolio.entries.common import ID, bp, confirm_page, entry_page, principles
from academy.portfolio.entries.forms import AnnotationForm, EntryForm
from academy.portfolio.models import THEMES
from academy.unit_of_work import attempt


def _form_page(form, *, entry=None):
    """The entry form in its sections; every error of a refused POST is shown at once."""
    failed = request.method == "POST" and bool(form.errors or form.form_errors)
    page = render_template(
        "portfolio/entries/entry_form.html", form=form, entry=entry, themes=THEMES
    )
    return page, 422 if failed else 200


def _place_refusal(form) -> None:
    """Show the service's "confirm the reflection" refusal next to its checkbox."""
    message = entry_service.ReflectionNotConfirmed().message
    if message in form.form_errors:
        form.form_errors.remove(message)
        form.reflection_confirmed.errors = [*form.reflection_confirmed.errors, message]


@bp.get(f"/entries/<{ID}:entry_id>")
@login_required
def entry(entry_id: int):
    return entry_page(get_own_entry(current_user, entry_id))


@bp.route("/entries/new", methods=["GET", "POST"])
@login_required
def new_entry():
    form = EntryForm()
    form.set_principles(principles())
    form.show_for(current_user.regulator)
    if form.validate_on_submit():
        with attempt(form):
            entry = entry_service.create_entry(
                current_user,
                {**form.record_values(), **form.annotation_values()},
                reflection_confirmed=bool(form.reflection_confirmed.data),
            )
            flash("Your entry is saved. You can add evidence to it below.", "success")
            return redirect(url_for("portfolio.entry", entry_id=entry.id), 303)
        _place_refusal(form)
    return _form_page(form)


@bp.route(f"/entries/<{ID}:entry_id>/edit", methods=["GET", "POST"])
@login_required
def edit_entry(entry_id: int):
    """Change a self-recorded entry, or annotate a verified one (its record stays as is)."""
    entry = get_own_entry(current_user, entry_id)
    form_class = AnnotationForm if entry.verified else EntryForm
    if request.method == "GET":
        form = form_class(formdata=None, data=form_class.initial(entry))
    else:
        form = form_class()
    form.set_principles(principles(), entry.principles)
    form.show_for(current_user.regulator, entry)
    if entry.reflection_confirmed_at is not None:
        form.confirmed_reflection = entry_service.reflection_text(entry)
    if form.validate_on_submit():
        values = {"is_reflective_account": entry.is_reflective_account, **form.annotation_values()}
        if not entry.verified:
            values.update(form.record_values())
        with attempt(form):
            entry_service.update_entry(
                current_user,
                entry,
                values,
                reflection_confirmed=bool(form.reflection_confirmed.data),
            )
            flash("Your changes are saved.", "success")
            return redirect(url_for("portfolio.entry", entry_id=entry.id), 303)
        _place_refusal(form)
    return _form_page(form, entry=entry)


@bp.route(f"/entries/<{ID}:entry_id>/delete", methods=["GET", "POST"])
@login_required
def delete_entry(entry_id: int):
    """Ask first (GET), then delete the entry and its files for good (POST)."""
    entry = get_own_entry(current_user, entry_id)
    back = url_for("portfolio.entry", entry_id=entry.id)
    if entry.verified:
        page = render_template(
            "portfolio/entries/refused.html",
            heading="A verified entry cannot be deleted",
            body=entry_service.VerifiedEntryLocked().message,
            back=back,
        )
        return page, 409
    form = EmptyForm()
    if form.validate_on_submit():
        title = entry.title
        entry_service.delete_entry(current_user, entry)
        flash(f"“{title}” is deleted.", "success")
        return redirect(url_for("portfolio.entries"), 303)
    files = f" and its {plural(len(entry.evidence), 'evidence file')}" if entry.evidence else ""
    return confirm_page(
        heading=f"Delete “{entry.title}”?",
        body=f"The entry{files} will be deleted for good. This cannot be undone.",
        submit="Yes, delete the entry",
        back=back,
        form=form,
        status=200 if request.method == "GET" else 400,
    )
