"""/account/mail: each person chooses which optional mail they receive
(``academy.mail.preferences``)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField

from academy.mail import preferences

bp = Blueprint("mail_preferences", __name__, url_prefix="/account")


def _form(choices: dict[str, bool], audiences: set[str]) -> FlaskForm:
    """A form with one checkbox per optional kind that concerns this person."""

    class MailForm(FlaskForm):
        pass

    for key, kind in preferences.OPTIONAL.items():
        if kind.audience in audiences:
            setattr(MailForm, key, BooleanField(kind.label, default=choices[key]))
    return MailForm()


@bp.route("/mail", methods=["GET", "POST"])
@login_required
def choose():
    audiences = {"everyone"}
    if current_user.memberships:
        audiences.add("provider")
    if current_user.is_curator:
        audiences.add("curator")
    form = _form(preferences.choices_of(current_user), audiences)
    if form.validate_on_submit():
        preferences.choose(
            current_user,
            {
                key: getattr(form, key).data
                for key, kind in preferences.OPTIONAL.items()
                if kind.audience in audiences
            },
        )
        flash("Your mail choices are saved.", "success")
        return redirect(url_for("mail_preferences.choose"), 303)
    return render_template(
        "accounts/form_page.html",
        form=form,
        heading="Mail you receive",
        intro="Mail about something you did (confirming your address, your places, invitations)"
        " always comes. Choose which other mail you want.",
        submit="Save my choices",
        links=[("Back to your account", url_for("accounts.account"))],
    ), 422 if form.errors else 200
