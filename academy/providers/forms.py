"""Provider forms: organisation, invitation, course editor, cohort, session, marks, import.

Every field has a label, a limit and a plain-English error; typed input is kept on error
because the views re-render the same bound form.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    TimeField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional, ValidationError

from academy.accounts.forms import email_field
from academy.catalogue import schedule
from academy.db_types import utcnow
from academy.forms import MultiCheckboxField, clean_line, line_field, optional_id, text_area


def web_address(label: str, invalid: str, description: str = "") -> URLField:
    """An optional web address (at most 500 characters, the columns' size); ``invalid`` is the
    message for something that is not one."""
    return URLField(
        label,
        filters=[clean_line],
        validators=[Optional(), Length(max=500), URL(message=invalid)],
        description=description,
    )


class OrganisationForm(FlaskForm):
    name = line_field("Organisation name", 200, required="Enter the organisation's name.")
    website = web_address("Website (optional)", "Enter a web address like https://example.org.")
    contact_email = email_field("Contact email address")
    description = text_area(
        "Short description",
        2000,
        description="Optional. A few sentences about who you are and what you teach.",
    )

    def details(self) -> dict[str, str | None]:
        """The organisation's details as ``providers.services`` takes them."""
        return {
            "name": self.name.data,
            "website": self.website.data,
            "contact_email": self.contact_email.data,
            "description": self.description.data or "",
        }


class InviteForm(FlaskForm):
    email = email_field("Colleague's email address")
    is_admin = BooleanField("Make them an admin of the organisation")


class RepeatsForm(FlaskForm):
    """Whether learners may hold places on more than one cohort of a course."""

    allow_repeats = BooleanField(
        "Learners may take this course more than once",
        description="For a course meant to be taken again (a refresher). Otherwise a learner"
        " who books a second cohort is offered to move their place.",
    )


class ReasonForm(FlaskForm):
    reason = text_area(
        "Reason",
        2000,
        required="Say why, so the provider knows what to change.",
        description="The provider sees this.",
    )


class CourseForm(FlaskForm):
    reference = line_field(
        "Your reference",
        80,
        required="Enter your reference for the course.",
        description="Your own code for the course, such as KUF-AW-01. Imports match on it.",
    )
    title = line_field("Title", 300, required="Enter a title.")
    summary = text_area(
        "Summary", 1000, description="One or two sentences shown in search results."
    )
    description = text_area("Description", 20000)
    who_its_for = text_area("Who it's for", 5000)
    entry_requirements = text_area("Entry requirements", 5000)
    where_next = text_area("Where next", 5000)
    step = SelectField(
        "Escalator step",
        coerce=optional_id,
        validators=[DataRequired("Choose a step of the escalator.")],
    )
    delivery_mode = SelectField("Delivery mode", coerce=optional_id)
    region = SelectField("Region", coerce=optional_id)
    sectors = MultiCheckboxField(
        "Sectors", coerce=int, description="Leave all unticked if the course suits every sector."
    )
    professions = MultiCheckboxField(
        "Professions",
        coerce=int,
        description="Leave all unticked if the course suits every profession.",
    )
    principles = MultiCheckboxField("Charter principles it addresses", coerce=int)
    prerequisites = SelectMultipleField(
        "Prerequisites",
        coerce=int,
        description="Published courses, of any provider, a learner should complete first.",
        render_kw={"size": 8},
    )
    duration_hours = DecimalField(
        "Duration in hours (optional)",
        places=None,
        validators=[Optional(), NumberRange(min=0, max=10000, message="Enter 0 to 10,000 hours.")],
    )
    cpd_hours = DecimalField(
        "CPD hours (optional)",
        places=None,
        validators=[Optional(), NumberRange(min=0, max=10000, message="Enter 0 to 10,000 hours.")],
    )
    credits = IntegerField(
        "Academic credits (optional)",
        validators=[Optional(), NumberRange(min=1, max=1000, message="Enter 1 to 1,000 credits.")],
    )
    credit_level = line_field(
        "Credit level (optional)", 40, description="For example RQF 6 or SCQF 9."
    )
    cost_type = RadioField(
        "Cost",
        choices=[
            SelectChoice("free", "Free"),
            SelectChoice("funded", "Funded (free to eligible learners)"),
            SelectChoice("fee", "A fee"),
        ],
        default="free",
        validators=[DataRequired("Choose what the course costs.")],
    )
    fee = DecimalField(
        "Fee in pounds",
        places=2,
        validators=[Optional(), NumberRange(min=0, max=100000, message="Enter £0 to £100,000.")],
        description="Only when the course has a fee.",
    )
    lived_experience_codelivery = BooleanField("Co-delivered with people with lived experience")
    external_url = web_address(
        "Web page (optional)", "Enter a web address like https://example.org/course."
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # The fee is optional as a field (Optional stops its own checks), needed for a fee.
        if self.cost_type.data == "fee" and self.fee.data is None and not self.fee.errors:
            self.fee.errors = [*self.fee.errors, "Enter the fee, or choose another cost."]
            valid = False
        return valid

    def model_values(self, terms: dict[str, dict[int, object]], courses: dict[int, object]):
        """The values for ``academy.providers.courses`` (terms and courses as objects)."""
        fee = self.fee.data if self.cost_type.data == "fee" else None
        return {
            "reference": self.reference.data,
            "title": self.title.data,
            "summary": self.summary.data or "",
            "description": self.description.data or "",
            "who_its_for": self.who_its_for.data or "",
            "entry_requirements": self.entry_requirements.data or "",
            "where_next": self.where_next.data or "",
            "step": terms["steps"][self.step.data],
            "delivery_mode": terms["delivery_modes"].get(self.delivery_mode.data),
            "region": terms["regions"].get(self.region.data),
            "sectors": [terms["sectors"][i] for i in self.sectors.data],
            "professions": [terms["professions"][i] for i in self.professions.data],
            "principles": [terms["principles"][i] for i in self.principles.data],
            "prerequisites": [courses[i] for i in self.prerequisites.data],
            "duration_hours": _float(self.duration_hours.data),
            "cpd_hours": _float(self.cpd_hours.data),
            "credits": self.credits.data,
            "credit_level": self.credit_level.data or None,
            "cost_type": self.cost_type.data,
            "fee_pence": int(fee * 100) if fee is not None else None,
            "lived_experience_codelivery": bool(self.lived_experience_codelivery.data),
            "external_url": self.external_url.data or None,
        }


def _float(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


class SessionTimesMixin:
    """A session's day and times on a UK clock, checked by ``academy.catalogue.schedule``: a
    time the clocks skip is refused naming the gap; a time that happens twice follows
    ``schedule.AMBIGUOUS_RULE``, which the hint says. :meth:`session_times` gives the UTC pair."""

    date = DateField(
        "Date",
        validators=[DataRequired("Enter the date, like 2027-03-14.")],
        description="UK time.",
    )
    start_time = TimeField(
        "Starts at",
        validators=[DataRequired("Enter the start time, like 09:30.")],
        description=schedule.AMBIGUOUS_RULE,
    )
    end_time = TimeField("Ends at", validators=[DataRequired("Enter the end time, like 16:30.")])

    def validate_date(self, field) -> None:
        if field.data is None:
            return
        today = schedule.to_local(utcnow()).date()
        if field.data < today:
            raise ValidationError("The date is in the past: enter a date from today.")
        if field.data > schedule.to_local(schedule.horizon(utcnow())).date():
            raise ValidationError(
                f"The date can be at most {schedule.HORIZON_YEARS} years ahead. Check the year."
            )

    def _check_time(self, field) -> None:
        day = self.date.data
        if day is not None and field.data is not None and not self.date.errors:
            if schedule.is_gap(day, field.data):
                raise ValidationError(schedule.gap_message(day, field.data))

    def validate_start_time(self, field) -> None:
        self._check_time(field)

    def validate_end_time(self, field) -> None:
        self._check_time(field)
        if self.start_time.data and field.data and field.data <= self.start_time.data:
            raise ValidationError("The session must end after it starts.")

    def session_times(self, stored: tuple[datetime, datetime] | None = None):
        """The session's start and end as the UTC moments to store (after validation).

        A typed time that reads the same on the wall clock as the ``stored`` one keeps the
        stored moment, so saving a session at 01:30 on the night the clocks go back never moves
        it between the two 01:30s.
        """
        day = self.date.data
        moments = []
        for typed, kept in zip(
            (self.start_time.data, self.end_time.data), stored or (None, None), strict=True
        ):
            if kept is not None:
                local = schedule.to_local(kept)
                if (local.date(), local.time().replace(tzinfo=None)) == (day, typed):
                    moments.append(kept)
                    continue
            moments.append(schedule.to_utc(day, typed).utc)
        return moments[0], moments[1]

    def show_times(self, starts_at, ends_at) -> None:
        """Fill the fields with a stored session's day and times, on the UK clock."""
        start, end = schedule.to_local(starts_at), schedule.to_local(ends_at)
        self.date.data, self.start_time.data, self.end_time.data = (
            start.date(),
            start.time(),
            end.time(),
        )

    def ambiguous_note(self) -> str | None:
        """The clocks-back rule, when it decided one of the typed times; else None."""
        day = self.date.data
        if any(schedule.is_ambiguous(day, t) for t in (self.start_time.data, self.end_time.data)):
            return schedule.AMBIGUOUS_RULE
        return None


_LOOKS_LIKE_A_LINK = re.compile(r"(?i)\b(?:https?://|www\.)")


class CohortPlaceMixin:
    capacity = IntegerField(
        "Places",
        validators=[
            DataRequired("Enter the number of places."),
            NumberRange(min=1, max=10000, message="Enter 1 to 10,000 places."),
        ],
    )
    is_online = BooleanField("Online")
    location = line_field(
        "Place",
        300,
        description="The address where the cohort meets; for an online cohort, optional (such as"
        ' "Zoom"). Everyone can see it on the course page.',
    )
    joining_link = web_address(
        "Joining link (online cohorts)",
        "Enter the whole link, like https://meet.example.org/abc-123.",
        description="Optional. Only learners with a place see it, on My learning and in their"
        " calendar; never the course page.",
    )
    closes_on = DateField(
        "Enrolment closes on (optional)",
        validators=[Optional()],
        description="Leave empty to close when the first session starts. It closes at 23:59 UK"
        " time that day, and must be on or before the day of the first session.",
    )

    def validate_closes_on(self, field) -> None:
        if field.data is None:
            return
        # the new-cohort form has the first session's date; the edit view sets ``first_day``
        date_field = getattr(self, "date", None)
        if date_field is not None and field.data < schedule.to_local(utcnow()).date():
            raise ValidationError("The closing date is in the past: leave it empty or choose a"
                                  " day from today.")  # fmt: skip
        first = date_field.data if date_field is not None else getattr(self, "first_day", None)
        if first is not None and field.data > first:
            raise ValidationError("Enrolment must close on or before the day of the first session.")

    def closes_at(self) -> datetime | None:
        """When enrolment closes, as the UTC moment to store (None: at the first session)."""
        return schedule.closing_moment(self.closes_on.data) if self.closes_on.data else None

    def validate_location(self, field) -> None:
        if not self.is_online.data and not field.data:
            raise ValidationError("Enter where the cohort meets, or tick Online.")
        # the place is public: a link typed here would show the call to everyone
        if field.data and _LOOKS_LIKE_A_LINK.search(field.data):
            raise ValidationError(
                "The place is shown on the course page, so it cannot hold a link. Put a joining"
                " link in its own field."
            )

    def validate_joining_link(self, field) -> None:
        if not field.data:
            return
        if not field.data.lower().startswith("https://"):
            raise ValidationError("Enter a secure link: it starts with https://.")
        if not self.is_online.data:
            raise ValidationError(
                "A joining link is for an online cohort: tick Online, or leave the link empty."
            )


class CohortForm(CohortPlaceMixin, SessionTimesMixin, FlaskForm):
    pass


class CohortEditForm(CohortPlaceMixin, FlaskForm):
    pass


class SessionForm(SessionTimesMixin, FlaskForm):
    pass


class UndoMarkForm(FlaskForm):
    note = line_field(
        "Why (optional)", 1000, description="Shown in the learner's record and the audit log."
    )


class CancelCohortForm(FlaskForm):
    message = text_area(
        "Message to learners (optional)",
        2000,
        description="Sent with the cancellation, for example to suggest another date.",
    )


class DecisionForm(FlaskForm):
    decision = RadioField(
        "Decision",
        choices=[SelectChoice("accept", "Accept"), SelectChoice("decline", "Decline")],
        validators=[DataRequired("Choose accept or decline.")],
    )
    message = text_area("Message to the learner (optional)", 2000)


class ImportForm(FlaskForm):
    file = FileField("CSV file", description="Use the template. At most 10 MB.")
    skip_bad_rows = BooleanField(
        "Import only the good rows",
        description="Without this, a file with any bad row imports nothing. With it, the report"
        " lists the rows left out and why.",
    )


class TermForm(FlaskForm):
    name = line_field("Name", 120, required="Enter a name.")
