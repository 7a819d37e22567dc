"""Finding and replacing a person's name and address in stored text (for account erasure).

Ground floor: the mail outbox and the audit log both scrub a deleted learner out of text that
other people's records keep.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, func, or_

DELETED_NAME = "Deleted learner"
DELETED_ADDRESS = "a deleted address"


def mentions(column, text: str) -> ColumnElement[bool]:
    """``column`` contains ``text``, ignoring case (SQLite's ``lower`` folds ASCII only, so the
    text is also looked for as typed)."""
    return or_(
        column.contains(text, autoescape=True),
        func.lower(column).contains(text.lower(), autoescape=True),
    )


def name_pattern(name: str) -> re.Pattern[str] | None:
    """Whole words only: erasing "Sam Lee" must not touch "Sam Leeson"; ``None`` for a blank
    name."""
    if not name.strip():
        return None
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)


def scrub(text: str, pattern: re.Pattern[str] | None, email: str) -> str:
    """``text`` with ``email`` and the name matched by ``pattern`` replaced."""
    text = re.sub(re.escape(email), DELETED_ADDRESS, text, flags=re.IGNORECASE)
    if pattern is not None:
        text = pattern.sub(DELETED_NAME, text)
    return text
