"""Template filters for dates, money and hours, shown in UK time and British English, and the
page numbers a pagination bar shows."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app


def local_time(value: datetime) -> datetime:
    """Return ``value`` in the display time zone (UK time by default)."""
    return value.astimezone(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"]))


def format_date(value: datetime | None) -> str:
    """``Tue 3 March 2026`` in UK time; empty for ``None``."""
    if value is None:
        return ""
    local = local_time(value)
    return f"{local:%a} {local.day} {local:%B %Y}"


def format_time(value: datetime | None) -> str:
    """``09:30`` in UK time; empty for ``None``."""
    return "" if value is None else f"{local_time(value):%H:%M}"


def format_hours(value: float | None) -> str:
    """``21 hours``, ``1.5 hours``, ``1 hour``; empty for ``None``."""
    if value is None:
        return ""
    number = f"{value:g}"
    return f"{number} hour" if value == 1 else f"{number} hours"


def format_cost(course) -> str:
    """A course's cost in words: ``Free``, ``Funded`` or ``£450`` / ``£1,250.50``."""
    if course.cost_type == "free":
        return "Free"
    if course.cost_type == "funded":
        return "Funded"
    pence = course.fee_pence or 0
    pounds, rest = divmod(pence, 100)
    return f"£{pounds:,}" if rest == 0 else f"£{pounds:,}.{rest:02d}"


_IRREGULAR = {"person": "people", "is": "are", "has": "have", "was": "were"}


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 learner``, ``2 learners``, ``0 places``, ``1 person``, ``3 people``: the count and
    the word, singular only for exactly one. ``many`` gives an irregular plural; common ones
    (person, is, has, was) and words ending in s, x, ch or sh are known. Also the Jinja filter
    ``plural`` (``{{ n|plural('learner') }}``)."""
    if count == 1:
        return f"{count} {word}"
    if many is None:
        many = _IRREGULAR.get(word)
    if many is None:
        many = word + ("es" if word.endswith(("s", "x", "ch", "sh")) else "s")
    return f"{count:,} {many}"


def page_window(page: int, pages: int, around: int = 2) -> list[int | None]:
    """The page numbers to link from page ``page`` of ``pages``: the first, the last, and those
    within ``around`` of ``page``, with ``None`` where a run of numbers is left out. Its length
    does not grow with ``pages``."""
    shown: list[int | None] = []
    for number in sorted({1, pages, *range(max(1, page - around), min(pages, page + around) + 1)}):
        if shown and number - (shown[-1] or 0) > 1:
            shown.append(None)
        shown.append(number)
    return shown


def init_app(app: Flask) -> None:
    app.add_template_global(page_window, "page_window")
    app.add_template_filter(format_date, "date")
    app.add_template_filter(format_time, "time")
    app.add_template_filter(format_hours, "hours")
    app.add_template_filter(format_cost, "cost")
    app.add_template_filter(plural, "plural")
