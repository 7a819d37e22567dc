"""Curator screens: the review queue (paged, filtered, bulk decisions), a course's review,
providers to verify, the taxonomy, the audit log. Curators only (403 for everyone else,
anonymous visitors log in first). Views never commit: ``academy.unit_of_work`` does."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from academy import params
from academy.accounts.security import curators_only
from academy.catalogue.models import Course
from academy.catalogue.versions import named, review_pair
from academy.curation import services
from academy.curation.forms import BulkForm, MergeForm
from academy.extensions import db
from academy.formatting import plural
from academy.forms import EmptyForm
from academy.providers.forms import ReasonForm, TermForm
from academy.providers.models import Provider
from academy.providers.review import review_rows, rows_between
from academy.taxonomy.models import TERM_MODELS
from academy.unit_of_work import attempt

bp = Blueprint("curation", __name__, url_prefix="/curation")
# every page here is for curators only, checked before any view runs
bp.before_request(curators_only)
#: a taxonomy URL's kind: only the kinds there are match (anything else is a 404)
KIND = f"<any({', '.join(TERM_MODELS)}):kind>"


def _course_or_404(course_id: int) -> Course:
    course = services.course_for_review(course_id)
    if course is None:
        abort(404)
    return course


def _int_arg(name: str, source=None) -> int | None:
    """A queue filter's id or page (from the URL, or the bulk form): None unless an id."""
    return params.int_or_none((source if source is not None else request.args).get(name, ""))


def _queue_filter(source=None) -> services.QueueFilter:
    source = source if source is not None else request.args
    kind = source.get("kind", "")
    age = source.get("age", "")
    return services.QueueFilter(
        provider_id=_int_arg("provider", source),
        kind=kind if kind in services.KINDS else None,
        older_than_days=int(age) if age in services.AGES else None,
    )


def _filter_args(filters: services.QueueFilter) -> dict:
    args = {}
    if filters.provider_id:
        args["provider"] = filters.provider_id
    if filters.kind:
        args["kind"] = filters.kind
    if filters.older_than_days:
        args["age"] = str(filters.older_than_days)
    return args


def _queue_page(filters: services.QueueFilter, form: BulkForm, status: int = 200):
    page = services.review_queue(filters, page=_int_arg("page") or 1)
    counts = services.queue_counts(filters)
    args = _filter_args(filters)
    return render_template(
        "curation/queue.html",
        page=page,
        courses=page.items,
        counts=counts,
        total=sum(counts.values()),
        matching=page.total,
        filters=filters,
        filter_args=args,
        args_for=lambda number: {**args, "page": number},
        kinds=services.KINDS,
        ages=services.AGES,
        providers=services.queue_providers(),
        kind_of=services.kind_of_course,
        form=form,
    ), status


@bp.get("")
def queue():
    return _queue_page(_queue_filter(), BulkForm(formdata=None))


@bp.post("/bulk")
def bulk():
    """Step 1 shows what the decision will touch and asks for the reason; step 2
    (``confirmed``) decides. Nothing chosen: the queue again, with the message, unchanged."""
    form = BulkForm()
    filters = _queue_filter(request.form)
    if not form.validate_on_submit():
        return _queue_page(filters, form, 422)
    chosen = None if form.scope.data == "all" else form.course.data
    if chosen is not None and not chosen:
        form.form_errors.append("Tick at least one course, or choose every course matching.")
        return _queue_page(filters, form, 422)
    if not form.confirmed.data:
        count, sample = services.chosen_preview(chosen, filters)
        if not count:
            form.form_errors.append("None of those courses is waiting for review any more.")
            return _queue_page(filters, form, 422)
        form.confirmed.data = "yes"
        return _confirm_page(form, chosen, filters, count, sample)
    with attempt(form):
        result = services.bulk_decide(
            current_user, form.action.data, chosen, filters, form.reason.data or ""
        )
        flash(_bulk_message(form.action.data, result), "success")
        return redirect(url_for("curation.queue", **_filter_args(filters)), 303)
    count, sample = services.chosen_preview(chosen, filters)
    return _confirm_page(form, chosen, filters, count, sample), 422


def _bulk_message(action: str, result: services.BulkResult) -> str:
    done = "approved" if action == "approve" else "sent back with your reason"
    message = f"{plural(result.done, 'course')} {done}."
    if result.skipped:
        message += f" {result.skipped} skipped (no longer waiting, or not verified)."
    return message


def _confirm_page(form, chosen, filters, count, sample):
    return render_template(
        "curation/bulk_confirm.html",
        form=form,
        chosen=chosen or [],
        count=count,
        courses=sample,
        filters=filters,
    )


@bp.get("/courses/<int:course_id>")
def review(course_id: int):
    course = _course_or_404(course_id)
    return _review_page(course, ReasonForm(formdata=None))


def _since_rejection(course):
    """For a resubmission: the rejection and the rows changed since the version it refused."""
    if not course.awaits_review or not course.rejection_reason:
        return None, []
    found = services.rejected_version(course)
    if found is None:
        return None, []
    entry, version = found
    _, now = review_pair(course)
    return entry, rows_between(named(version), now)


def _review_page(course, reason_form, status=200):
    rejection, since_rows = _since_rejection(course)
    return render_template(
        "curation/review.html",
        course=course,
        rows=review_rows(course),
        rejection=rejection,
        since_rows=since_rows,
        first_review=course.approved_snapshot is None and course.pending_edit is None,
        is_edit=course.pending_edit is not None,
        approval=services.last_approval(course),
        earlier=services.earlier_rejections(course),
        kind=services.kind_of_course(course) if course.awaits_review else None,
        seen=services.review_token(course),
        form=reason_form,
        confirm=EmptyForm(),
    ), status


@bp.post("/courses/<int:course_id>/approve")
def approve(course_id: int):
    course = _course_or_404(course_id)
    form = ReasonForm(formdata=None)
    with attempt(form):
        was_edit = course.pending_edit is not None
        services.approve(current_user, course, request.form.get("seen") or None)
        flash(
            f"{course.title} is published"
            + (" with the edit; learners now see the new version." if was_edit else "."),
            "success",
        )
        return redirect(url_for("curation.queue"), 303)
    return _review_page(_course_or_404(course_id), form, 422)


@bp.post("/courses/<int:course_id>/reject")
def reject(course_id: int):
    return _with_reason(
        course_id,
        lambda user, course, reason: services.reject(
            user, course, reason, request.form.get("seen") or None
        ),
        "is sent back to the provider",
    )


@bp.post("/courses/<int:course_id>/unpublish")
def unpublish(course_id: int):
    return _with_reason(course_id, services.unpublish, "is no longer public")


def _with_reason(course_id: int, action, done: str):
    course = _course_or_404(course_id)
    form = ReasonForm()
    if form.validate_on_submit():
        with attempt(form):
            action(current_user, course, form.reason.data)
            flash(f"{course.title} {done}, with your reason.", "success")
            return redirect(url_for("curation.queue"), 303)
        course = _course_or_404(course_id)
    return _review_page(course, form, 422)


@bp.get("/providers")
def providers():
    return render_template(
        "curation/providers.html", rows=services.providers_for_curators(), confirm=EmptyForm()
    )


@bp.post("/providers/<int:provider_id>/verify")
def verify(provider_id: int):
    provider = db.session.get(Provider, provider_id) or abort(404)
    with attempt(flash_refusal=True):
        services.verify_provider(current_user, provider)
        flash(f"{provider.name} is verified; its courses can now be published.", "success")
    return redirect(url_for("curation.providers"), 303)


def _taxonomy_page(form=None, merge=None, failed_kind=None, status=200):
    lists = {
        kind: db.session.scalars(select(model).order_by(model.position, model.name)).all()
        for kind, model in TERM_MODELS.items()
    }
    return render_template(
        "curation/taxonomy.html",
        lists=lists,
        names=services.KIND_NAMES,
        fixed=services.FIXED_KINDS,
        confirm=EmptyForm(),
        form=form or TermForm(formdata=None),
        merge=merge or MergeForm(formdata=None),
        failed_kind=failed_kind,
    ), status


@bp.get("/taxonomy")
def taxonomy():
    return _taxonomy_page()


@bp.post(f"/taxonomy/{KIND}")
def add_term(kind: str):
    form = TermForm()
    if form.validate_on_submit():
        with attempt(form):
            services.add_term(current_user, kind, form.name.data)
            flash(f'Added "{form.name.data}".', "success")
            return redirect(url_for("curation.taxonomy") + f"#{kind}", 303)
    return _taxonomy_page(form=form, failed_kind=kind, status=422)


@bp.post(f"/taxonomy/{KIND}/merge")
def merge_terms(kind: str):
    form = MergeForm()
    if form.validate_on_submit():
        with attempt(form):
            into = services.merge_term(current_user, kind, form.term.data, form.into.data)
            flash(f'Merged: its courses now have "{into.name}".', "success")
            return redirect(url_for("curation.taxonomy") + f"#{kind}", 303)
    return _taxonomy_page(merge=form, failed_kind=kind, status=422)


@bp.post(f"/taxonomy/{KIND}/<int:term_id>")
def change_term(kind: str, term_id: int):
    action = request.form.get("action")
    if action not in ("rename", "retire", "restore"):
        abort(400)
    form = EmptyForm()
    with attempt(form):
        if action == "rename":
            services.rename_term(
                current_user, kind, term_id, (request.form.get("name") or "")[:120]
            )
        else:
            services.retire_term(current_user, kind, term_id, action == "retire")
        flash("Saved.", "success")
        return redirect(url_for("curation.taxonomy") + f"#{kind}", 303)
    term_form = TermForm(formdata=None)
    term_form.form_errors.extend(form.form_errors)
    return _taxonomy_page(form=term_form, failed_kind=kind, status=422)


def _date_arg(name: str) -> date | None:
    return params.query_date(name)  # 400 with a message unless a date from 1900 to 2999


@bp.get("/audit")
def audit_log():
    filters = services.AuditFilter(
        actor_id=params.query_int("person"),  # 400 with a message unless a 32-bit id
        provider_id=params.query_int("provider"),
        course_id=params.query_int("course"),
        since=_date_arg("since"),
        until=_date_arg("until"),
    )
    page = services.audit_entries(filters, page=params.query_int("page") or 1)
    actors, provider_rows, course_titles = services.audit_names(filters, page.items)
    provider_names = dict(provider_rows)
    return render_template(
        "curation/audit.html",
        page=page,
        filters=filters,
        actors=actors,
        providers=provider_rows,
        course_titles=course_titles,
        provider_names=provider_names,
    )
