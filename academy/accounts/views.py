"""Register, confirm, log in and out, reset and change the password or email, edit the profile."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from academy.accounts import erasure, services
from academy.accounts.forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    DeleteAccountForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
)
from academy.accounts.security import log_in, log_out, safe_next
from academy.extensions import db
from academy.taxonomy.models import Profession, Region, Sector

bp = Blueprint("accounts", __name__)


def _form_page(form, heading: str, submit: str, status: int = 200, **extra):
    return (
        render_template(
            "accounts/form_page.html", form=form, heading=heading, submit=submit, **extra
        ),
        status,
    )


def _message(heading: str, *paragraphs: str, links=(), status: int = 200):
    return (
        render_template(
            "accounts/message.html", heading=heading, paragraphs=paragraphs, links=links
        ),
        status,
    )


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("enrolment.my_learning"))
    form = RegisterForm()
    problem = None
    if form.validate_on_submit():
        try:
            services.register(form.name.data, form.email.data, form.password.data)
        except services.AccountError as error:
            db.session.rollback()
            problem = error.message
        else:
            db.session.commit()
            return _check_email(form.email.data)
    return _form_page(
        form,
        "Create an account",
        "Create account",
        status=200 if request.method == "GET" or not (form.errors or problem) else 422,
        problem=problem,
        problem_field="password",
        intro="Anyone may join: you need no NHS account or employer sponsor.",
        links=[("I already have an account: log in", url_for("accounts.login"))],
    )


def _check_email(address: str):
    return _message(
        "Check your email",
        f"We have sent a message to {address}. Follow the link in it to finish creating your "
        "account. The link works for 3 days.",
        "If nothing arrives within a few minutes, check your spam folder, or register again.",
    )


@bp.get("/register/confirm/<token>")
def confirm(token: str):
    try:
        user = services.confirm_email(token)
    except services.InvalidToken as error:
        db.session.rollback()
        return _message(
            "That link does not work",
            error.message,
            links=[("Register", url_for("accounts.register"))],
            status=400,
        )
    log_in(user)
    db.session.commit()
    flash("Your email address is confirmed and you are logged in. Welcome.", "success")
    return redirect(url_for("enrolment.my_learning"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    target = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(target or url_for("enrolment.my_learning"))
    form = LoginForm()
    problem = None
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(
                form.email.data, form.password.data, request.remote_addr or "unknown"
            )
        except services.LoginThrottled as error:
            db.session.rollback()
            problem, status = error.message, 429
        except services.AccountError as error:
            db.session.commit()  # keep the recorded failure (or the new confirmation link)
            problem, status = error.message, 422
        else:
            services.purge_old_attempts()
            log_in(user)
            db.session.commit()
            flash(f"You are logged in as {user.email}.", "success")
            return redirect(target or url_for("enrolment.my_learning"))
    elif form.errors:
        status = 422
    return _form_page(
        form,
        "Log in",
        "Log in",
        status=status,
        problem=problem,
        problem_field="email",
        action=url_for("accounts.login", next=target) if target else url_for("accounts.login"),
        links=[
            ("Forgotten your password?", url_for("accounts.forgot_password")),
            ("Create an account", url_for("accounts.register")),
        ],
    )


@bp.post("/logout")
def logout():
    log_out()
    db.session.commit()
    flash("You have logged out.", "success")
    return redirect(url_for("main.home"))


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        return _message(
            "Check your email",
            f"If {form.email.data} has an account, we have sent it a link to choose a new "
            "password. The link works once, within an hour.",
        )
    return _form_page(
        form,
        "Forgotten your password?",
        "Send me a link",
        status=422 if form.errors else 200,
        intro="Enter your email address and we will send you a link to choose a new password.",
    )


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        services.check_reset_token(token)
    except services.InvalidToken as error:
        return _message(
            "That link does not work",
            error.message,
            links=[("Ask for a new link", url_for("accounts.forgot_password"))],
            status=400,
        )
    form = ResetPasswordForm()
    problem = None
    if form.validate_on_submit():
        try:
            user = services.reset_password(token, form.password.data)
        except services.AccountError as error:
            db.session.rollback()
            problem = error.message
        else:
            log_in(user)
            db.session.commit()
            flash("Your password is changed and you are logged in.", "success")
            return redirect(url_for("enrolment.my_learning"))
    return _form_page(
        form,
        "Choose a new password",
        "Save new password",
        status=422 if (form.errors or problem) else 200,
        problem=problem,
        problem_field="password",
    )


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
        db.session.commit()
        flash("Your profile is saved.", "success")
        return redirect(url_for("accounts.account"))
    return (
        render_template("accounts/account.html", form=form),
        422 if form.errors else 200,
    )


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    problem = None
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data, form.password.data)
        except services.AccountError as error:
            db.session.rollback()
            problem = error.message
        else:
            db.session.commit()
            flash("Your password is changed. Other devices have been logged out.", "success")
            return redirect(url_for("accounts.account"))
    return _form_page(
        form,
        "Change your password",
        "Change password",
        status=422 if (form.errors or problem) else 200,
        problem=problem,
        problem_field="current_password",
    )


@bp.route("/account/email", methods=["GET", "POST"])
@login_required
def change_email():
    form = ChangeEmailForm()
    problem = None
    if form.validate_on_submit():
        try:
            services.request_email_change(current_user, form.current_password.data, form.email.data)
        except services.AccountError as error:
            db.session.rollback()
            problem = error.message
        else:
            db.session.commit()
            return _message(
                "Check your email",
                f"We have sent a link to {form.email.data}. Your address changes when you "
                "follow it (within a day).",
            )
    return _form_page(
        form,
        "Change your email address",
        "Send a confirmation link",
        status=422 if (form.errors or problem) else 200,
        problem=problem,
        problem_field="current_password",
    )


@bp.get("/account/email/confirm/<token>")
def confirm_email_change(token: str):
    try:
        user = services.confirm_email_change(token)
    except services.InvalidToken as error:
        db.session.rollback()
        return _message("That link does not work", error.message, status=400)
    db.session.commit()
    return _message(
        "Email address changed",
        f"Your account now uses {user.email}.",
        links=[("Go to your account", url_for("accounts.account"))],
    )


@bp.post("/account/calendar-address")
@login_required
def reset_calendar():
    services.reset_calendar_token(current_user)
    db.session.commit()
    flash(
        "Your calendar has a new private address. Subscribe to it again: the old one no "
        "longer works.",
        "success",
    )
    return redirect(url_for("enrolment.my_learning") + "#calendar")


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
def delete_account():
    form = DeleteAccountForm()
    problem = None
    if form.validate_on_submit():
        try:
            done = erasure.erase_account(current_user, form.password.data)
        except services.AccountError as error:
            db.session.rollback()
            problem = error.message
        else:
            log_out()
            db.session.commit()
            erasure.remove_files(done)
            flash(
                "Your account is deleted. Your portfolio, evidence and share links are gone, "
                "and you have been logged out.",
                "success",
            )
            return redirect(url_for("main.home"), code=303)
    data_zip = "portfolio_exports.data_zip"
    return (
        render_template(
            "accounts/delete.html",
            form=form,
            problem=problem,
            blocking=erasure.sole_admin_of(current_user),
            data_zip_url=(url_for(data_zip) if data_zip in current_app.view_functions else None),
        ),
        422 if (form.errors or problem) else 200,
    )
