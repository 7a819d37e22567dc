"""Enrolment forms: optional notes, each with a length limit."""

from __future__ import annotations

from flask_wtf import FlaskForm

from academy.forms import text_area

ACCESS_HINT = (
    "Optional. Anything the provider should arrange so you can take part. Only you and the "
    "provider's staff see this."
)


class AccessNeedsForm(FlaskForm):
    """The access-needs note alone (changed on a place already held); the enrolment forms
    extend it."""

    access_needs = text_area("Access needs", 2000, description=ACCESS_HINT)


class EnrolForm(AccessNeedsForm):
    """Take a place: the optional access-needs note."""


class RequestPlaceForm(AccessNeedsForm):
    """Ask for a place without the prerequisites: why, and the access-needs note."""

    reason = text_area(
        "Your equivalent experience",
        4000,
        required="Tell the provider about your equivalent experience.",
        description="What have you done that covers what the earlier course teaches?",
    )


class WithdrawForm(FlaskForm):
    reason = text_area(
        "Reason (optional)",
        1000,
        description="Optional. It helps the provider plan; there is no penalty for withdrawing.",
    )
