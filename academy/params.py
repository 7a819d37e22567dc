"""Every parameter and path value read from a URL or a form is parsed here, the same way.

Ground floor. The rules, whoever reads the value:

* a whole number is ASCII digits only (``str.isdigit`` accepts "²" and "٣", which ``int``
  refuses or reads as another number) and fits the column it is compared with: ids are 32-bit
  (``INT32_MAX``), counts that may grow large 64-bit (``INT64_MAX``);
* a date is ``YYYY-MM-DD`` between ``DATE_MIN`` and ``DATE_MAX`` (so a day added to it, or its
  UTC midnight, is still a date Python and both databases hold);
* text never holds NUL or other control characters (PostgreSQL refuses NUL in text).

``parse_*`` raise :class:`BadValue` (a ``ValueError``) with a message for the person;
``query_*`` read ``request.args`` and answer 400 with that message; :func:`init_app` installs the
URL converters, so ``<int:...>`` takes ASCII digits up to ``INT32_MAX`` and a string path value
takes no control character: anything else is 404 before a view runs.
"""

from __future__ import annotations

import re
from datetime import date

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter, PathConverter, UnicodeConverter

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2999, 12, 31)

_DIGITS = re.compile(r"[0-9]{1,19}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: C0 controls and DEL, and the C1 controls; tab, line feed and carriage return only where a
#: caller allows line breaks
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"[\t\n\r]")


class BadValue(ValueError):
    """A value that does not parse; ``message`` says what was expected, fit to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_int(
    text: str, *, minimum: int = 0, maximum: int = INT32_MAX, what: str = "number"
) -> int:
    """``text`` as a whole number in ``minimum..maximum`` (surrounding spaces allowed).

    :raise BadValue: unless it is ASCII digits and in range.
    """
    value = (text or "").strip()
    if not _DIGITS.fullmatch(value) or not minimum <= int(value) <= maximum:
        raise BadValue(f"The {what} must be a whole number from {minimum} to {maximum}.")
    return int(value)


def int_or_none(text: str | None, *, minimum: int = 0, maximum: int = INT32_MAX) -> int | None:
    """Like :func:`parse_int`, but ``None`` for anything it would refuse (for filters that drop
    an odd value with a notice)."""
    try:
        return parse_int(text or "", minimum=minimum, maximum=maximum)
    except BadValue:
        return None


def keep_ids(values: list[str]) -> list[int]:
    """The values that are ids (ASCII digits, 1 to ``INT32_MAX``); the rest are dropped."""
    return [number for value in values if (number := int_or_none(value, minimum=1)) is not None]


def parse_date(
    text: str, *, earliest: date = DATE_MIN, latest: date = DATE_MAX, what: str = "date"
) -> date:
    """``text`` (``YYYY-MM-DD``) as a date from ``earliest`` to ``latest``.

    :raise BadValue: unless it is such a date.
    """
    value = (text or "").strip()
    try:
        if not _DATE.fullmatch(value):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        raise BadValue(f"The {what} must be a date written like 2026-03-14.") from None
    if not earliest <= day <= latest:
        raise BadValue(f"The {what} must be between {earliest:%Y} and {latest:%Y}.")
    return day


def parse_text(text: str, *, max_length: int, lines: bool = False, what: str = "text") -> str:
    """``text`` stripped of surrounding space, refused if it holds a control character (line
    breaks and tabs only when ``lines``) or is longer than ``max_length``.

    :raise BadValue: otherwise.
    """
    value = (text or "").strip()
    if CONTROL.search(value) or (not lines and _LINE_BREAKS.search(value)):
        raise BadValue(f"The {what} holds a character that cannot be used (a control character).")
    if len(value) > max_length:
        raise BadValue(f"The {what} must be {max_length} characters or fewer.")
    return value


def query_int(
    name: str,
    default: int | None = None,
    *,
    minimum: int = 1,
    maximum: int = INT32_MAX,
    what: str | None = None,
) -> int | None:
    """``request.args[name]`` as a whole number; ``default`` when absent or blank.

    :raise 400: with a message when it is not a whole number in range.
    """
    raw = request.args.get(name, "")
    if not raw.strip():
        return default
    try:
        return parse_int(raw, minimum=minimum, maximum=maximum, what=what or name)
    except BadValue as error:
        abort(400, description=error.message)


def query_date(name: str, default: date | None = None, *, what: str | None = None) -> date | None:
    """``request.args[name]`` as a date; ``default`` when absent or blank.

    :raise 400: with a message when it is not a date in range.
    """
    raw = request.args.get(name, "")
    if not raw.strip():
        return default
    try:
        return parse_date(raw, what=what or name)
    except BadValue as error:
        abort(400, description=error.message)


class AsciiIntConverter(IntegerConverter):
    """``<int:...>``: ASCII digits only, at most ``INT32_MAX`` unless ``max`` says otherwise."""

    regex = r"[0-9]{1,19}"

    def __init__(self, map, fixed_digits=0, min=None, max=INT32_MAX, signed=False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class TextConverter(UnicodeConverter):
    """A string path value (the default converter): no slash and no control character."""

    def __init__(self, map, minlength=1, maxlength=None, length=None) -> None:  # noqa: A002
        super().__init__(map, minlength=minlength, maxlength=maxlength, length=length)
        # the parent's regex is "[^/]{...}"; keep its length part
        self.regex = r"[^/\x00-\x1f\x7f-\x9f]" + self.regex.removeprefix("[^/]")


class SafePathConverter(PathConverter):
    """``<path:...>``: slashes allowed, control characters not."""

    regex = r"[^/\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*?"


def init_app(app: Flask) -> None:
    """Install the converters; call before any blueprint is registered."""
    app.url_map.converters["int"] = AsciiIntConverter
    app.url_map.converters["default"] = TextConverter
    app.url_map.converters["string"] = TextConverter
    app.url_map.converters["path"] = SafePathConverter
