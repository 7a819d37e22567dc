"""Forms for the learner's credentials: issuing (nothing to fill in) and revoking (a reason)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length

from academy.credentials.openbadges import REASON_MAX
from academy.forms import clean_line


class IssueCredentialForm(FlaskForm):
    """Only the CSRF token."""


class RevokeCredentialForm(FlaskForm):
    reason = TextAreaField(
        "Reason (optional)",
        filters=[clean_line],
        validators=[Length(max=REASON_MAX, message=f"Keep the reason to {REASON_MAX} characters.")],
        description="Anyone who checks the credential sees this reason and the date.",
    )
