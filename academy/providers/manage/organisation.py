"""Registering a training organisation, its details, its members and invitations."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from academy.extensions import db
from academy.providers import courses as course_services
from academy.providers import services
from academy.providers.forms import ConfirmForm, InviteForm, OrganisationForm
from academy.providers.manage.common import bp, form_status, staff_organisation


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
    ), form_status(form)


@bp.get("/<slug>")
@login_required
def organisation(slug: str):
    provider = staff_organisation(slug)
    return render_template(
        "providers/organisation.html",
        provider=provider,
        courses=course_services.provider_courses(provider),
        member=services.membership(current_user, provider),
    )


@bp.route("/<slug>/details", methods=["GET", "POST"])
@login_required
def edit_organisation(slug: str):
    provider = staff_organisation(slug, admin=True)
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
    ), form_status(form)


@bp.get("/<slug>/members")
@login_required
def members(slug: str):
    provider = staff_organisation(slug)
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
    provider = staff_organisation(slug)
    form = InviteForm()
    if not form.validate_on_submit():
        return _members_page(provider, form, status=422)
    if form.is_admin.data:
        staff_organisation(
            slug, admin=True
        )  # only an admin may invite another admin: 403 otherwise
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
    provider = staff_organisation(slug, admin=True)
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
    provider = staff_organisation(slug)
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
