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


class AccessNeedsForm(FlaskForm):
    """The access-needs note alone (changed on a place already held); the enrolment forms
    extend it."""

    access_needs = TextAreaField(
        "Access needs", filters=[clean_text], validators=[Length(max=2000)], description=ACCESS_HINT
    )


class EnrolForm(AccessNeedsForm):
    """Take a place: the optional access-needs note."""


class RequestPlaceForm(AccessNeedsForm):
    """Ask for a place without the prerequisites: why, and the access-needs note."""

    reason = TextAreaField(
        "Your equivalent experience",
        filters=[clean_text],
        validators=[
            DataRequired("Tell the provider about your equivalent experience."),
            Length(max=4000),
        ],
        description="What have you done that covers what the earlier course teaches?",
    )


class WithdrawForm(FlaskForm):
    reason = TextAreaField(
        "Reason (optional)",
        filters=[clean_text],
        validators=[Length(max=1000)],
        description="Optional. It helps the provider plan; there is no penalty for withdrawing.",
    )


class EmptyForm(FlaskForm):
    """A button that needs only the CSRF token."""
