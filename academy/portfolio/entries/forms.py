"""Portfolio forms: a self-recorded entry, the annotation of a verified one, evidence uploads.

Every field has a label, a limit and a plain-English error; the views re-render the same bound
form on error, so what was typed is kept.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    RadioField,
    SelectField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional, ValidationError
from wtforms.widgets import TextInput

from academy.forms import MultiCheckboxField, line_field, text_area
from academy.portfolio.entries.services import (
    REFLECTION_FIELDS,
    ReflectionNotConfirmed,
    today_on_the_calendar,
)
from academy.portfolio.models import METHODS, THEMES

MAX_HOURS = Decimal(1000)
DATE_EXAMPLE = "14/3/2026"
EARLIEST = date(1950, 1, 1)
TEXT_LIMIT = 10_000
#: the themes each regulator's learners tag entries with (keys of ``THEMES`` start so)
THEME_PREFIXES = {"nmc": "nmc-", "swe": "swe-"}
#: regulators whose learners are asked whether CPD was clinical (RCPsych, for doctors) or
#: whether an entry is a written reflective account (the NMC)
THEME_HINTS = {
    "nmc": "Tick the NMC Code themes it relates to.",
    "swe": "Tick the Social Work England professional standards it relates to.",
}
ASKS_CLINICAL = {"gmc"}
ASKS_REFLECTIVE_ACCOUNT = {"nmc"}
CLINICAL_CHOICES = [
    SelectChoice("", "Not said"),
    SelectChoice("yes", "Clinical"),
    SelectChoice("no", "Non-clinical"),
]


class HoursField(DecimalField):
    """Hours as a number from 0 to 1,000 (quarters and other fractions are fine).

    ``Decimal`` reads "NaN" and "Infinity" too; they are refused here rather than left to fail a
    comparison later.
    """

    def process_formdata(self, valuelist) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        raw = valuelist[0].strip().replace(",", "")
        try:
            value = Decimal(raw) if len(raw) <= 20 else None
        except (InvalidOperation, ValueError):
            value = None
        if value is None or not value.is_finite():
            self.data = None
            raise ValueError("Enter the hours as a number, like 3 or 1.5.")
        self.data = value

    def pre_validate(self, form) -> None:
        if self.data is not None and not (0 <= self.data <= MAX_HOURS):
            raise ValidationError("Enter 0 to 1,000 hours.")


class DayField(DateField):
    """A date typed as day, month and year (``14/3/2026``, ``14-03-2026``, ``14 3 2026``), or as
    ``2026-03-14``. A text box, not the browser's date picker: its hint shows exactly what to
    type, and it is shown back the same way (``14/03/2026``)."""

    widget = TextInput()

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("format", ["%d/%m/%Y", "%Y-%m-%d"])
        render_kw = {"autocomplete": "off", "spellcheck": "false", "class": "date-input"}
        kwargs["render_kw"] = {**render_kw, **kwargs.get("render_kw", {})}
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist) -> None:
        if not valuelist:
            return
        typed = " ".join(str(valuelist[0]).split())
        self.raw_data = [typed]
        if not typed:
            self.data = None
            return
        day_month_year = re.fullmatch(r"(\d{1,2})[ /.-](\d{1,2})[ /.-](\d{4})", typed)
        iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", typed)
        try:
            if day_month_year:
                day, month, year = map(int, day_month_year.groups())
            elif iso:
                year, month, day = map(int, iso.groups())
            else:
                raise ValueError
            self.data = date(year, month, day)
        except ValueError as error:
            self.data = None
            raise ValueError(f"Enter a real date, like {DATE_EXAMPLE}.") from error

    def pre_validate(self, form) -> None:
        if self.data is not None and self.data < EARLIEST:
            raise ValidationError("Enter a date from 1950 onwards.")


def text(label: str, description: str | None = None, limit: int = TEXT_LIMIT) -> TextAreaField:
    """An optional text area of five rows, at most ``limit`` characters."""
    return text_area(label, limit, description=description or "", too_long=_too_long(limit),
                     render_kw={"rows": 5})  # fmt: skip


def line(label: str, limit: int, description: str | None = None, required: str | None = None):
    """A one-line field of at most ``limit`` characters, required when ``required`` is given."""
    return line_field(label, limit, required=required, description=description or "",
                      too_long=_too_long(limit))  # fmt: skip


def _too_long(limit: int) -> str:
    return f"Write at most {limit:,} characters."


class AnnotationForm(FlaskForm):
    """What the learner may add to any entry, verified or self-recorded."""

    clinical = RadioField(
        "Clinical or non-clinical",
        choices=CLINICAL_CHOICES,
        default="",
        invalid_choice_message="Choose clinical, non-clinical or not said.",
    )
    relevance = text(
        "What was the nature of the activity, and how is it relevant to your practice?",
        "Describe the topic and why it matters in your work.",
    )
    learnt = text("What did you learn from it?")
    change_to_practice = text(
        "How did you change or improve your practice as a result?",
    )
    impact = text(
        "What impact has it had on the people you support or work with?",
        "Social Work England asks about the impact on people who use services and colleagues.",
    )
    themes = MultiCheckboxField(
        "How is it relevant to the Code or the standards?",
        choices=[SelectChoice(key, label) for key, label in THEMES.items()],
        description="Tick the NMC Code themes or Social Work England standards it relates to.",
    )
    principles = MultiCheckboxField(
        "Charter principles",
        description="The relational charter principles this learning touched on.",
    )
    peer_name = line(
        "Who you discussed it with (optional)",
        120,
        "A name only if you choose to record it; their role is enough.",
    )
    peer_role = line("Their role", 120, "For example: team leader, fellow social worker.")
    peer_reflection = text(
        "What you discussed",
        "Notes of the reflective discussion, free of anything that could identify a person.",
    )
    is_reflective_account = BooleanField(
        "This is a written reflective account",
        description="The NMC asks for five written reflective accounts in each three years.",
    )
    reflection_confirmed = BooleanField(
        "This reflection contains no information that could identify a person",
    )
    learner_note = text(
        "Your note (optional)", "Anything else you want to remember about this learning.", 5000
    )

    #: the reflection text the learner confirmed before (when editing), which needs no new tick
    confirmed_reflection: tuple[str, ...] | None = None

    def show_for(self, regulator: str | None, entry=None) -> None:
        """Offer only what the learner's regulator asks about: its own themes (and any the entry
        already has), the clinical question for psychiatrists, the reflective-account box for
        nurses. With no regulator in the profile everything is offered. A question not offered
        is removed from the form, so an entry keeps what it had for it."""
        if not regulator:
            return
        had = set(entry.themes or []) if entry is not None else set()
        prefix = THEME_PREFIXES.get(regulator)
        self.themes.choices = [
            SelectChoice(key, label)
            for key, label in THEMES.items()
            if (prefix and key.startswith(prefix)) or key in had
        ]
        self.themes.description = THEME_HINTS.get(regulator, self.themes.description)
        if not self.themes.choices:
            del self.themes
        if regulator not in ASKS_CLINICAL:
            del self.clinical
        if regulator not in ASKS_REFLECTIVE_ACCOUNT:
            del self.is_reflective_account

    def reflection_text(self) -> tuple[str, ...]:
        return tuple((self[name].data or "").strip() for name in REFLECTION_FIELDS)

    def validate_reflection_confirmed(self, field) -> None:
        """Checked with every other field, so this error comes with the rest, not after them."""
        text = self.reflection_text()
        marked = "is_reflective_account" in self and bool(self.is_reflective_account.data)
        if field.data or not (marked or any(text)):
            return
        if self.confirmed_reflection is not None and text == self.confirmed_reflection:
            return
        raise ValidationError(ReflectionNotConfirmed().message)

    def set_principles(self, principles, chosen: list[str] | None = None) -> None:
        """Offer the charter principles that are not retired, and any already chosen."""
        chosen = set(chosen or [])
        self.principles.choices = [
            SelectChoice(p.slug, p.name)
            for p in principles
            if p.retired_at is None or p.slug in chosen
        ]

    def annotation_values(self) -> dict:
        """The answers, for ``entries.services``; a question not offered is left out."""
        values = {
            "relevance": self.relevance.data or "",
            "learnt": self.learnt.data or "",
            "change_to_practice": self.change_to_practice.data or "",
            "impact": self.impact.data or "",
            "principles": list(self.principles.data or []),
            "peer_name": self.peer_name.data or "",
            "peer_role": self.peer_role.data or "",
            "peer_reflection": self.peer_reflection.data or "",
            "learner_note": self.learner_note.data or "",
        }
        if "clinical" in self:
            values["clinical"] = {"yes": True, "no": False}.get(self.clinical.data)
        if "themes" in self:
            values["themes"] = list(self.themes.data or [])
        if "is_reflective_account" in self:
            values["is_reflective_account"] = bool(self.is_reflective_account.data)
        return values

    @staticmethod
    def initial(entry) -> dict:
        """Form data for an existing entry (the confirmation box always starts unticked)."""
        return {
            "clinical": {True: "yes", False: "no"}.get(entry.clinical, ""),
            "relevance": entry.relevance,
            "learnt": entry.learnt,
            "change_to_practice": entry.change_to_practice,
            "impact": entry.impact,
            "themes": [t for t in entry.themes or [] if t in THEMES],
            "principles": list(entry.principles or []),
            "peer_name": entry.peer_name,
            "peer_role": entry.peer_role,
            "peer_reflection": entry.peer_reflection,
            "is_reflective_account": entry.is_reflective_account,
            "learner_note": entry.learner_note,
        }


class EntryForm(AnnotationForm):
    """A self-recorded entry: the record itself as well as the annotations."""

    title = line("Title", 300, "What the learning was called.", "Enter a title.")
    provider_name = line(
        "Provider or organiser (optional)", 200, "Who ran it, or leave empty for your own study."
    )
    method = SelectField(
        "How you learnt",
        choices=[
            SelectChoice("", "Choose one (optional)"),
            *(SelectChoice(key, label) for key, label in METHODS.items()),
        ],
        default="",
        invalid_choice_message="Choose how you learnt from the list.",
    )
    started_on = DayField(
        "Start date (optional)",
        validators=[Optional()],
        description=f"For learning that spanned more than a day: day, month and year, for example"
        f" {DATE_EXAMPLE}.",
    )
    completed_on = DayField(
        "Date (or end date)",
        # InputRequired, not DataRequired: the latter would hide "Enter a real date"
        validators=[InputRequired(f"Enter the date, like {DATE_EXAMPLE}.")],
        description=f"Day, month and year, for example {DATE_EXAMPLE}. Not in the future.",
    )
    hours = HoursField(
        "Hours (optional)",
        validators=[Optional()],
        description="Up to 1,000. Quarter hours are fine, like 1.25.",
        render_kw={"step": "0.25", "min": "0", "max": "1000", "inputmode": "decimal"},
    )
    participatory_hours = HoursField(
        "Of which participatory hours (optional)",
        validators=[Optional()],
        description="Time spent learning with other people; not more than the hours above.",
        render_kw={"step": "0.25", "min": "0", "max": "1000", "inputmode": "decimal"},
    )

    def validate_completed_on(self, field) -> None:
        if field.data is None:
            return
        if field.data > today_on_the_calendar():
            raise ValidationError("The date cannot be in the future.")
        if self.started_on.data and field.data < self.started_on.data:
            raise ValidationError("The end date cannot be before the start date.")

    def validate_participatory_hours(self, field) -> None:
        if field.data is None:
            return
        if self.hours.data is None:
            raise ValidationError("Enter the hours as well as the participatory hours.")
        if self.hours.data is not None and field.data > self.hours.data:
            raise ValidationError("Participatory hours cannot be more than the hours.")

    def record_values(self) -> dict:
        return {
            "title": self.title.data,
            "provider_name": self.provider_name.data or "",
            "method": self.method.data or "",
            "started_on": self.started_on.data,
            "completed_on": self.completed_on.data,
            "hours": self.hours.data,
            "participatory_hours": self.participatory_hours.data,
        }

    @staticmethod
    def initial(entry) -> dict:
        def hours(value: float | None) -> Decimal | None:
            return None if value is None else Decimal(str(value))

        return {
            **AnnotationForm.initial(entry),
            "title": entry.title,
            "provider_name": entry.provider_name,
            "method": entry.method if entry.method in METHODS else "",
            "started_on": entry.started_on,
            "completed_on": entry.completed_on,
            "hours": hours(entry.hours),
            "participatory_hours": hours(entry.participatory_hours),
        }


class EvidenceForm(FlaskForm):
    file = FileField(
        "Add a file",
        description="A PDF, PNG or JPEG of at most 10 MB, such as a certificate or notes."
        " Up to 10 files an entry.",
    )
