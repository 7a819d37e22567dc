"""Enrolment forms: optional notes, each with a length limit."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from academy.forms import clean_text

ACCESS_HINT = (
    "Optional. Anything the provider should arrange so you can take part. Only you and the "
    "provider's staff see this."
)


class EnrolForm(FlaskForm):
    access_needs = TextAreaField(
        "Access needs", filters=[clean_text], validators=[Length(max=2000)], description=ACCESS_HINT
    )


class RequestPlaceForm(FlaskForm):
    reason = TextAreaField(
        "Your equivalent experience",
        filters=[clean_text],
        validators=[
            DataRequired("Tell the provider about your equivalent experience."),
            Length(max=4000),
        ],
        description="What have you done that covers what the earlier course teaches?",
    )
    access_needs = TextAreaField(
        "Access needs", filters=[clean_text], validators=[Length(max=2000)], description=ACCESS_HINT
    )


class WithdrawForm(FlaskForm):
    reason = TextAreaField(
        "Reason (optional)",
        filters=[clean_text],
        validators=[Length(max=1000)],
        description="Optional. It helps the provider plan; there is no penalty for withdrawing.",
    )


class AccessNeedsForm(FlaskForm):
    access_needs = TextAreaField(
        "Access needs", filters=[clean_text], validators=[Length(max=2000)], description=ACCESS_HINT
    )


class EmptyForm(FlaskForm):
    """A button that needs only the CSRF token."""
