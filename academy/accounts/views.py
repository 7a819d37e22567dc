"""Register, confirm, log in and out, reset and change the password or email, edit the profile.

Every view leaves the transaction to :mod:`academy.unit_of_work`. The ``next`` target (a path
on this site, anchor included, checked by :func:`safe_next`) is carried through log-in,
registration and the confirmation mail, so a learner who set out to enrol lands back there.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from academy.accounts import services
from academy.accounts.forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
)
from academy.accounts.security import log_in, log_out, safe_next
from academy.extensions import db
from academy.taxonomy.models import Profession, Region, Sector
from academy.unit_of_work import attempt, keep_work

bp = Blueprint("accounts", __name__)


def _status(form) -> int:
    return 422 if (form.errors or form.form_errors) else 200


def _form_page(form, heading: str, submit: str, status: int | None = None, **extra):
    """The shared one-form page; a refusal caught by ``attempt`` heads the error summary."""
    problem = form.form_errors[0] if form.form_errors else None
    page = render_template(
        "accounts/form_page.html",
        form=form,
        heading=heading,
        submit=submit,
        problem=problem,
        **extra,
    )
    return page, status or _status(form)


def _message(heading: str, *paragraphs: str, links=(), status: int = 200):
    page = render_template(
        "accounts/message.html", heading=heading, paragraphs=paragraphs, links=links
    )
    return page, status


def _target() -> str | None:
    """This request's ``next`` target if it is a path on this site, else ``None``."""
    return safe_next(request.args.get("next"))


def _with_next(endpoint: str, target: str | None) -> str:
    return url_for(endpoint, next=target) if target else url_for(endpoint)


@bp.route("/register", methods=["GET", "POST"])
def register():
    target = _target()
    if current_user.is_authenticated:
        return redirect(target or url_for("enrolment.my_learning"))
    form = RegisterForm()
    if form.validate_on_submit():
        with attempt(form):
            services.register(form.name.data, form.email.data, form.password.data, target)
            return _check_email(form.email.data)
    return _form_page(
        form,
        "Create an account",
        "Create account",
        problem_field="password",
        action=_with_next("accounts.register", target),
        intro="Anyone may join: you need no NHS account or employer sponsor.",
        links=[("I already have an account: log in", _with_next("accounts.login", target))],
    )


def _check_email(address: str):
    return _message(
        "Check your email",
        f"We have sent a message to {address}. Follow the link in it to finish creating your "
        "account. The link works once, for 3 days.",
        "If nothing arrives within a few minutes, check your spam folder, or register again.",
    )


@bp.get("/register/confirm/<token>")
def confirm(token: str):
    """Confirm an address once and log its owner in; a used or outdated link logs no one in."""
    target = _target()
    with attempt() as outcome:
        user = services.confirm_email(token)
        log_in(user)
        flash("Your email address is confirmed and you are logged in. Welcome.", "success")
        return redirect(target or url_for("enrolment.my_learning"))
    return _message(
        "That link does not work",
        outcome.error,
        links=[
            ("Log in", _with_next("accounts.login", target)),
            ("Register", _with_next("accounts.register", target)),
        ],
        status=400,
    )


@bp.route("/login", methods=["GET", "POST"])
def login():
    target = _target()
    if current_user.is_authenticated:
        return redirect(target or url_for("enrolment.my_learning"))
    form = LoginForm()
    status = None
    if form.validate_on_submit():
        address = request.remote_addr or "unknown"
        try:
            user = services.authenticate(
                form.email.data, form.password.data, address, next_path=target
            )
        except services.AccountError as error:
            # not attempt(): the failure must stay counted (and a new confirmation link sent)
            form.form_errors.append(error.message)
            status = error.status
            keep_work()
        else:
            services.purge_old_attempts()
            log_in(user)
            flash(f"You are logged in as {user.email}.", "success")
            return redirect(target or url_for("enrolment.my_learning"))
    return _login_page(form, target, status)


def _login_page(form, target: str | None, status: int | None):
    return _form_page(
        form,
        "Log in",
        "Log in",
        status=status,
        problem_field="email",
        action=_with_next("accounts.login", target),
        links=[
            ("Forgotten your password?", url_for("accounts.forgot_password")),
            ("Create an account", _with_next("accounts.register", target)),
        ],
    )


@bp.post("/logout")
def logout():
    log_out()
    flash("You have logged out.", "success")
    return redirect(url_for("main.home"))


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        return _message(
            "Check your email",
            f"If {form.email.data} has an account, we have sent it a link to choose a new "
            "password. The link works once, within an hour.",
        )
    return _form_page(
        form,
        "Forgotten your password?",
        "Send me a link",
        intro="Enter your email address and we will send you a link to choose a new password.",
    )


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    with attempt() as outcome:
        services.check_reset_token(token)
    if outcome.failed:
        return _message(
            "That link does not work",
            outcome.error,
            links=[("Ask for a new link", url_for("accounts.forgot_password"))],
            status=400,
        )
    form = ResetPasswordForm()
    if form.validate_on_submit():
        with attempt(form):
            user = services.reset_password(token, form.password.data)
            log_in(user)
            flash("Your password is changed and you are logged in.", "success")
            return redirect(url_for("enrolment.my_learning"))
    return _form_page(form, "Choose a new password", "Save new password", problem_field="password")


def _profile_form(user):
    form = ProfileForm(obj=user)
    form.set_choices(
        db.session.scalars(select(Sector).order_by(Sector.position)),
        db.session.scalars(select(Profession).order_by(Profession.position)),
        db.session.scalars(select(Region).order_by(Region.position)),
    )
    return form


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = _profile_form(current_user)
    if form.validate_on_submit():
        services.update_profile(
            current_user,
            name=form.name.data,
            sector_id=form.sector_id.data,
            profession_id=form.profession_id.data,
            region_id=form.region_id.data,
            employer=form.employer.data or "",
            regulator=form.regulator.data or "",
            revalidation_on=form.revalidation_on.data,
        )
        flash("Your profile is saved.", "success")
        return redirect(url_for("accounts.account"))
    return render_template("accounts/account.html", form=form), _status(form)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        with attempt(form):
            services.change_password(current_user, form.current_password.data, form.password.data)
            flash("Your password is changed. Other devices have been logged out.", "success")
            return redirect(url_for("accounts.account"))
    return _form_page(
        form, "Change your password", "Change password", problem_field="current_password"
    )


@bp.route("/account/email", methods=["GET", "POST"])
@login_required
def change_email():
    form = ChangeEmailForm()
    if form.validate_on_submit():
        with attempt(form):
            services.request_email_change(current_user, form.current_password.data, form.email.data)
            return _message(
                "Check your email",
                f"We have sent a link to {form.email.data}. Your address changes when you "
                "follow it (once, within a day).",
            )
    return _form_page(
        form,
        "Change your email address",
        "Send a confirmation link",
        problem_field="current_password",
    )


@bp.get("/account/email/confirm/<token>")
def confirm_email_change(token: str):
    with attempt() as outcome:
        user = services.confirm_email_change(token)
        return _message(
            "Email address changed",
            f"Your account now uses {user.email}.",
            links=[("Go to your account", url_for("accounts.account"))],
        )
    return _message("That link does not work", outcome.error, status=400)


@bp.post("/account/calendar-address")
@login_required
def reset_calendar():
    services.reset_calendar_token(current_user)
    flash(
        "Your calendar has a new private address. Subscribe to it again: the old one no "
        "longer works.",
        "success",
    )
    return redirect(url_for("enrolment.my_learning") + "#calendar")
