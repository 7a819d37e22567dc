"""Curators' forms: bulk decisions on the queue and merging taxonomy values."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired

from academy.forms import text_area


class BulkForm(FlaskForm):
    """One decision for many waiting courses: the ticked ones, or all matching the filters."""

    action = SelectField(
        "Decision",
        choices=[SelectChoice("approve", "Approve"), SelectChoice("reject", "Reject")],
        validators=[InputRequired("Choose approve or reject.")],
    )
    scope = SelectField(
        "Which courses",
        choices=[
            SelectChoice("chosen", "The courses I ticked"),
            SelectChoice("all", "Every course matching the filters"),
        ],
        default="chosen",
    )
    course = SelectMultipleField("Courses", coerce=int, validate_choice=False)
    provider = HiddenField()
    kind = HiddenField()
    age = HiddenField()
    confirmed = HiddenField()
    reason = text_area(
        "Reason (sent to every provider concerned)",
        2000,
        description="Needed to reject. The providers see it.",
    )


class MergeForm(FlaskForm):
    term = IntegerField("Merge", validators=[DataRequired("Choose the value to merge.")])
    into = IntegerField("into", validators=[DataRequired("Choose the value to keep.")])
