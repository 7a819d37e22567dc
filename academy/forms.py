"""Shared form pieces, on the ground floor: field filters every form uses and small forms.

The filters clean what people type with :mod:`academy.text`'s rules (the same as CSV imports and
URL parameters), and pass anything that is not a string (a missing field) through unchanged.
:func:`line_field` and :func:`text_area` are the typed-text fields with those filters and a
length limit (which ``errors/limits.py`` shows and refuses beyond, never cuts).
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from academy import params, text


def clean_line(value):
    """Field filter: a one-line value without control or zero-width characters, spaces collapsed
    and stripped (PostgreSQL refuses NUL)."""
    return text.clean_line(value) if isinstance(value, str) else value


def clean_text(value):
    """Field filter: like :func:`clean_line` but keeps line breaks (for text areas)."""
    return text.clean_text(value) if isinstance(value, str) else value


def no_nul(value):
    """Field filter for secrets (passwords): only NUL is removed, nothing else is changed."""
    return value.replace("\x00", "") if isinstance(value, str) else value


def optional_id(value):
    """Coerce for an optional choice of id: ``""`` means not given; anything but an id (ASCII
    digits within 32 bits) gives -1, which no choice has, so the choice is refused."""
    if value in ("", None):
        return None
    number = params.int_or_none(str(value), minimum=1)
    return -1 if number is None else number


def _limits(required: str | None, max_length: int, too_long: str | None) -> list:
    """``Length(max=max_length)`` (with ``too_long`` as its message, if given), after
    ``DataRequired(required)`` when a message is given."""
    return [
        *([DataRequired(required)] if required else []),
        Length(max=max_length, message=too_long),
    ]


def line_field(label: str, max_length: int, **options) -> StringField:
    """A one-line text field cleaned by :func:`clean_line`; ``options`` as :func:`_text_field`."""
    return _text_field(StringField, clean_line, label, max_length, **options)


def text_area(label: str, max_length: int, **options) -> TextAreaField:
    """A text area cleaned by :func:`clean_text` (line breaks kept); ``options`` as
    :func:`_text_field`."""
    return _text_field(TextAreaField, clean_text, label, max_length, **options)


def _text_field(
    field_class,
    cleaner,
    label: str,
    max_length: int,
    *,
    required: str | None = None,
    description: str = "",
    too_long: str | None = None,
    **field_args,
):
    """A ``field_class`` field cleaned by ``cleaner``, refused over ``max_length`` characters
    (with ``too_long`` if given) and, when ``required`` is a message, refused empty with it.
    ``field_args`` go to the field (``render_kw``, ``default``)."""
    return field_class(
        label,
        filters=[cleaner],
        validators=_limits(required, max_length, too_long),
        description=description,
        **field_args,
    )


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes: easier than a multiple select on a phone and with a keyboard. A
    choice not listed is refused with a plain message."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("invalid_choice_message", "Choose only from the options listed.")
        super().__init__(*args, **kwargs)


class EmptyForm(FlaskForm):
    """A form with no fields: a button that changes something, protected by CSRF."""
