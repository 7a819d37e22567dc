"""The form that makes a share link. Every field has a label, a limit and a plain message."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectMultipleField
from wtforms.validators import InputRequired, ValidationError

from academy.forms import line_field
from academy.portfolio.sharing import services as sharing


class ShareLinkForm(FlaskForm):
    entries = SelectMultipleField(
        "Entries to share",
        coerce=int,
        invalid_value_message="Choose entries from the list.",
        invalid_choice_message="Choose entries from the list.",
    )
    label = line_field(
        "Label",
        120,
        required="Give the link a label, such as who it is for.",
        too_long="Labels are at most 120 characters.",
        description="Only you see this, for example “For my appraisal with Dr Khan”.",
    )
    expires_on = DateField(
        "Stops working after",
        validators=[InputRequired("Enter the date the link should stop working.")],
        invalid_value_message="Enter the date like 2026-07-31.",
        description="At most a year from today. The link works until the end of that day.",
    )

    def __init__(self, entries, *args, **kwargs) -> None:
        earliest, default, latest = sharing.expiry_bounds()
        kwargs.setdefault("expires_on", default)
        super().__init__(*args, **kwargs)
        self.entries.choices = [(entry.id, entry.title) for entry in entries]
        self.expires_on.render_kw = {"min": earliest.isoformat(), "max": latest.isoformat()}
        self._bounds = (earliest, latest)

    def validate_entries(self, field) -> None:
        if not field.data:
            raise ValidationError("Choose at least one entry to share.")

    def validate_expires_on(self, field) -> None:
        earliest, latest = self._bounds
        if field.data is None:
            return
        if field.data < earliest:
            raise ValidationError("The date must be today or later.")
        if field.data > latest:
            raise ValidationError("A link can last at most a year: choose an earlier date.")
