"""Shared form pieces, on the ground floor: field filters every form uses and small forms.

The filters clean what people type with :mod:`academy.text`'s rules (the same as CSV imports and
URL parameters), and pass anything that is not a string (a missing field) through unchanged.
"""

from __future__ import annotations

from flask_wtf import FlaskForm

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


class EmptyForm(FlaskForm):
    """A form with no fields: a button that changes something, protected by CSRF."""
