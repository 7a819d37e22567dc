"""Account forms. Every field has a label, a length limit and a plain-English error."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, PasswordField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from academy.accounts.models import REGULATORS
from academy.accounts.passwords import MAX_LENGTH, password_problem
from academy.db_types import utcnow
from academy.forms import (  # noqa: F401  (clean_* re-exported for form modules)
    clean_line,
    clean_text,
    line_field,
    no_nul,
    optional_id,
)
from academy.text import EMAIL_ADDRESS


def email_field(label: str = "Email address") -> EmailField:
    return EmailField(
        label,
        filters=[clean_line],
        validators=[
            DataRequired("Enter your email address."),
            Length(max=254, message="Email addresses are at most 254 characters."),
            Regexp(EMAIL_ADDRESS, message="Enter an email address like name@example.org."),
        ],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )


class NewPasswordMixin:
    def validate_password(self, field) -> None:
        problem = password_problem(
            field.data or "",
            email=getattr(getattr(self, "email", None), "data", "") or "",
            name=getattr(getattr(self, "name", None), "data", "") or "",
        )
        if problem:
            raise ValidationError(problem)


def new_password_field(label: str = "Password") -> PasswordField:
    return PasswordField(
        label,
        validators=[DataRequired("Enter a password."), Length(max=MAX_LENGTH)],
        description="At least 10 characters. A few unrelated words make a strong password.",
        render_kw={"autocomplete": "new-password"},
    )


def name_field():
    """A person's full name: required, one line, at most 120 characters."""
    return line_field(
        "Full name", 120, required="Enter your name.", render_kw={"autocomplete": "name"}
    )


class RegisterForm(NewPasswordMixin, FlaskForm):
    name = name_field()
    email = email_field()
    password = new_password_field()


class LoginForm(FlaskForm):
    email = email_field()
    password = PasswordField(
        "Password",
        filters=[no_nul],
        validators=[DataRequired("Enter your password."), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class ForgotPasswordForm(FlaskForm):
    email = email_field()


class ResetPasswordForm(NewPasswordMixin, FlaskForm):
    password = new_password_field("New password")


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current_password = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password."), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    password = new_password_field("New password")


class ChangeEmailForm(FlaskForm):
    email = email_field("New email address")
    current_password = PasswordField(
        "Your password",
        validators=[DataRequired("Enter your password."), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class PlainDateField(DateField):
    """A date field whose refusal of what was typed reads as plain English."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError("Enter the date as day, month and year, like 2027-03-31.") from error


#: NMC revalidation began in April 2016, and the next one is never more than three years off
REVALIDATION_EARLIEST = date(2016, 4, 1)
REVALIDATION_YEARS_AHEAD = 3


def revalidation_bounds(today: date) -> tuple[date, date]:
    """The earliest and latest revalidation date the profile accepts."""
    try:
        latest = today.replace(year=today.year + REVALIDATION_YEARS_AHEAD)
    except ValueError:  # 29 February
        latest = today.replace(year=today.year + REVALIDATION_YEARS_AHEAD, day=28)
    return REVALIDATION_EARLIEST, latest


class ProfileForm(FlaskForm):
    name = name_field()
    sector_id = SelectField("Sector", coerce=optional_id)
    profession_id = SelectField("Profession", coerce=optional_id)
    region_id = SelectField("Region", coerce=optional_id)
    employer = line_field("Employer (optional)", 200, render_kw={"autocomplete": "organization"})
    regulator = SelectField(
        "Professional regulator (optional)",
        choices=[SelectChoice(value, label) for value, label in REGULATORS.items()],
    )
    revalidation_on = PlainDateField(
        "NMC revalidation date (optional)",
        validators=[Optional()],
        description=(
            "Nurses and midwives: the date your revalidation is due. Your portfolio counts CPD "
            "in the three years before it."
        ),
    )

    def validate_revalidation_on(self, field) -> None:
        if field.data is None:
            return
        earliest, latest = revalidation_bounds(utcnow().date())
        if not earliest <= field.data <= latest:
            raise ValidationError(
                f"Enter a date between {earliest.day} {earliest:%B %Y} and "
                f"{latest.day} {latest:%B %Y}."
            )

    def set_choices(self, sectors, professions, regions) -> None:
        for select, terms in (
            (self.sector_id, sectors),
            (self.profession_id, professions),
            (self.region_id, regions),
        ):
            select.choices = [SelectChoice("", "Not given")] + [
                SelectChoice(t.id, t.name) for t in terms
            ]


class DeleteAccountForm(FlaskForm):
    password = PasswordField(
        "Your password",
        filters=[no_nul],
        validators=[DataRequired("Enter your password."), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    confirm = BooleanField(
        "I understand that my account and portfolio will be deleted and cannot be restored",
        validators=[DataRequired("Tick the box to confirm you want to delete your account.")],
    )
