"""Provider staff screens: organisations, members and invitations, the course editor,
cohorts and running them, and bulk import. Thin views: a form, one service call, one commit.

Every page under ``/provider/<slug>`` is for that organisation's staff only (403 for others);
a course or cohort id of another organisation is "not found" (404) and changes nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from academy.catalogue.models import Course
from academy.catalogue.pages import get_course_preview
from academy.extensions import db
from academy.providers import cohorts as cohort_services
from academy.providers import courses as course_services
from academy.providers import imports, services
from academy.providers.forms import (
    CancelCohortForm,
    CohortEditForm,
    CohortForm,
    ConfirmForm,
    CourseForm,
    DecisionForm,
    ImportForm,
    InviteForm,
    OrganisationForm,
    SessionForm,
)
from academy.providers.models import Provider
from academy.taxonomy.models import TERM_MODELS

bp = Blueprint("manage", __name__, url_prefix="/provider")
UK = ZoneInfo("Europe/London")


def _status(form, problem=None) -> int:
    return 422 if request.method == "POST" and (form.errors or problem) else 200


def _org(slug: str, *, admin: bool = False) -> Provider:
    """The organisation, for its staff; :raise 404: no such one; :raise 403: not its staff."""
    provider = db.session.scalar(select(Provider).where(Provider.slug == slug))
    if provider is None:
        abort(404)
    try:
        services.require_staff(current_user, provider, admin=admin)
    except services.NotMember:
        abort(403)
    return provider


def _course(provider: Provider, course_id: int) -> Course:
    try:
        return course_services.get_course(current_user, provider, course_id)
    except services.ProviderError:
        abort(404)


def _cohort(provider: Provider, cohort_id: int):
    try:
        return cohort_services.get_cohort(current_user, provider, cohort_id)
    except services.ProviderError:
        abort(404)


def _uk(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=UK).astimezone(UTC)


def _local(moment: datetime) -> datetime:
    return moment.astimezone(UK)


# ---------------------------------------------------------------------------- organisations


@bp.get("")
@login_required
def dashboard():
    organisations = services.organisations_of(current_user)
    return render_template("providers/dashboard.html", organisations=organisations)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_organisation():
    form = OrganisationForm()
    if form.validate_on_submit():
        provider = services.create_organisation(
            current_user,
            name=form.name.data,
            website=form.website.data,
            contact_email=form.contact_email.data,
            description=form.description.data or "",
        )
        db.session.commit()
        flash(
            f"{provider.name} is registered. A curator will verify it; until then you can"
            " prepare courses but none can be published.",
            "success",
        )
        return redirect(url_for("manage.organisation", slug=provider.slug), 303)
    return render_template(
        "providers/form.html",
        form=form,
        heading="Register a training organisation",
        submit="Register organisation",
        intro="You become its first admin and can invite colleagues.",
    ), _status(form)


@bp.get("/<slug>")
@login_required
def organisation(slug: str):
    provider = _org(slug)
    return render_template(
        "providers/organisation.html",
        provider=provider,
        courses=course_services.provider_courses(provider),
        member=services.membership(current_user, provider),
    )


@bp.route("/<slug>/details", methods=["GET", "POST"])
@login_required
def edit_organisation(slug: str):
    provider = _org(slug, admin=True)
    form = OrganisationForm(obj=provider)
    if form.validate_on_submit():
        services.update_organisation(
            current_user,
            provider,
            name=form.name.data,
            website=form.website.data,
            contact_email=form.contact_email.data,
            description=form.description.data or "",
        )
        db.session.commit()
        flash("The organisation's details are saved.", "success")
        return redirect(url_for("manage.organisation", slug=provider.slug), 303)
    return render_template(
        "providers/form.html",
        form=form,
        heading=f"Details of {provider.name}",
        submit="Save details",
        provider=provider,
    ), _status(form)


@bp.get("/<slug>/members")
@login_required
def members(slug: str):
    provider = _org(slug)
    return _members_page(provider, InviteForm())


def _members_page(provider, invite_form, problem=None, status=200):
    return render_template(
        "providers/members.html",
        provider=provider,
        members=services.members(provider),
        invitations=services.pending_invitations(provider),
        me=services.membership(current_user, provider),
        form=invite_form,
        confirm=ConfirmForm(),
        problem=problem,
    ), status


@bp.post("/<slug>/members/invite")
@login_required
def invite(slug: str):
    provider = _org(slug)
    form = InviteForm()
    if not form.validate_on_submit():
        return _members_page(provider, form, status=422)
    if form.is_admin.data:
        _org(slug, admin=True)  # only an admin may invite another admin: 403 otherwise
    try:
        services.invite(
            current_user,
            provider,
            form.email.data,
            is_admin=form.is_admin.data,
            accept_url=lambda token: url_for(
                "manage.accept_invitation", token=token, _external=True
            ),
        )
    except services.ProviderError as error:
        db.session.rollback()
        return _members_page(provider, form, problem=error.message, status=422)
    db.session.commit()
    flash(
        f"We have emailed an invitation to {form.email.data}. The link works once, for 7 days.",
        "success",
    )
    return redirect(url_for("manage.members", slug=slug), 303)


@bp.post("/<slug>/members/<int:user_id>/admin")
@login_required
def toggle_admin(slug: str, user_id: int):
    provider = _org(slug, admin=True)
    form = ConfirmForm()
    if form.validate_on_submit():
        make = request.form.get("make_admin") == "1"
        try:
            services.set_admin(current_user, provider, user_id, make)
        except services.ProviderError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash("Saved.", "success")
    return redirect(url_for("manage.members", slug=slug), 303)


@bp.route("/<slug>/members/<int:user_id>/remove", methods=["GET", "POST"])
@login_required
def remove_member(slug: str, user_id: int):
    provider = _org(slug)
    target = next((m for m in services.members(provider) if m.user_id == user_id), None)
    if target is None:
        abort(404)
    name = target.user.name
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.remove_member(current_user, provider, user_id)
        except services.NotMember:
            db.session.rollback()
            abort(403)
        except services.ProviderError as error:
            db.session.rollback()
            flash(error.message, "error")
            return redirect(url_for("manage.members", slug=slug), 303)
        db.session.commit()
        flash(f"{name} is no longer a member of {provider.name}.", "success")
        if user_id == current_user.id:
            return redirect(url_for("manage.dashboard"), 303)
        return redirect(url_for("manage.members", slug=slug), 303)
    return render_template(
        "providers/confirm.html",
        form=form,
        provider=provider,
        heading=f"Remove {target.user.name} from {provider.name}?",
        body="They will no longer see or change the organisation's courses and cohorts.",
        submit="Yes, remove them",
        back=url_for("manage.members", slug=slug),
    )


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@login_required
def accept_invitation(token: str):
    try:
        invitation = services.find_invitation(token)
    except services.InvalidInvitation as error:
        return render_template(
            "accounts/message.html", heading="This link does not work", paragraphs=[error.message]
        ), 400
    if current_user.email.lower() != invitation.email:
        message = (
            f"This invitation was sent to {invitation.email}. Log in with that address to "
            "accept it, or ask the organisation to invite the address you use here."
        )
        return render_template(
            "accounts/message.html", heading="This invitation is for someone else",
            paragraphs=[message],
        ), 400  # fmt: skip
    form = ConfirmForm()
    if form.validate_on_submit():
        provider = services.accept_invitation(current_user, token)
        db.session.commit()
        flash(f"You are now a member of {provider.name}.", "success")
        return redirect(url_for("manage.organisation", slug=provider.slug), 303)
    return render_template(
        "providers/confirm.html",
        form=form,
        provider=invitation.provider,
        heading=f"Join {invitation.provider.name}?",
        body="You will be able to manage its courses and cohorts.",
        submit="Join the organisation",
        back=url_for("main.home"),
    )


# ---------------------------------------------------------------------------- course editor


def _term_choices(kind: str, keep: list) -> tuple[list, dict]:
    """Choices for one taxonomy list: current values, plus retired ones the course has."""
    model = TERM_MODELS[kind]
    terms = db.session.scalars(select(model).order_by(model.position, model.name)).all()
    kept = {t.id for t in keep if t is not None}
    shown = [t for t in terms if not t.is_retired or t.id in kept]
    return [SelectChoice(t.id, t.name + (" (retired)" if t.is_retired else "")) for t in shown], {
        t.id: t for t in shown
    }


def _course_form(course: Course | None = None) -> tuple[CourseForm, dict, dict]:
    """The editor form with its choices; retired terms are offered only where already chosen."""
    form = CourseForm(obj=course)
    terms = {}
    for kind, name in (
        ("steps", "step"),
        ("delivery_modes", "delivery_mode"),
        ("regions", "region"),
        ("sectors", "sectors"),
        ("professions", "professions"),
        ("principles", "principles"),
    ):
        current = getattr(course, name) if course is not None else None
        keep = current if isinstance(current, list) else [current]
        choices, terms[kind] = _term_choices(kind, keep)
        if name == "step":
            choices = [SelectChoice("", "Choose a step"), *choices]
        elif name in ("delivery_mode", "region"):
            choices = [SelectChoice("", "Not given"), *choices]
        getattr(form, name).choices = choices
    published = db.session.scalars(
        select(Course)
        .where(Course.status == "published", Course.id != (course.id if course else -1))
        .options(selectinload(Course.provider))
        .order_by(Course.title)
    ).all()
    keep_courses = list(course.prerequisites) if course is not None else []
    offered = {c.id: c for c in [*published, *keep_courses]}
    form.prerequisites.choices = [
        SelectChoice(c.id, f"{c.title} ({c.provider.name})")
        for c in sorted(offered.values(), key=lambda c: c.title)
    ]
    if course is not None and request.method == "GET":
        form.step.data = course.step_id
        form.delivery_mode.data = course.delivery_mode_id
        form.region.data = course.region_id
        form.sectors.data = [t.id for t in course.sectors]
        form.professions.data = [t.id for t in course.professions]
        form.principles.data = [t.id for t in course.principles]
        form.prerequisites.data = [c.id for c in course.prerequisites]
        form.fee.data = course.fee_pounds
    return form, terms, offered


def _course_page(form, provider, course, problem=None):
    return render_template(
        "providers/course_form.html",
        form=form,
        provider=provider,
        course=course,
        problem=problem,
    ), _status(form, problem)


@bp.route("/<slug>/courses/new", methods=["GET", "POST"])
@login_required
def new_course(slug: str):
    provider = _org(slug)
    form, terms, offered = _course_form()
    if form.validate_on_submit():
        try:
            course = course_services.create_course(
                current_user, provider, form.model_values(terms, offered)
            )
        except services.ProviderError as error:
            db.session.rollback()
            return _course_page(form, provider, None, error.message)
        db.session.commit()
        flash("The course is saved as a draft. Preview it, then submit it for review.", "success")
        return redirect(url_for("manage.course", slug=slug, course_id=course.id), 303)
    return _course_page(form, provider, None)


@bp.get("/<slug>/courses/<int:course_id>")
@login_required
def course(slug: str, course_id: int):
    provider = _org(slug)
    course = _course(provider, course_id)
    return render_template(
        "providers/course.html",
        provider=provider,
        course=course,
        confirm=ConfirmForm(),
        changes=course_services.changes_since_approval(course) if course.approved_snapshot else {},
        label=course_services.label,
    )


@bp.route("/<slug>/courses/<int:course_id>/edit", methods=["GET", "POST"])
@login_required
def edit_course(slug: str, course_id: int):
    provider = _org(slug)
    course = _course(provider, course_id)
    if course.status == "archived":
        flash("This course is archived, so it can no longer be edited.", "error")
        return redirect(url_for("manage.course", slug=slug, course_id=course_id), 303)
    form, terms, offered = _course_form(course)
    if form.validate_on_submit():
        try:
            changes = course_services.update_course(
                current_user, course, form.model_values(terms, offered)
            )
        except services.ProviderError as error:
            db.session.rollback()
            return _course_page(form, provider, course, error.message)
        db.session.commit()
        if not changes:
            flash("Nothing had changed.", "info")
        elif course.status == "published":
            flash(
                "Saved. The course stays published; the curators will see what changed.", "success"
            )
        else:
            flash("Saved.", "success")
        return redirect(url_for("manage.course", slug=slug, course_id=course_id), 303)
    return _course_page(form, provider, course)


@bp.get("/<slug>/courses/<int:course_id>/preview")
@login_required
def preview_course(slug: str, course_id: int):
    provider = _org(slug)
    course = _course(provider, course_id)
    return render_template(
        "catalogue/detail.html", page=get_course_preview(course.id), preview=True
    )


@bp.post("/<slug>/courses/<int:course_id>/submit")
@login_required
def submit_course(slug: str, course_id: int):
    provider = _org(slug)
    course = _course(provider, course_id)
    if ConfirmForm().validate_on_submit():
        try:
            course_services.submit_course(current_user, course)
        except services.ProviderError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash("Submitted. A curator will review it; we will show their answer here.", "success")
    return redirect(url_for("manage.course", slug=slug, course_id=course_id), 303)


@bp.route("/<slug>/courses/<int:course_id>/archive", methods=["GET", "POST"])
@login_required
def archive_course(slug: str, course_id: int):
    provider = _org(slug)
    course = _course(provider, course_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            course_services.archive_course(current_user, course)
        except services.ProviderError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(
                f"{course.title} is archived. Its cohorts and learners' records are kept.",
                "success",
            )
        return redirect(url_for("manage.course", slug=slug, course_id=course_id), 303)
    return render_template(
        "providers/confirm.html",
        form=form,
        provider=provider,
        heading=f"Archive {course.title}?",
        body="It leaves the catalogue for good and can no longer be edited. Its cohorts,"
        " enrolments and learners' records are kept.",
        submit="Yes, archive it",
        back=url_for("manage.course", slug=slug, course_id=course_id),
    )


# ---------------------------------------------------------------------------- cohorts


@bp.route("/<slug>/courses/<int:course_id>/cohorts/new", methods=["GET", "POST"])
@login_required
def new_cohort(slug: str, course_id: int):
    provider = _org(slug)
    course = _course(provider, course_id)
    form = CohortForm()
    problem = None
    if form.validate_on_submit():
        try:
            cohort = cohort_services.create_cohort(
                current_user,
                course,
                capacity=form.capacity.data,
                is_online=form.is_online.data,
                location=form.location.data,
                enrolment_closes_at=_uk(form.closes_on.data, time(23, 59))
                if form.closes_on.data
                else None,
                starts_at=_uk(form.date.data, form.start_time.data),
                ends_at=_uk(form.date.data, form.end_time.data),
            )
        except services.ProviderError as error:
            db.session.rollback()
            problem = error.message
        else:
            db.session.commit()
            flash("The cohort is added. Add more sessions if it meets more than once.", "success")
            return redirect(url_for("manage.cohort", slug=slug, cohort_id=cohort.id), 303)
    return render_template(
        "providers/form.html",
        form=form,
        provider=provider,
        problem=problem,
        heading=f"Add a cohort of {course.title}",
        submit="Add cohort",
        intro="Give the first session now; you can add more sessions next.",
    ), _status(form, problem)


@bp.get("/<slug>/cohorts/<int:cohort_id>")
@login_required
def cohort(slug: str, cohort_id: int):
    provider = _org(slug)
    cohort = _cohort(provider, cohort_id)
    return _cohort_page(provider, cohort)


def _cohort_page(provider, cohort, *, session_form=None, status=200):
    rows = cohort_services.enrolment_list(cohort)
    return render_template(
        "providers/cohort.html",
        provider=provider,
        cohort=cohort,
        rows=rows,
        confirm=ConfirmForm(),
        decision=DecisionForm(),
        session_form=session_form or SessionForm(formdata=None),
        local=_local,
        pending=[r for r in rows if r.status == "requested"],
    ), status


@bp.route("/<slug>/cohorts/<int:cohort_id>/edit", methods=["GET", "POST"])
@login_required
def edit_cohort(slug: str, cohort_id: int):
    provider = _org(slug)
    cohort = _cohort(provider, cohort_id)
    form = CohortEditForm(obj=cohort)
    if request.method == "GET" and cohort.enrolment_closes_at:
        form.closes_on.data = _local(cohort.enrolment_closes_at).date()
    problem = None
    if form.validate_on_submit():
        try:
            promoted = cohort_services.update_cohort(
                current_user,
                cohort,
                capacity=form.capacity.data,
                is_online=form.is_online.data,
                location=form.location.data,
                enrolment_closes_at=_uk(form.closes_on.data, time(23, 59))
                if form.closes_on.data
                else None,
            )
        except services.ProviderError as error:
            db.session.rollback()
            problem = error.message
        else:
            db.session.commit()
            extra = (
                f" {len(promoted)} learners moved from the waitlist to a place." if promoted else ""
            )
            flash("The cohort is saved." + extra, "success")
            return redirect(url_for("manage.cohort", slug=slug, cohort_id=cohort_id), 303)
    return render_template(
        "providers/form.html",
        form=form,
        provider=provider,
        problem=problem,
        problem_field="capacity",
        heading=f"Change the cohort of {cohort.course.title}",
        submit="Save cohort",
    ), _status(form, problem)


@bp.post("/<slug>/cohorts/<int:cohort_id>/sessions")
@login_required
def add_session(slug: str, cohort_id: int):
    provider = _org(slug)
    cohort = _cohort(provider, cohort_id)
    form = SessionForm()
    if not form.validate_on_submit():
        return _cohort_page(provider, cohort, session_form=form, status=422)
    cohort_services.add_session(
        current_user,
        cohort,
        _uk(form.date.data, form.start_time.data),
        _uk(form.date.data, form.end_time.data),
    )
    db.session.commit()
    flash("The session is added.", "success")
    return redirect(url_for("manage.cohort", slug=slug, cohort_id=cohort_id), 303)


@bp.route("/<slug>/cohorts/<int:cohort_id>/sessions/<int:session_id>", methods=["GET", "POST"])
@login_required
def move_session(slug: str, cohort_id: int, session_id: int):
    provider = _org(slug)
    cohort = _cohort(provider, cohort_id)
    session = next((s for s in cohort.sessions if s.id == session_id), None)
    if session is None:
        abort(404)
    form = SessionForm()
    if request.method == "GET":
        start, end = _local(session.starts_at), _local(session.ends_at)
        form.date.data, form.start_time.data, form.end_time.data = (
            start.date(),
            start.time(),
            end.time(),
        )
    if form.validate_on_submit():
        told = cohort_services.move_session(
            current_user,
            cohort,
            session_id,
            _uk(form.date.data, form.start_time.data),
            _uk(form.date.data, form.end_time.data),
        )
        db.session.commit()
        flash(
            f"The session is moved. We have emailed {len(told)} learners and their"
            " calendars will update.",
            "success",
        )
        return redirect(url_for("manage.cohort", slug=slug, cohort_id=cohort_id), 303)
    return render_template(
        "providers/form.html",
        form=form,
        provider=provider,
        heading="Change the session's date and times",
        intro="Everyone with a place or on the waitlist is emailed, and their calendar updates.",
        submit="Save and tell learners",
    ), _status(form)


@bp.route("/<slug>/cohorts/<int:cohort_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel_cohort(slug: str, cohort_id: int):
    provider = _org(slug)
    cohort = _cohort(provider, cohort_id)
    form = CancelCohortForm()
    if form.validate_on_submit():
        try:
            told = cohort_services.cancel_cohort(current_user, cohort, form.message.data or "")
        except services.ProviderError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(f"The cohort is cancelled and we have emailed {len(told)} learners.", "success")
        return redirect(url_for("manage.cohort", slug=slug, cohort_id=cohort_id), 303)
    return render_template(
        "providers/form.html",
        form=form,
        provider=provider,
        heading=f"Cancel this cohort of {cohort.course.title}?",
        intro="Everyone with a place, on the waitlist or asking for a place is emailed, and"
        " their enrolments are marked cancelled. This cannot be undone.",
        submit="Yes, cancel the cohort",
        danger=True,
    ), _status(form)


@bp.post("/<slug>/cohorts/<int:cohort_id>/requests/<int:enrolment_id>")
@login_required
def decide(slug: str, cohort_id: int, enrolment_id: int):
    provider = _org(slug)
    cohort = _cohort(provider, cohort_id)
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
    provider = _org(slug)
    cohort = _cohort(provider, cohort_id)
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
        ids = [int(v) for v in request.form.getlist("enrolment") if v.isdigit()]
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
    provider = _org(slug)
    cohort = _cohort(provider, cohort_id)
    body = cohort_services.enrolment_csv(cohort)
    return Response(
        "\ufeff" + body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="cohort-{cohort.id}.csv"',
            "Cache-Control": "no-store",
        },
    )


# ---------------------------------------------------------------------------- bulk import

_DOCS = Path(__file__).resolve().parent.parent.parent / "docs"


@bp.get("/import-template.csv")
def import_template():
    return send_file(
        _DOCS / "import-template.csv",
        mimetype="text/csv",
        as_attachment=True,
        download_name="academy-course-template.csv",
    )


@bp.get("/import-guide.txt")
def import_guide():
    return send_file(
        _DOCS / "import-guide.md",
        mimetype="text/plain",
        as_attachment=True,
        download_name="academy-import-column-guide.txt",
    )


def _import_page(provider, form, *, checked=None, problem=None, status=200):
    return render_template(
        "providers/import.html",
        provider=provider,
        form=form,
        checked=checked,
        problem=problem,
        confirm=ConfirmForm(formdata=None),
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
@login_required
def import_courses(slug: str):
    provider = _org(slug)
    form = ImportForm()
    if request.method == "GET":
        return _import_page(provider, form)
    if not form.validate_on_submit():
        return _import_page(provider, form, status=422)
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
    checked = imports.check_upload(current_user, provider, data)
    db.session.rollback()  # checking writes nothing; be sure of it
    status = 422 if checked.plan.report.problems else 200
    return _import_page(provider, form, checked=checked, status=status)


@bp.post("/<slug>/import/confirm")
@login_required
def confirm_import(slug: str):
    provider = _org(slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    plan = imports.apply_upload(current_user, provider, request.form.get("token", ""))
    if plan is None:
        db.session.rollback()
        flash("That upload has expired or was already imported. Upload the file again.", "error")
        return redirect(url_for("manage.import_courses", slug=slug), 303)
    report = plan.report
    if not report.applied:
        db.session.rollback()
        flash(
            "The file no longer passes the checks (the catalogue changed meanwhile). Upload it"
            " again to see why. Nothing was imported.",
            "error",
        )
        return redirect(url_for("manage.import_courses", slug=slug), 303)
    db.session.commit()
    flash(
        f"Imported: {report.new} new, {report.changed} changed, {report.unchanged} unchanged."
        " New and changed courses are waiting for a curator's review.",
        "success",
    )
    return redirect(url_for("manage.organisation", slug=slug), 303)
