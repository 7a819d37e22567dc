"""Registering a training organisation, its details, its members and invitations."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from academy.db_types import utcnow
from academy.forms import EmptyForm
from academy.providers import courses as course_services
from academy.providers import services
from academy.providers.forms import InviteForm, OrganisationForm
from academy.providers.manage.common import bp, confirm_page, form_page, staff_organisation
from academy.unit_of_work import attempt


@bp.get("")
def dashboard():
    organisations = services.organisations_of(current_user)
    return render_template("providers/dashboard.html", organisations=organisations)


@bp.route("/new", methods=["GET", "POST"])
def new_organisation():
    form = OrganisationForm()
    if form.validate_on_submit():
        with attempt(form):
            provider = services.create_organisation(current_user, **form.details())
            flash(
                f"{provider.name} is registered. A curator will verify it; until then you can"
                " prepare courses but none can be published.",
                "success",
            )
            return redirect(url_for("manage.organisation", slug=provider.slug), 303)
    return form_page(
        form,
        "Register a training organisation",
        "Register organisation",
        intro="You become its first admin and can invite colleagues.",
    )


@bp.get("/<slug>")
def organisation(slug: str):
    provider = staff_organisation(slug)
    return render_template(
        "providers/organisation.html",
        provider=provider,
        courses=course_services.provider_courses(provider),
        member=services.membership(current_user, provider),
    )


@bp.route("/<slug>/details", methods=["GET", "POST"])
def edit_organisation(slug: str):
    provider = staff_organisation(slug, admin=True)
    form = OrganisationForm(obj=provider)
    if form.validate_on_submit():
        with attempt(form):
            services.update_organisation(current_user, provider, **form.details())
            flash("The organisation's details are saved.", "success")
            return redirect(url_for("manage.organisation", slug=provider.slug), 303)
        provider = staff_organisation(slug, admin=True)
    return form_page(form, f"Details of {provider.name}", "Save details", provider=provider)


@bp.get("/<slug>/members")
def members(slug: str):
    provider = staff_organisation(slug)
    return _members_page(provider, InviteForm(formdata=None))


def _members_page(provider, invite_form, problem=None, status=200):
    return render_template(
        "providers/members.html",
        provider=provider,
        members=services.members(provider),
        invitations=services.pending_invitations(provider),
        now=utcnow(),
        me=services.membership(current_user, provider),
        form=invite_form,
        confirm=EmptyForm(),
        problem=problem or " ".join(invite_form.form_errors) or None,
    ), status


def _accept_url(token: str) -> str:
    return url_for("manage.accept_invitation", token=token, _external=True)


@bp.post("/<slug>/members/invite")
def invite(slug: str):
    provider = staff_organisation(slug)
    form = InviteForm()
    if not form.validate_on_submit():
        return _members_page(provider, form, status=422)
    if form.is_admin.data:
        staff_organisation(slug, admin=True)  # only an admin may invite another admin: 403
    with attempt(form):
        services.invite(
            current_user,
            provider,
            form.email.data,
            is_admin=form.is_admin.data,
            accept_url=_accept_url,
        )
        flash(
            f"We have emailed an invitation to {form.email.data}. The link works once, for 7 days.",
            "success",
        )
        return redirect(url_for("manage.members", slug=slug), 303)
    return _members_page(staff_organisation(slug), form, status=422)


@bp.post("/<slug>/invitations/<int:invitation_id>/cancel")
def cancel_invitation(slug: str, invitation_id: int):
    provider = staff_organisation(slug)
    with attempt(flash_refusal=True):
        invitation = services.cancel_invitation(current_user, provider, invitation_id)
        flash(f"The invitation of {invitation.email} is cancelled; its link says so.", "success")
    return redirect(url_for("manage.members", slug=slug), 303)


@bp.post("/<slug>/invitations/<int:invitation_id>/resend")
def resend_invitation(slug: str, invitation_id: int):
    provider = staff_organisation(slug)
    with attempt(flash_refusal=True):
        invitation, _ = services.resend_invitation(
            current_user, provider, invitation_id, accept_url=_accept_url
        )
        flash(
            f"We have emailed {invitation.email} a new link, valid for 7 days; the old link no"
            " longer works.",
            "success",
        )
    return redirect(url_for("manage.members", slug=slug), 303)


@bp.post("/<slug>/members/<int:user_id>/admin")
def toggle_admin(slug: str, user_id: int):
    provider = staff_organisation(slug, admin=True)
    make = request.form.get("make_admin") == "1"
    with attempt(flash_refusal=True):
        services.set_admin(current_user, provider, user_id, make)
        flash("Saved.", "success")
    return redirect(url_for("manage.members", slug=slug), 303)


@bp.route("/<slug>/members/<int:user_id>/remove", methods=["GET", "POST"])
def remove_member(slug: str, user_id: int):
    provider = staff_organisation(slug)
    target = next((m for m in services.members(provider) if m.user_id == user_id), None)
    if target is None:
        abort(404)
    name = target.user.name
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            services.remove_member(current_user, provider, user_id)
        except services.NotMember:
            abort(403)  # a 4xx: the request's work is rolled back
        except services.ProviderError as error:
            flash(error.message, "error")
            return redirect(url_for("manage.members", slug=slug), 303)
        flash(f"{name} is no longer a member of {provider.name}.", "success")
        if user_id == current_user.id:
            return redirect(url_for("manage.dashboard"), 303)
        return redirect(url_for("manage.members", slug=slug), 303)
    return confirm_page(
        form,
        provider,
        f"Remove {target.user.name} from {provider.name}?",
        "They will no longer see or change the organisation's courses and cohorts.",
        "Yes, remove them",
        url_for("manage.members", slug=slug),
    )


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    try:
        invitation = services.find_invitation(token)
    except services.InvalidInvitation as error:
        return _link_refused("This link does not work", error.message)
    if current_user.email.lower() != invitation.email:
        return _link_refused(
            "This invitation is for someone else",
            f"This invitation was sent to {invitation.email}. Log in with that address to "
            "accept it, or ask the organisation to invite the address you use here.",
        )
    form = EmptyForm()
    if form.validate_on_submit():
        provider = services.accept_invitation(current_user, token)
        flash(f"You are now a member of {provider.name}.", "success")
        return redirect(url_for("manage.organisation", slug=provider.slug), 303)
    return confirm_page(
        form,
        invitation.provider,
        f"Join {invitation.provider.name}?",
        "You will be able to manage its courses and cohorts.",
        "Join the organisation",
        url_for("main.home"),
    )


def _link_refused(heading: str, message: str):
    """An invitation link that cannot be used here: a plain page saying why (400)."""
    return render_template("accounts/message.html", heading=heading, paragraphs=[message]), 400
